"""Acceptance figures on the real face pairs in ../shared/data (skipped when absent)."""

from __future__ import annotations

import pytest

from openidv.eval.faces import evaluate_pairs, read_pairs
from openidv.face import match
from tests.conftest import shared_path

pytestmark = pytest.mark.shared_data


def test_deepface_pairs_meet_targets() -> None:
    tsv = shared_path("deepface", "pairs.tsv")
    r = evaluate_pairs(read_pairs(tsv), tsv.parent)
    assert r.n_pairs == 520 and r.n_failed == 0
    assert r.eer <= 0.01
    assert r.fnmr_at_fmr["0.001"]["fnmr"] <= 0.02
    assert r.auc > 0.999


@pytest.mark.parametrize("name", ["face_recognition", "openface"])
def test_other_face_sets_separate(name: str) -> None:
    tsv = shared_path(name, "pairs.tsv")
    r = evaluate_pairs(read_pairs(tsv), tsv.parent)
    assert r.n_failed == 0
    assert r.eer <= 0.02


def test_group_photo_as_selfie_is_multiple_faces() -> None:
    root = shared_path("face_recognition")
    group = next(root.rglob("obama_and_biden.jpg")).read_bytes()
    single = (root / "tests/test_images/obama.jpg").read_bytes()
    r = match(group, single)
    assert r.same_person is None and "multiple_faces" in r.reason_codes
    assert match(single, group).same_person is not None  # on a document, the largest face is the portrait
