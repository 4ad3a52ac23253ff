"""How well the document-reuse fingerprint reads its (issuer, number) from machine-readable data.

``python -m openidv.eval.reuse [--data ../shared/data] [--n 20] [--seed 1]`` prints, for the real
AAMVA payloads and real MRZ lines of the shared data and for generated licence payloads:

* ``read``: documents whose barcode / MRZ gave an identity (issuer and number), and how many of
  those numbers equal the label where one is given (a wrong number would fingerprint another
  document; ``numbers_labelled``), and for licences labelled with their state only, how many
  issuers name that state (``states_labelled``, ``state_matches_label``);
* ``false_reuse``: pairs of different labelled documents with the same fingerprint (a false
  ``document.reused`` alarm);
* generated only, ``layouts_agree``: one licence's elements written in every known layout
  deviation (:mod:`openidv.synth.aamva_variants`) giving one single fingerprint (a missed reuse
  when not).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openidv.document.aamva import AamvaError, parse_aamva
from openidv.document.mrz import MrzError, parse_mrz
from openidv.document.types import FieldValue
from openidv.eval.tsv import read_rows
from openidv.service.reuse import DocumentIdentity, document_identity, fingerprint
from openidv.synth.aamva_variants import Deviation, deviate, sample_elements

KEY = b"eval-key-not-secret-000000000000"


@dataclass
class Tally:
    """Counts over one set of documents."""

    documents: int = 0
    read: int = 0
    numbers_labelled: int = 0
    number_matches_label: int = 0
    states_labelled: int = 0
    state_matches_label: int = 0
    false_reuse_pairs: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(vars(self))


def identity_of(fields: Iterable[FieldValue]) -> DocumentIdentity | None:
    return document_identity({"all_fields": [{"name": f.name, **f.to_dict()} for f in fields]})


Found = list[tuple[str, DocumentIdentity | None]]


def _tally(found: Found, states: list[str] | None = None) -> Tally:
    """``found``: (label, identity read) per document; the label is the document number, or, where
    ``states[i]`` is given, ``state:<file>`` (a unique name) and that state is checked instead."""
    t = Tally(documents=len(found))
    by_digest: dict[str, set[str]] = {}
    for i, (label, ident) in enumerate(found):
        state = states[i] if states else ""
        t.numbers_labelled += bool(label) and not state
        t.states_labelled += bool(state)
        if ident is None:
            continue
        t.read += 1
        if state:
            t.state_matches_label += ident.issuer.endswith(f"-{state}")
        elif label:
            t.number_matches_label += ident.number == label
        by_digest.setdefault(fingerprint(KEY, ident), set()).add(label or f"unlabelled:{i}")
    t.false_reuse_pairs = sum(len(labels) * (len(labels) - 1) // 2 for labels in by_digest.values())
    return t


def _clean(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def real_aamva(data: Path) -> Tally:
    found: Found = []
    states: list[str] = []
    for labels in sorted(data.glob("aamva_*/aamva_expected.jsonl")):
        for line in labels.read_text().splitlines():
            row: dict[str, Any] = json.loads(line)
            number = _clean(row.get("derived_elements", {}).get("DAQ", ""))
            states.append("" if number else str(row.get("upstream_expected", {}).get("state", "")))
            label = number or f"state:{row['file']}"
            try:
                rec = parse_aamva((labels.parent / row["file"]).read_text(errors="replace"))
                found.append((label, identity_of(rec.to_fields())))
            except AamvaError:
                found.append((label, None))
    return _tally(found, states)


def real_mrz(data: Path) -> Tally:
    found: Found = []
    for labels in ("real_passports/labels.tsv", "passporteye/mrz_expected.tsv", "fastmrz/mrz_expected.tsv"):
        path = data / labels
        if not path.exists():
            continue
        for row in read_rows(path):
            lines = [row[k] for k in ("line1", "line2", "line3") if row.get(k)]
            parsed = json.loads(row["parsed_fields"]) if row.get("parsed_fields") else {}
            try:
                result = parse_mrz(lines)
            except MrzError:
                found.append((_clean(parsed.get("number", "")), None))
                continue
            label = _clean(parsed.get("number", ""))  # real_passports: MRZ lines only, no parsed label
            found.append((label, identity_of(result.to_fields())))
    return _tally(found)


def generated_aamva(n: int, seed: int) -> dict[str, Any]:
    """``n`` generated licences, each written in every layout deviation."""
    from openidv.document.iin import IIN_TABLE

    rng = random.Random(seed)
    iins = sorted(i for i, j in IIN_TABLE.items() if j.is_us)
    found: Found = []
    agree = 0
    for _ in range(n):
        iin = rng.choice(iins)
        elements = sample_elements(rng, IIN_TABLE[iin].code)
        digests = set()
        for d in Deviation:
            ident = identity_of(parse_aamva(deviate(elements, d, rng, iin=iin, jv=1)).to_fields())
            found.append((_clean(elements["DAQ"]), ident))
            digests.add(None if ident is None else fingerprint(KEY, ident))
        agree += len(digests) == 1 and None not in digests
    return _tally(found).to_dict() | {"licences": n, "layouts": len(Deviation), "layouts_agree": agree}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    out = {
        "real_aamva": real_aamva(args.data).to_dict(),
        "real_mrz": real_mrz(args.data).to_dict(),
        "generated_aamva": generated_aamva(args.n, args.seed),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
