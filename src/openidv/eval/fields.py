"""Printed-field reading on labelled real documents (``openidv eval fields``).

LABELS.tsv: tab-separated with a header holding ``file`` and any of ``state``,
``document_number``, ``family_name``, ``given_names``, ``birth_date``, ``expiry_date``,
``issue_date``, ``sex`` (other columns, such as ``notes``, are ignored). ``file`` is relative
to ``root`` (default: the TSV's folder). An empty cell is a value the labeller could not read:
it is not counted. Dates are ``YYYY-MM-DD``; ``state`` is a two-letter US code (the engine's
issuer ``US-XX`` matches ``XX``).

Each image goes through the whole document engine as a front alone
(:func:`openidv.document.engine.analyse_document`). A field is correct when the engine's
value (barcode, then MRZ, then printed text) equals the label once both are normalised
(:func:`comparable`: upper case, spaces and punctuation removed, so ``S514-172-80-844-0``
equals ``S514172808440`` and ``TINA, A`` equals ``TINA A``). A field the engine did not
report counts as wrong. ``false_alarms`` counts, per check, the images on which it failed:
the images are genuine, so every failure is a false alarm, except ``document_not_expired``,
``age_at_least_*`` and ``specimen``, which judge the holder or a sample card, not the image.
``ms_per_image`` is wall time per image, decoding included, after the models are loaded.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from openidv.checks import Status
from openidv.document.normalize import comparable
from openidv.errors import DataFormatError
from openidv.eval.tsv import read_rows

#: Label columns compared with the engine's fields of the same name.
FIELD_COLUMNS = (
    "document_number",
    "family_name",
    "given_names",
    "birth_date",
    "expiry_date",
    "issue_date",
    "sex",
)
#: Failing checks that are not false alarms on genuine sample cards: they judge the holder or the sample.
NOT_FALSE_ALARMS = ("document_not_expired", "age_at_least_", "specimen")


@dataclass(frozen=True)
class LabelledDocument:
    file: str
    issuer: str  #: two-letter state code, "" when not labelled
    fields: dict[str, str]  #: column -> label (non-empty only)


@dataclass(frozen=True)
class DocumentOutcome:
    case: LabelledDocument
    issuer: str | None  #: the engine's issuer, e.g. "US-OH"
    read: dict[str, str]  #: field -> the engine's value
    failed_checks: list[str]
    ms: float

    @property
    def issuer_correct(self) -> bool:
        return bool(self.case.issuer) and _issuer_code(self.issuer) == self.case.issuer.upper()

    def correct(self, name: str) -> bool:
        return comparable(self.read.get(name, "")) == comparable(self.case.fields[name])

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.case.file,
            "issuer_expected": self.case.issuer,
            "issuer_read": self.issuer,
            "issuer_correct": self.issuer_correct,
            "fields": {
                name: {"expected": label, "read": self.read.get(name), "correct": self.correct(name)}
                for name, label in self.case.fields.items()
            },
            "failed_checks": self.failed_checks,
            "ms": round(self.ms, 1),
        }


@dataclass
class FieldsEvalResult:
    documents: list[DocumentOutcome] = field(default_factory=list)

    def to_dict(self, *, details: bool = False) -> dict[str, Any]:
        per_field: dict[str, dict[str, int]] = {}
        for name in FIELD_COLUMNS:
            cases = [d for d in self.documents if name in d.case.fields]
            if cases:
                per_field[name] = {"correct": sum(d.correct(name) for d in cases), "total": len(cases)}
        alarms = Counter(c for d in self.documents for c in d.failed_checks if not _excluded(c))
        n = len(self.documents)
        out: dict[str, Any] = {
            "n": n,
            "issuer_correct": sum(d.issuer_correct for d in self.documents),
            "fields": per_field,
            "fields_correct": sum(v["correct"] for v in per_field.values()),
            "fields_total": sum(v["total"] for v in per_field.values()),
            "false_alarms": dict(sorted(alarms.items())),
            "ms_per_image": round(sum(d.ms for d in self.documents) / n, 1) if n else None,
        }
        if details:
            out["documents"] = [d.to_dict() for d in self.documents]
        return out


def _excluded(check_name: str) -> bool:
    return any(check_name.startswith(prefix) for prefix in NOT_FALSE_ALARMS)


def _issuer_code(issuer: str | None) -> str:
    """``US-OH`` -> ``OH``; anything else upper-cased as is."""
    text = (issuer or "").upper()
    return text.split("-", 1)[1] if re.fullmatch(r"US-[A-Z]{2}", text) else text


def load_labels(tsv: Path) -> list[LabelledDocument]:
    """Read LABELS.tsv; a missing file, header or ``file`` column is a :class:`DataFormatError`."""
    rows = read_rows(tsv)
    if not rows or "file" not in rows[0]:
        raise DataFormatError(f"{tsv}: needs a header with file and label columns ({', '.join(FIELD_COLUMNS)})")
    out = []
    for i, row in enumerate(rows, start=2):
        if not (row.get("file") or "").strip():
            raise DataFormatError(f"{tsv}:{i}: empty file name")
        labels = {c: (row.get(c) or "").strip() for c in FIELD_COLUMNS}
        out.append(
            LabelledDocument(
                row["file"].strip(), (row.get("state") or "").strip(), {k: v for k, v in labels.items() if v}
            )
        )
    return out


def evaluate_fields(tsv: Path, root: Path | None = None, *, today: date | None = None) -> FieldsEvalResult:
    """Run the document engine on every labelled front and score its fields and issuer."""
    from openidv.document.engine import analyse_document
    from openidv.document.mrz_ocr import warm_up

    cases = load_labels(tsv)
    base = root if root is not None else tsv.parent
    missing = [c.file for c in cases if not (base / c.file).is_file()]
    if missing:
        raise DataFormatError(f"{base / missing[0]} (listed in {tsv}) does not exist")
    warm_up()  # model loading is not counted in ms_per_image
    result = FieldsEvalResult()
    for case in cases:
        t = time.perf_counter()
        report = analyse_document((base / case.file).read_bytes(), today=today or date.today())
        ms = (time.perf_counter() - t) * 1000
        read = {name: str(v["value"]) for name, v in report.fields_by_name().items()}
        failed = [c.name for c in report.checks if c.status is Status.FAIL]
        result.documents.append(DocumentOutcome(case, report.issuer, read, failed, ms))
    return result


def format_report(result: FieldsEvalResult) -> str:
    d = result.to_dict()
    n = d["n"]
    lines = [
        f"labelled documents: {n}",
        f"  issuer correct:  {d['issuer_correct']}/{n}",
        f"  fields exact:    {d['fields_correct']}/{d['fields_total']}",
    ]
    lines += [f"    {name:<16} {v['correct']}/{v['total']}" for name, v in d["fields"].items()]
    lines.append(f"  false alarms:    {d['false_alarms'] or 'none'}")
    lines.append(f"  ms per image:    {d['ms_per_image']}")
    wrong = [(doc, name) for doc in result.documents for name in doc.case.fields if not doc.correct(name)]
    if wrong:
        lines.append("misread fields:")
    for doc, name in wrong:
        lines.append(f"  {doc.case.file}: {name} expected {doc.case.fields[name]!r}, read {doc.read.get(name)!r}")
    for doc in result.documents:
        if doc.case.issuer and not doc.issuer_correct:
            lines.append(f"  {doc.case.file}: issuer expected {doc.case.issuer}, read {doc.issuer}")
    return "\n".join(lines)
