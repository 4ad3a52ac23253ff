"""Where the networks run: OpenVINO or onnxruntime on the CPU, chosen per process.

:func:`ocr_network` puts an ONNX network (a path, or the serialised graph) on the faster
runtime for this CPU: OpenVINO in bfloat16 where the CPU computes it (AVX-512 BF16 or AMX),
onnxruntime's float32 elsewhere. The model registry (:mod:`openidv.models`) and the face
descriptor (:mod:`openidv.face.descriptor`) both use it; neither depends on the other for it.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from typing import Any

from openidv.errors import ModelUnavailableError


def require_module(module: str, package: str) -> str:
    """``module`` when it can be imported, else :class:`ModelUnavailableError` naming the pip ``package``."""
    if importlib.util.find_spec(module) is None:
        raise ModelUnavailableError(f"Python module {module!r} is missing: install the pip package {package}")
    return module


def onnxruntime_session(model: str | bytes) -> Any:
    """An onnxruntime CPU session of an ONNX model (a path, or the serialised graph) with the
    process's thread count, warnings silenced."""
    import onnxruntime as ort

    from openidv.config import get_settings

    options = ort.SessionOptions()
    options.intra_op_num_threads = get_settings().onnx_threads
    options.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


OPENVINO_PKG = "openvino==2026.4.1"


class OpenVinoModel:
    """A network compiled by OpenVINO for the CPU: call it with its one input, get its first output.

    Safe to call from several threads: each thread gets its own infer request (one request
    serves one call at a time).
    """

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled
        self._local = threading.local()

    @property
    def precision(self) -> str:
        """The arithmetic OpenVINO chose: "bf16" or "f32"."""
        return str(self._compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name())

    def __call__(self, x: Any) -> Any:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        request.infer([x])
        return request.get_output_tensor(0).data.copy()  # the request's buffer is reused by its next call


class OnnxRuntimeModel:
    """A network on onnxruntime's CPU provider (float32): call it with its one input, get its first output."""

    precision = "f32"

    def __init__(self, session: Any) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name

    def __call__(self, x: Any) -> Any:
        return self._session.run(None, {self._input: x})[0]


def ocr_network(model: str | bytes) -> OpenVinoModel | OnnxRuntimeModel:
    """An OCR network (ONNX: a path, or the serialised graph) on the faster runtime for this CPU.

    OpenVINO where the CPU computes in bfloat16 (AVX-512 BF16 or AMX), which onnxruntime's
    CPU provider cannot: bench/ocr_runtime.py measured the detector in x0.66 the time and the
    recogniser in x0.6-0.8, with 208 of 212 lines read identically (the rest differ by a space
    or a letter's case). onnxruntime elsewhere, and when the process's precision setting is
    "f32" (:class:`openidv.config.Settings`): OpenVINO's float32 was 2-39 % slower.
    """
    return compile_openvino(model) if ocr_on_openvino() else onnxruntime_model(model)


def onnxruntime_model(model: str | bytes) -> OnnxRuntimeModel:
    """An ONNX model (a path, or the serialised graph) on onnxruntime's CPU provider, the process's thread count."""
    return OnnxRuntimeModel(onnxruntime_session(model))


def ocr_on_openvino() -> bool:
    """Whether the OCR networks run on OpenVINO: the CPU computes bfloat16 and the process's
    precision setting is not "f32" (see :func:`ocr_network`)."""
    from openidv.config import get_settings

    return get_settings().inference_precision != "f32" and cpu_computes_bf16()


@lru_cache(maxsize=1)
def cpu_computes_bf16() -> bool:
    """Whether OpenVINO's CPU plugin computes in bfloat16 here (AVX-512 BF16 or AMX)."""
    require_module("openvino", OPENVINO_PKG)
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def compile_openvino(model: str | bytes, *, precision: str = "auto") -> OpenVinoModel:
    """Compile an ONNX model (a path, or the serialised graph) for the CPU with the process's
    thread count; ``precision`` "auto" (bfloat16 where the CPU has it) or "f32"."""
    require_module("openvino", OPENVINO_PKG)
    import openvino as ov

    from openidv.config import get_settings

    core = ov.Core()
    network = core.read_model(model) if isinstance(model, str) else core.read_model(model=model, weights=b"")
    config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
    if threads := get_settings().onnx_threads:
        config["INFERENCE_NUM_THREADS"] = threads
    if precision == "f32":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    return OpenVinoModel(core.compile_model(network, "CPU", config))
