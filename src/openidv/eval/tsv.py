"""Reading the labelled tab-separated files of the evaluation harnesses."""

from __future__ import annotations

import csv
from pathlib import Path

from openidv.errors import DataFormatError


def read_rows(path: Path) -> list[dict[str, str]]:
    """Every row of a TSV file with a header, as dicts; an unreadable file is a :class:`DataFormatError`."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataFormatError(f"cannot read {path}: {exc}") from exc
