from __future__ import annotations

import numpy as np
import pytest

from openidv.errors import ModelUnavailableError
from openidv.models import (
    LATIN_CHARSET,
    REGISTRY,
    ModelRegistry,
    ModelSpec,
    get_model,
    latin_recogniser_graph,
)
from openidv.runtimes import (
    OnnxRuntimeModel,
    OpenVinoModel,
    compile_openvino,
    cpu_computes_bf16,
    ocr_network,
    ocr_on_openvino,
    onnxruntime_model,
)


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
    from openidv.document.ocr import _ctc_decode

    latin = get_model("ppocr_rec_latin")
    rec = get_model("rapidocr")._load_rec_model()
    full = rec.postprocess_op.character
    assert latin.charset[0] == full[0] and set(latin.charset[1:]) <= LATIN_CHARSET
    assert {"A", "Z", "0", "9", "<", " ", "\u00e9", "\u0141"} <= set(latin.charset) and len(latin.charset) < 400
    # a printed line: both read the same text, the cut head over Latin characters only
    batch = _printed_line_batch("DOE JOHN 15 JAN 1985")
    text_full = _ctc_decode(np.asarray(rec.session(batch))[0], full)[0]
    probs = latin(batch)[0]
    assert probs.shape[-1] == len(latin.charset) and np.allclose(probs.sum(axis=-1), 1.0, atol=1e-3)
    assert _ctc_decode(probs, latin.charset)[0] == text_full == "DOE JOHN 15 JAN 1985"


def _printed_line_batch(text: str) -> np.ndarray:
    """A rendered text line as the recogniser's input batch (1, 3, 48, W) float32."""
    import cv2

    from openidv.document.ocr import line_strip

    rec = get_model("rapidocr")._load_rec_model()
    image = np.full((60, 460, 3), 255, np.uint8)
    cv2.putText(image, text, (8, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    strip = line_strip(image, np.array([[0, 0], [460, 0], [460, 60], [0, 60]], np.float32))
    batch = rec.resize_norm_img(np.ascontiguousarray(strip[:, :, ::-1]), max(3.0, strip.shape[1] / 48))[None]
    return batch.astype(np.float32)


def test_ocr_networks_run_on_the_runtime_this_cpu_favours() -> None:
    # OpenVINO where it computes in bfloat16, onnxruntime (float32) elsewhere: rapidocr keeps its own
    # onnxruntime detector session then
    on_openvino = cpu_computes_bf16()
    assert ocr_on_openvino() is on_openvino
    detector = get_model("rapidocr")._load_det_model().session
    latin = get_model("ppocr_rec_latin").network
    assert isinstance(detector, OpenVinoModel) is on_openvino
    assert isinstance(latin, OpenVinoModel if on_openvino else OnnxRuntimeModel)
    assert latin.precision == ("bf16" if on_openvino else "f32")


def test_f32_setting_runs_the_ocr_networks_on_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> None:
    from openidv.config import get_settings

    graph, _ = latin_recogniser_graph()
    batch = _printed_line_batch("JONES 1 JAN 2000")
    monkeypatch.setenv("OPENIDV_INFERENCE_PRECISION", "f32")
    get_settings.cache_clear()
    try:
        assert not ocr_on_openvino()
        network = ocr_network(graph)
    finally:
        monkeypatch.delenv("OPENIDV_INFERENCE_PRECISION")
        get_settings.cache_clear()
    assert isinstance(network, OnnxRuntimeModel) and network.precision == "f32"
    assert network(batch).shape[-1] == len(get_model("ppocr_rec_latin").charset)


def test_openvino_f32_computes_what_onnxruntime_does_and_auto_reads_the_same() -> None:
    from openidv.document.ocr import _ctc_decode

    graph, charset = latin_recogniser_graph()
    assert charset == get_model("ppocr_rec_latin").charset
    batch = _printed_line_batch("SMITH 04 MAR 1990 X12")
    reference = onnxruntime_model(graph)(batch)
    f32 = compile_openvino(graph, precision="f32")
    assert f32.precision == "f32"
    assert np.allclose(f32(batch), reference, atol=1e-4)
    auto = compile_openvino(graph, precision="auto")(batch)
    assert auto.shape == reference.shape
    assert _ctc_decode(auto[0], charset)[0] == _ctc_decode(reference[0], charset)[0] == "SMITH 04 MAR 1990 X12"


def test_openvino_model_serves_several_threads_at_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    latin = get_model("ppocr_rec_latin")
    batches = [_printed_line_batch(t) for t in ("ALPHA 1", "BRAVO 22", "CHARLIE 333", "DELTA 4444")] * 3
    alone = [latin(b) for b in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(latin, batches))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))
    assert not np.array_equal(alone[0], alone[1][:, : alone[0].shape[1]])  # different lines give different outputs
