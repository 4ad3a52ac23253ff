"""The face descriptor network: dlib's ResNet run through ONNX, dlib itself as the fallback.

:func:`load_face_descriptor` reads the pip-shipped ``.dat`` file with
:mod:`openidv.face.dlib_net`, builds the ONNX graph in memory and runs it where
:func:`openidv.runtimes.ocr_network` runs the OCR networks: OpenVINO in bfloat16 where the
CPU computes it (AVX-512 BF16 or AMX), else onnxruntime in float32 (also with
``OPENIDV_INFERENCE_PRECISION=f32``). Before it is used, the converted network is checked
against dlib on a fixed probe chip (its mirror included); where that runtime fails or misses
the check, onnxruntime's float32 is tried; if the conversion fails in any way or float32 misses
the check too, dlib's own network is used and :attr:`FaceDescriptor.note` says why
(``openidv models`` prints it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from openidv.face.dlib_net import InputSpec, chip_tensor, parse_resnet, resnet_onnx
from openidv.runtimes import OpenVinoModel, ocr_network, onnxruntime_model

log = logging.getLogger(__name__)

#: Largest Euclidean distance allowed between the converted network's descriptor of the probe
#: chip and dlib's (descriptors are ~1 long; the FMR 1e-3 decision threshold is 0.52). Float32
#: differs by ~1e-6, bfloat16 by a few 1e-3.
PROBE_TOLERANCE = 0.02


class DescriptorBackend(StrEnum):
    ONNX_OPENVINO_BF16 = "onnx_openvino_bf16"
    ONNX_OPENVINO_F32 = "onnx_openvino_f32"
    ONNX_ONNXRUNTIME_F32 = "onnx_onnxruntime_f32"
    DLIB = "dlib"


ChipBatch = np.ndarray  #: (N, 150, 150, 3) RGB uint8 aligned chips


@dataclass(frozen=True)
class FaceDescriptor:
    """Call with a (N, 150, 150, 3) uint8 batch of aligned chips: (N, 128) float64 descriptors."""

    backend: DescriptorBackend
    note: str  #: how the backend was chosen (the probe's distance, or why dlib is used)
    run: Callable[[ChipBatch], np.ndarray]

    def __call__(self, chips: ChipBatch) -> np.ndarray:
        return np.asarray(self.run(chips), dtype=np.float64)


def load_face_descriptor(dat_path: str) -> FaceDescriptor:
    """The descriptor of ``dat_path`` (dlib_face_recognition_resnet_model_v1.dat) on the fastest
    backend that reproduces dlib on the probe chip; dlib's network when none does."""
    import dlib

    dlib_net = dlib.face_recognition_model_v1(dat_path)

    def run_dlib(chips: ChipBatch) -> np.ndarray:
        return np.array([dlib_net.compute_face_descriptor(np.ascontiguousarray(c)) for c in chips])

    probe = probe_chips()
    expected = run_dlib(probe)
    problems = []
    for precision in ("auto", "f32"):
        try:
            backend, run = _converted(dat_path, precision)
            distance = float(np.linalg.norm(np.asarray(run(probe), np.float64) - expected, axis=1).max())
        except Exception as exc:  # noqa: BLE001 - any failure: the next choice (onnxruntime f32, then dlib)
            problems.append(f"the ONNX network ({precision}) failed: {type(exc).__name__}: {exc}")
            continue
        if distance <= PROBE_TOLERANCE:
            return FaceDescriptor(backend, f"{backend} (probe chip within {distance:.1e} of dlib)", run)
        problems.append(f"{backend} differs from dlib by {distance:.4f} > {PROBE_TOLERANCE} on the probe chip")
        if backend is DescriptorBackend.ONNX_ONNXRUNTIME_F32:
            break
    note = f"dlib ({'; '.join(problems)})"
    log.warning("face descriptor: %s", note)
    return FaceDescriptor(DescriptorBackend.DLIB, note, run_dlib)


def _converted(dat_path: str, precision: str) -> tuple[DescriptorBackend, Callable[[ChipBatch], np.ndarray]]:
    """The converted network where :func:`~openidv.runtimes.ocr_network` runs it ("auto"), or on
    onnxruntime in float32 ("f32": the second choice when bfloat16 misses the probe)."""
    net = parse_resnet(Path(dat_path).read_bytes())
    graph = resnet_onnx(net)
    network = ocr_network(graph) if precision == "auto" else onnxruntime_model(graph)
    if isinstance(network, OpenVinoModel):
        bf16 = network.precision == "bf16"
        backend = DescriptorBackend.ONNX_OPENVINO_BF16 if bf16 else DescriptorBackend.ONNX_OPENVINO_F32
    else:
        backend = DescriptorBackend.ONNX_ONNXRUNTIME_F32
    return backend, onnx_runner(network, net.input)


def onnx_runner(network: Callable[[np.ndarray], np.ndarray], spec: InputSpec) -> Callable[[ChipBatch], np.ndarray]:
    """A chip batch -> (N, 128) float64 descriptors through ``network`` (the converted graph on a runtime)."""

    def run(chips: ChipBatch) -> np.ndarray:
        return np.asarray(network(chip_tensor(chips, spec)), dtype=np.float64)

    return run


def probe_chips(size: int = 150) -> ChipBatch:
    """A fixed, smooth face-like test chip and its mirror, (2, size, size, 3) uint8: a light oval
    on a darker ground with two dark eyes and a mouth (the check needs only a deterministic input
    in the range real chips have)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    face = ((x - 0.5) / 0.32) ** 2 + ((y - 0.55) / 0.42) ** 2 < 1.0
    luma = 70.0 + 120.0 * face + 25.0 * np.sin(6.0 * x + 4.0 * y)
    for cx, cy, rx, ry in ((0.37, 0.45, 0.06, 0.03), (0.63, 0.45, 0.06, 0.03), (0.5, 0.75, 0.1, 0.025)):
        luma[((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1.0] = 40.0
    rgb = np.stack([luma * 1.05, luma * 0.9, luma * 0.8], axis=-1)
    chip = np.clip(rgb, 0, 255).astype(np.uint8)
    return np.stack([chip, chip[:, ::-1]])
