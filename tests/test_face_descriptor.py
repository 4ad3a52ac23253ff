"""dlib's ResNet descriptor read from its .dat file and run through ONNX: the same numbers as dlib."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from openidv.eval.faces import read_pairs
from openidv.face import descriptor
from openidv.face.descriptor import DescriptorBackend, load_face_descriptor, onnx_runner, probe_chips
from openidv.face.dlib_net import DlibFormatError, parse_resnet, read_layers, resnet_onnx
from openidv.face.embedding import embed
from openidv.face.matching import MatchConfig, QualityGates, analyse_side
from openidv.face.operating_points import DEFAULT_OPERATING_POINT, threshold_for
from openidv.imaging import load_rgb
from openidv.models import _frm_file, get_model
from openidv.runtimes import compile_openvino, cpu_computes_bf16, onnxruntime_model
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def dat_path() -> str:
    return _frm_file("dlib_face_recognition_resnet_model_v1.dat")()


@pytest.fixture(scope="module")
def networks(dat_path: str) -> dict[str, object]:
    """Each backend as a function of a (N, 150, 150, 3) uint8 chip batch."""
    import dlib

    net = parse_resnet(Path(dat_path).read_bytes())
    graph = resnet_onnx(net)
    reference = dlib.face_recognition_model_v1(dat_path)
    out: dict[str, object] = {
        "dlib": lambda c: np.array([reference.compute_face_descriptor(np.ascontiguousarray(x)) for x in c]),
        "f32": onnx_runner(onnxruntime_model(graph), net.input),
    }
    if cpu_computes_bf16():
        out["bf16"] = onnx_runner(compile_openvino(graph), net.input)
    return out


def test_layer_list_is_dlibs_resnet(dat_path: str) -> None:
    net = parse_resnet(Path(dat_path).read_bytes())
    assert net.input.size == 150 and len(net.blocks) == 14  # 3 + 4 + 3 + 3 + 1 residual blocks, 4 of them down
    assert [b.down is not None for b in net.blocks].count(True) == 4
    assert [b.conv2.arrays["weight"].shape[0] for b in net.blocks] == [32] * 3 + [64] * 4 + [128] * 3 + [256] * 4
    assert net.fc.arrays["weight"].shape == (256, 128)


def test_onnx_equals_dlib_on_the_probe_and_a_photo(networks: dict, astronaut: np.ndarray) -> None:
    from openidv.face.detection import detect

    chip = embed(astronaut, detect(astronaut)[0]).chip
    chips = np.concatenate([probe_chips(), np.stack([chip, chip[:, ::-1]])])
    assert np.abs(networks["f32"](chips) - networks["dlib"](chips)).max() < 1e-5


def test_truncated_or_foreign_files_are_refused(dat_path: str) -> None:
    data = Path(dat_path).read_bytes()
    with pytest.raises(DlibFormatError, match="ends early"):
        read_layers(data[: len(data) // 2])
    with pytest.raises(DlibFormatError):
        read_layers(b"\x01\x01\x01\x05hello" + data[20:])
    shape5 = Path(_frm_file("shape_predictor_5_face_landmarks.dat")()).read_bytes()
    with pytest.raises(DlibFormatError):
        read_layers(shape5)


def test_conversion_failure_falls_back_to_dlib(dat_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(data: bytes) -> None:
        raise DlibFormatError("layer 'bn_con' is not one this reader knows")

    monkeypatch.setattr(descriptor, "parse_resnet", unreadable)
    fallback = load_face_descriptor(dat_path)
    assert fallback.backend is DescriptorBackend.DLIB and "bn_con" in fallback.note
    assert fallback(probe_chips()).shape == (2, 128)


def test_registry_embedder_is_the_converted_network_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from openidv.cli import main

    model = get_model("dlib_resnet")
    assert model.backend is not DescriptorBackend.DLIB, model.note
    assert model.backend in model.note and "probe chip within" in model.note
    assert main(["models", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert listed["dlib_resnet"]["note"] == model.note


@pytest.fixture(scope="module")
def deepface_chips() -> dict[str, np.ndarray]:
    tsv = shared_path("deepface", "pairs.tsv")
    cfg, gates = MatchConfig(), QualityGates(min_iod_px=0.0)
    chips = {}
    for name in dict.fromkeys(f for p in read_pairs(tsv) for f in (p.file_a, p.file_b)):
        side = analyse_side(load_rgb((tsv.parent / name).read_bytes()), "image", cfg.document_detector, gates)
        assert side.embedding is not None, name
        chips[name] = side.embedding.chip
    return chips


def _pair_distances(run: object, chips: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    vectors = {k: run(np.stack([c, c[:, ::-1]])).mean(axis=0) for k, c in chips.items()}  # type: ignore[operator]
    pairs = read_pairs(shared_path("deepface", "pairs.tsv"))
    return vectors, np.array([np.linalg.norm(vectors[p.file_a] - vectors[p.file_b]) for p in pairs])


@pytest.mark.shared_data
def test_shared_photos_embed_as_dlib_does(networks: dict, deepface_chips: dict[str, np.ndarray]) -> None:
    """float32: cosine >= 0.9999 per face, pair distances within 0.002; bfloat16: no decision changes."""
    ref_vectors, ref_d = _pair_distances(networks["dlib"], deepface_chips)
    vectors, d = _pair_distances(networks["f32"], deepface_chips)
    cosines = [v @ ref_vectors[k] / np.linalg.norm(v) / np.linalg.norm(ref_vectors[k]) for k, v in vectors.items()]
    assert min(cosines) >= 0.9999
    assert np.abs(d - ref_d).max() < 0.002
    if "bf16" not in networks:
        pytest.skip("this CPU has no bfloat16: the f32 figures above are the ones that apply")
    _, d16 = _pair_distances(networks["bf16"], deepface_chips)
    t = threshold_for(DEFAULT_OPERATING_POINT).distance
    assert np.array_equal(d16 <= t, ref_d <= t)
    assert np.abs(d16 - ref_d).max() < 0.02


def test_a_failing_first_runtime_leaves_onnxruntime_f32(dat_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_openvino(graph: bytes) -> None:
        raise RuntimeError("no CPU plugin")

    monkeypatch.setattr(descriptor, "ocr_network", no_openvino)
    chosen = load_face_descriptor(dat_path)
    assert chosen.backend is DescriptorBackend.ONNX_ONNXRUNTIME_F32, chosen.note
