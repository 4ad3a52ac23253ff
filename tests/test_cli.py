from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from openidv.cli import main
from tests.conftest import encode

OPENIDV = str(Path(sys.executable).with_name("openidv"))


@pytest.fixture(scope="module")
def pair_dir(
    tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray, cameraman: np.ndarray, card_photo: np.ndarray
) -> Path:
    root = tmp_path_factory.mktemp("pairs")
    m = cv2.getRotationMatrix2D((256, 170), -5.0, 1.1)
    variant = cv2.warpAffine(astronaut, m, (512, 512), borderMode=cv2.BORDER_REFLECT)
    (root / "img").mkdir()
    images = {
        "a1.jpg": astronaut,
        "a2.jpg": variant,
        "card.jpg": card_photo,
        "cam.jpg": np.dstack([cameraman] * 3),
        "blank.jpg": np.full((300, 300, 3), 200, np.uint8),
    }
    for name, img in images.items():
        (root / "img" / name).write_bytes(encode(img))
    rows = [
        ("a1", "a2", 1),
        ("a1", "card", 1),
        ("a2", "card", 1),
        ("a1", "cam", 0),
        ("card", "cam", 0),
        ("a2", "cam", 0),
        ("blank", "a1", 0),
    ]
    lines = ["file_a\tfile_b\tsame_person"] + [f"img/{a}.jpg\timg/{b}.jpg\t{s}" for a, b, s in rows]
    (root / "pairs.tsv").write_text("\n".join(lines) + "\n")
    return root


def test_eval_faces_json_and_plot(pair_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plot = tmp_path / "det.png"
    code = main(["eval", "faces", str(pair_dir / "pairs.tsv"), "--root", str(pair_dir), "--json", "--plot", str(plot)])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {
        "n_pairs",
        "n_failed",
        "auc",
        "eer",
        "fnmr_at_fmr",
        "false_accepts",
        "false_rejects",
        "ms_per_pair",
    }
    assert out["n_pairs"] == 7 and out["n_failed"] == 1
    assert out["failed_by_reason"] == {"no_face": 1}
    assert set(out["fnmr_at_fmr"]) == {"0.01", "0.001"}
    assert out["auc"] == 1.0 and out["eer"] == 0.0
    assert out["false_accepts"] == 0 and out["false_rejects"] == 0
    assert out["ms_per_pair"] > 0
    # stage medians per face; the blank image ran detection only
    assert (
        0
        < out["ms_align"] + out["ms_embed"]
        < out["ms_detect"] + out["ms_align"] + out["ms_embed"]
        < out["ms_per_pair"]
    )
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_faces_text(pair_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "faces", str(pair_dir / "pairs.tsv"), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "EER" in text and "pairs skipped    1  (no_face: 1)" in text
    assert "ms per face      detect " in text


def test_eval_faces_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    assert main(["eval", "faces", str(bad), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "bad_data_file"


def test_match_command_via_entry_point(pair_dir: Path) -> None:
    proc = subprocess.run(
        [OPENIDV, "match", str(pair_dir / "img/a2.jpg"), str(pair_dir / "img/card.jpg"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["same_person"] is True
    assert set(out) >= {"same_person", "score", "distance", "threshold", "reasons"}
    assert isinstance(out["reasons"], list)


def test_match_command_undecidable(pair_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", str(pair_dir / "img/a1.jpg"), str(pair_dir / "img/blank.jpg"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["same_person"] is None and out["score"] is None and "no_face" in out["reasons"]


@pytest.mark.parametrize("content", [b"", b"hello", b"\xff\xd8\xff\xe0 truncated"])
def test_match_bad_input(tmp_path: Path, pair_dir: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    assert main(["match", str(bad), str(pair_dir / "img/a1.jpg"), "--json"]) == 2
    err = json.loads(capsys.readouterr().out)["error"]
    assert err["code"] in {"empty_image", "not_an_image", "corrupt_image"}


def test_match_missing_file_and_bad_operating_point(pair_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "/nonexistent.jpg", str(pair_dir / "img/a1.jpg")]) == 2
    assert "cannot read" in capsys.readouterr().err
    a1 = str(pair_dir / "img/a1.jpg")
    assert main(["match", a1, a1, "--operating-point", "0.5", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "bad_argument"


def test_detect_models_and_demo_commands(pair_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", str(pair_dir / "img/a1.jpg"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_faces"] == 1
    assert main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["all_available"] is True
    assert main(["demo", "--json", "--out", str(tmp_path)]) == 0
    demo = json.loads(capsys.readouterr().out)
    assert demo["selfie_vs_card"]["same_person"] is True
    assert demo["selfie_vs_card_without_portrait"]["same_person"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card_photo.jpg", "card_without_portrait.jpg", "selfie.jpg"]


def test_eval_forgery_subset_makes_the_full_runs_documents(capsys: pytest.CaptureFixture[str]) -> None:
    """``--types`` keeps each type's document seeds (a subset re-runs exactly those documents), ``--details``
    lists every document; an unknown type is a usage error."""
    from openidv.synth.forgery import FORGERY_TYPES

    base = ["eval", "forgery", "--n", "1", "--seed", "3", "--no-progress", "--json", "--details"]
    assert main([*base, "--types", "expired"]) == 0
    out = json.loads(capsys.readouterr().out)
    docs = {d["label"]: d for d in out["documents"]}
    assert set(docs) == {"genuine", "expired"}
    # the seed formula of the full run: type index in FORGERY_TYPES, not in the subset
    assert docs["expired"]["seed"] == 3 * 100_003 + (FORGERY_TYPES.index("expired") + 1) * 10_000
    assert any(f["name"] == "document_not_expired" for f in docs["expired"]["failures"]), docs["expired"]
    assert out["by_type"] == {"expired": {"detected": 1, "n": 1}}
    assert set(out["review_signals"]) == {"genuine", "expired"} and out["review_signals"]["expired"] == 0
    assert all(isinstance(d["advisory_checks"], list) for d in out["documents"])
    assert main([*base, "--types", "expired,forged_by_magic"]) == 2
    assert "forged_by_magic" in capsys.readouterr().out
