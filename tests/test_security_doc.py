"""docs/security.md: every STRIDE threat names a test that exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_ROW = re.compile(r"^\| ([STRIDE]\d+) \|")
_TEST = re.compile(r"`([\w/]+\.py)(?:::(\w+))?`")


def test_every_threat_names_an_existing_test() -> None:
    rows = [line for line in (REPO / "docs" / "security.md").read_text().splitlines() if _ROW.match(line)]
    assert len(rows) >= 30
    categories = {_ROW.match(r).group(1)[0] for r in rows}  # type: ignore[union-attr]
    assert categories == set("STRIDE")
    for row in rows:
        tests_cell = row.rstrip(" |").rsplit(" | ", 1)[-1]
        named = _TEST.findall(tests_cell)
        assert named, row
        for path, function in named:
            source = (REPO / "tests" / path).read_text()
            assert not function or re.search(rf"^def {function}\(", source, re.M), f"{path}::{function} ({row[:12]})"
