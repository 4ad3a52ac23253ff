from __future__ import annotations

import pytest

from openidv.errors import ModelUnavailableError
from openidv.models import LATIN_CHARSET, REGISTRY, ModelRegistry, ModelSpec, get_model


def test_builtin_models_are_available() -> None:
    statuses = REGISTRY.check()
    assert {s.name for s in statuses} == {
        "retinaface",
        "dlib_shape5",
        "dlib_resnet",
        "dlib_hog",
        "rapidocr",
        "ppocr_rec_latin",
        "face_mesh",
    }
    assert all(s.available for s in statuses), [s.problem for s in statuses]


def test_loaded_once() -> None:
    assert get_model("dlib_resnet") is get_model("dlib_resnet")


def test_lazy_and_once_with_counting_loader() -> None:
    calls = []
    reg = ModelRegistry()
    reg.register(ModelSpec("m", "pkg==1", "test", lambda: "here", lambda: calls.append(1) or object()))
    assert calls == []
    first = reg.get("m")
    assert reg.get("m") is first and calls == [1]


def test_missing_package_names_it() -> None:
    reg = ModelRegistry()

    def locate() -> str:
        raise ModelUnavailableError("Python module 'nope' is missing: install the pip package nope-models==9.9")

    reg.register(ModelSpec("ghost", "nope-models==9.9", "absent", locate, lambda: None))
    with pytest.raises(ModelUnavailableError, match=r"nope-models==9\.9"):
        reg.get("ghost")
    with pytest.raises(ModelUnavailableError, match="nope-models"):
        reg.require()
    assert reg.check()[0].available is False
    with pytest.raises(ModelUnavailableError, match="unknown model"):
        reg.get("other")


def test_a_model_built_from_another_loads_without_deadlock() -> None:
    reg = ModelRegistry()
    reg.register(ModelSpec("base", "pkg==1", "test", lambda: "here", lambda: "base"))
    reg.register(ModelSpec("derived", "pkg==1", "test", lambda: "here", lambda: reg.get("base") + "+head"))
    assert reg.get("derived") == "base+head"


def test_latin_recogniser_reads_like_the_full_one() -> None:
    import numpy as np

    from openidv.document.ocr import _ctc_decode, line_strip

    latin = get_model("ppocr_rec_latin")
    rec = get_model("rapidocr")._load_rec_model()
    full = rec.postprocess_op.character
    assert latin.charset[0] == full[0] and set(latin.charset[1:]) <= LATIN_CHARSET
    assert {"A", "Z", "0", "9", "<", " ", "\u00e9", "\u0141"} <= set(latin.charset) and len(latin.charset) < 400
    # a printed line: both read the same text, the cut head over Latin characters only
    import cv2

    image = np.full((60, 420, 3), 255, np.uint8)
    cv2.putText(image, "DOE JOHN 15 JAN 1985", (8, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    strip = line_strip(image, np.array([[0, 0], [420, 0], [420, 60], [0, 60]], np.float32))
    batch = rec.resize_norm_img(np.ascontiguousarray(strip[:, :, ::-1]), max(3.0, strip.shape[1] / 48))[None]
    batch = batch.astype(np.float32)
    text_full = _ctc_decode(np.asarray(rec.session(batch))[0], full)[0]
    probs = latin(batch)[0]
    assert probs.shape[-1] == len(latin.charset) and np.allclose(probs.sum(axis=-1), 1.0, atol=1e-3)
    assert _ctc_decode(probs, latin.charset)[0] == text_full == "DOE JOHN 15 JAN 1985"
