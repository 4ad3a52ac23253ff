from __future__ import annotations

import builtins
from typing import Any

import cv2
import numpy as np
import pytest

from openidv.errors import ImageError, ImageTooLargeError
from openidv.face import match
from openidv.face.detection import detect
from openidv.face.embedding import embed
from openidv.face.matching import MatchConfig
from openidv.face.operating_points import OPERATING_POINTS
from openidv.face.portrait import prepare_face
from tests.conftest import encode


def _selfie(astronaut: np.ndarray) -> np.ndarray:
    """The astronaut re-framed, rotated and re-lit, as a stand-in for a live selfie."""
    m = cv2.getRotationMatrix2D((256, 170), 6.0, 1.2)
    img = cv2.warpAffine(astronaut, m, (512, 512), borderMode=cv2.BORDER_REFLECT)
    return np.clip(img.astype(np.float32) * 0.85 + 15, 0, 255).astype(np.uint8)


def test_embedding_shape_and_chip(astronaut: np.ndarray) -> None:
    e = embed(astronaut, detect(astronaut)[0])
    assert e.chip.shape == (150, 150, 3) and e.chip.dtype == np.uint8
    assert e.vector.shape == (128,)
    assert 0.5 < np.linalg.norm(e.vector) < 1.5
    assert e.distance(e) == 0.0


def test_selfie_matches_id_card_portrait(astronaut: np.ndarray, card_photo: np.ndarray) -> None:
    r = match(encode(_selfie(astronaut)), encode(card_photo))
    assert r.same_person is True
    assert r.distance is not None and r.distance < OPERATING_POINTS["1e-3"].distance
    assert r.score is not None and r.score > 0.9
    assert {"no_face", "multiple_faces", "face_too_small"}.isdisjoint(r.reason_codes)
    assert [c.name for c in r.checks] == ["selfie_face", "document_portrait", "face_match"]
    d = r.to_dict()
    assert set(d) >= {"same_person", "score", "distance", "threshold", "reasons"}
    assert "vector" not in str(d) and "embedding" not in d


def test_different_person_rejected(astronaut: np.ndarray, cameraman: np.ndarray) -> None:
    r = match(astronaut, cameraman)
    assert r.same_person is False
    assert r.score is not None and r.score < 0.2
    assert r.checks[-1].status.value == "fail"


def test_no_face_on_document(astronaut: np.ndarray, blank_card_photo: np.ndarray) -> None:
    r = match(astronaut, blank_card_photo)
    assert r.same_person is None and r.score is None
    assert "no_face" in r.reason_codes
    assert any(x.side == "document" for x in r.reasons)
    assert r.checks[-1].status.value == "inconclusive"


def test_several_faces_in_selfie(astronaut: np.ndarray, card_photo: np.ndarray) -> None:
    two = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)
    r = match(two, card_photo)
    assert r.same_person is None
    assert "multiple_faces" in r.reason_codes


def test_tiny_selfie_face_is_too_small(astronaut: np.ndarray, card_photo: np.ndarray) -> None:
    canvas = np.full((960, 1280, 3), 120, np.uint8)
    canvas[400:528, 600:728] = cv2.resize(astronaut, (128, 128), interpolation=cv2.INTER_AREA)
    r = match(canvas, card_photo)
    assert r.same_person is None
    assert "face_too_small" in r.reason_codes


def test_small_document_portrait_is_enhanced(astronaut: np.ndarray) -> None:
    small = cv2.resize(astronaut, (170, 170), interpolation=cv2.INTER_AREA)  # eyes ~15 px apart
    face = detect(small)[0]
    prepared = prepare_face(small, face)
    assert prepared.enhanced and prepared.scale > 1.5
    assert prepared.face.quality.interocular_px > face.quality.interocular_px * 1.5
    e_small = embed(prepared.image, prepared.face)
    e_full = embed(astronaut, detect(astronaut)[0])
    assert e_small.distance(e_full) < OPERATING_POINTS["1e-3"].distance


def test_operating_point_changes_threshold(astronaut: np.ndarray, card_photo: np.ndarray) -> None:
    strict = match(astronaut, card_photo, MatchConfig(operating_point="1e-4"))
    loose = match(astronaut, card_photo, MatchConfig(operating_point="1e-2"))
    assert strict.threshold < loose.threshold
    assert strict.distance == pytest.approx(loose.distance)
    with pytest.raises(ValueError):
        match(astronaut, card_photo, MatchConfig(operating_point="1e-9"))


def test_bad_images_raise_typed_errors(astronaut: np.ndarray) -> None:
    good = encode(astronaut)
    for bad in (b"", b"not an image", good[:300]):
        with pytest.raises(ImageError):
            match(bad, good)
        with pytest.raises(ImageError):
            match(good, bad)
    with pytest.raises(ImageTooLargeError):
        match(good, good, MatchConfig(max_pixels=1000))


def test_matching_writes_nothing(
    astronaut: np.ndarray, card_photo: np.ndarray, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Embeddings stay in memory: no file is opened for writing and nothing is saved."""
    real_open = builtins.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(m in mode for m in "wax+"):
            raise AssertionError(f"the engine opened {file!r} for writing")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(np, "save", lambda *a, **k: (_ for _ in ()).throw(AssertionError("np.save")))
    monkeypatch.chdir(tmp_path)
    r = match(astronaut, card_photo)
    assert r.same_person is True
    assert list(tmp_path.iterdir()) == []
