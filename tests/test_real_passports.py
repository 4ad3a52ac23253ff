"""Passport pages through the document engine: real pages from ../shared/data (skipped when
absent) and the rule that an outline framing only the portrait is not the document."""

from __future__ import annotations

import csv

import numpy as np

from openidv.checks import Status
from openidv.document import engine, framing, geometry
from openidv.document.engine import DocumentConfig, SideAnalysis, analyse_side
from openidv.synth import document as synth
from tests.conftest import shared_path

#: the MRZ path only: the printed zone's OCR is not needed to judge the MRZ
_MRZ_ONLY = DocumentConfig(read_printed=False)


def test_real_passport_pages_read_their_mrz_exactly() -> None:
    """Every real dev page (white, infrared and demo scans, with and without an outline found)
    gives the labelled MRZ lines through the engine, every check digit passing."""
    root = shared_path("real_passports")
    with (root / "labels.tsv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == 8
    wrong: dict[str, object] = {}
    for row in rows:
        side = analyse_side((root / row["file"]).read_bytes(), "front", _MRZ_ONLY)
        expected = [row[k] for k in ("line1", "line2", "line3") if row[k]]
        result = side.mrz.result if side.mrz is not None else None
        if result is None:
            wrong[row["file"]] = side.mrz.reason if side.mrz is not None else "no MRZ attempted"
        elif list(result.lines) != expected or not all(result.check_digits().values()):
            wrong[row["file"]] = (list(result.lines), result.check_digits())
    assert wrong == {}


def _side(rectified: np.ndarray) -> SideAnalysis:
    side = SideAnalysis("front", rgb=rectified, rectified=rectified, format="td3")
    side.faces = framing.portrait_faces(rectified)
    assert side.faces
    return side


def test_an_outline_around_the_portrait_alone_is_not_the_document(astronaut_portrait: np.ndarray) -> None:
    """A face filling the rectified outline means the outline was the portrait's frame; a printed
    portrait on a card covers a small part of it."""
    assert framing.outline_is_portrait(_side(np.ascontiguousarray(astronaut_portrait)))
    card = synth.render_id_front(astronaut_portrait, np.random.default_rng(3))
    assert not framing.outline_is_portrait(_side(card))


def test_a_dropped_outline_leaves_the_photo_as_is(astronaut_portrait: np.ndarray, card_photo: np.ndarray) -> None:
    side = _side(np.ascontiguousarray(astronaut_portrait))
    side.locate = geometry.locate_document(card_photo)
    assert side.locate.quad is not None
    framing.drop_outline(side)
    assert side.rectified is None and side.format == "unknown" and side.faces == []
    assert side.working is side.rgb
    located = engine._located_check(side)
    assert (located.status, located.reason) == (Status.INCONCLUSIVE, engine.PORTRAIT_OUTLINE)
