"""Types shared by the document engine's parts (barcode, MRZ, printed text, integrity).

Field values are normalised so that sources can be compared:

* dates are ISO ``YYYY-MM-DD`` strings;
* names are upper case, single-spaced, without diacritics;
* ``sex`` is ``M``, ``F`` or ``X``;
* countries are ISO 3166-1 alpha-3 (``USA``), US states two-letter codes (``VA``).

Canonical field names (use these, add new ones here):

``family_name``, ``given_names``, ``middle_names``, ``name_suffix``, ``birth_date``,
``expiry_date``, ``issue_date``, ``document_number``, ``sex``, ``nationality``,
``issuing_country``, ``issuing_state``, ``address_street``, ``address_city``,
``address_state``, ``address_postal_code``, ``document_discriminator``,
``real_id_compliance``, ``vehicle_class``, ``height``, ``eye_color``, ``optional_data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from openidv.checks import CheckResult, Status, overall_status
from openidv.decision.severity import with_severity


class DocumentType(StrEnum):
    """What a document (or one side of it) is."""

    US_DL_ID = "us_dl_id"  #: US driver's licence or ID card (front and back together)
    US_DL_FRONT = "us_dl_front"  #: US driver's licence or ID card, front
    US_DL_BACK = "us_dl_back"  #: US driver's licence or ID card, back (PDF417)
    PASSPORT_TD3 = "passport_td3"  #: passport data page, 2 x 44 MRZ
    CARD_TD1 = "card_td1"  #: passport card / ID card with a 3 x 30 MRZ
    CARD_TD2 = "card_td2"  #: ID document with a 2 x 36 MRZ
    VISA = "visa"  #: machine-readable visa (MRV-A / MRV-B)
    UNKNOWN = "unknown"


class FieldSource(StrEnum):
    BARCODE = "barcode"
    MRZ = "mrz"
    PRINTED = "printed"


@dataclass(frozen=True)
class FieldValue:
    """One extracted field: canonical name, normalised value, where it came from."""

    name: str
    value: str
    source: FieldSource
    raw: str = ""  #: the value as read, before normalisation
    confidence: float | None = None  #: OCR confidence in [0, 1] where there is one

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "source": self.source.value}
        if self.raw and self.raw != self.value:
            out["raw"] = self.raw
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 3)
        return out


@dataclass(eq=False)
class DocumentReport:
    """Everything the document engine found about one document (front and/or back)."""

    type: DocumentType
    issuer: str | None  #: e.g. "US-VA" for a Virginia licence, "USA" for a US passport
    fields: list[FieldValue] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    portrait: np.ndarray | None = field(default=None, repr=False)  #: RGB crop of the portrait
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  #: intermediate steps, for reviewers

    @property
    def status(self) -> Status:
        return overall_status(self.checks)

    def field(self, name: str, source: FieldSource | None = None) -> FieldValue | None:
        for f in self.fields:
            if f.name == name and (source is None or f.source is source):
                return f
        return None

    def fields_by_name(self) -> dict[str, dict[str, Any]]:
        """``name -> {value, source}``; the barcode, then the MRZ, then printed text wins."""
        order = {FieldSource.BARCODE: 0, FieldSource.MRZ: 1, FieldSource.PRINTED: 2}
        out: dict[str, dict[str, Any]] = {}
        for f in sorted(self.fields, key=lambda f: order[f.source]):
            out.setdefault(f.name, f.to_dict())
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "issuer": self.issuer,
            "status": self.status.value,
            "fields": self.fields_by_name(),
            "all_fields": [{"name": f.name, **f.to_dict()} for f in self.fields],
            "checks": [with_severity(c).to_dict() for c in self.checks],
            "portrait_found": self.portrait is not None,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "notes": self.notes,
        }


def check(
    name: str, status: Status, reason: str, score: float | None = None, detail: str = "", **data: Any
) -> CheckResult:
    """Shorthand to build a :class:`CheckResult`."""
    return CheckResult(name, status, reason, score, detail, dict(data))
