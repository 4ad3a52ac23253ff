"""``openidv eval fields``: scoring, the labels file, the command, and a small real-image regression
(../shared/data/real_us_fronts, skipped when absent)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from openidv.cli import main
from openidv.document.normalize import comparable
from openidv.errors import DataFormatError
from openidv.eval.fields import (
    DocumentOutcome,
    FieldsEvalResult,
    LabelledDocument,
    evaluate_fields,
    load_labels,
)
from openidv.synth import document as synth
from tests.conftest import shared_path

KEYS = {"n", "issuer_correct", "fields", "fields_correct", "fields_total", "false_alarms", "ms_per_image"}


def test_values_compare_without_case_spaces_or_punctuation() -> None:
    assert comparable("S514-172-80-844-0") == "S514172808440"
    assert comparable("Tina, A") == comparable("TINA A") == "TINAA"
    assert comparable("2021-01-16") == "20210116"
    assert comparable("José") == "JOSE"


def test_scoring_counts_fields_issuer_and_false_alarms() -> None:
    case = LabelledDocument("a.jpg", "OH", {"document_number": "AB-123456", "sex": "F", "family_name": "DOE"})
    read = {"document_number": "AB123456", "sex": "M"}  # the family name not read: wrong
    failed = ["document_not_expired", "age_at_least_21", "specimen", "front_screen_recapture"]
    result = FieldsEvalResult([DocumentOutcome(case, "US-OH", read, failed, 120.0)])
    out = result.to_dict()
    assert set(out) == KEYS
    assert out["n"] == 1 and out["issuer_correct"] == 1
    assert out["fields"] == {
        "document_number": {"correct": 1, "total": 1},
        "family_name": {"correct": 0, "total": 1},
        "sex": {"correct": 0, "total": 1},
    }
    assert (out["fields_correct"], out["fields_total"]) == (1, 3)
    assert out["false_alarms"] == {"front_screen_recapture": 1}  # expiry, age and specimen excluded
    assert out["ms_per_image"] == 120.0
    assert "documents" in result.to_dict(details=True)
    wrong_state = FieldsEvalResult([DocumentOutcome(case, "US-OR", {}, [], 1.0)])
    assert wrong_state.to_dict()["issuer_correct"] == 0


def test_bad_labels_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    no_header = tmp_path / "bad.tsv"
    no_header.write_text("name\tstate\nx.jpg\tOH\n")
    with pytest.raises(DataFormatError):
        load_labels(no_header)
    missing = tmp_path / "labels.tsv"
    missing.write_text("file\tstate\nnot_there.jpg\tOH\n")
    with pytest.raises(DataFormatError, match="does not exist"):
        evaluate_fields(missing)
    assert main(["eval", "fields", str(tmp_path / "absent.tsv"), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "bad_data_file"


def test_command_on_a_generated_front_cropped_to_its_edges(
    astronaut_portrait: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A card scanned to its edges at low resolution (no corners to find) is read as the card itself."""
    card = synth.render_id_front(astronaut_portrait, np.random.default_rng(5))
    small = cv2.resize(card, (480, 303), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp_path / "front.jpg"), small[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
    fields = synth.CardFields()
    labels = {
        "file": "front.jpg",
        "state": "VA",
        "document_number": fields.number,
        "family_name": fields.family_name,
        "given_names": fields.given_names,
        "birth_date": "1985-01-15",
        "expiry_date": "2030-01-15",
        "issue_date": "2022-01-15",
    }
    with (tmp_path / "labels.tsv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(labels), delimiter="\t")
        writer.writeheader()
        writer.writerow(labels)
    assert main(["eval", "fields", str(tmp_path / "labels.tsv"), "--json", "--today", "2026-06-01"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == KEYS
    assert out["n"] == 1 and out["issuer_correct"] == 1
    assert out["fields_correct"] >= 5, out


#: Real fronts covering each cue: given-first names and a portrait frame taken for the outline
#: (Alabama), a crop without corners and labels beside values (Connecticut), a 243 px scan (Maine),
#: labels above values and a second given-name line (District of Columbia), no readable labels
#: (Oregon), a number label overlapping its value (Minnesota).
REGRESSION = ("Alabama_s", "Connecticut", "Maine", "Washington", "Oregon_s", "Minnesota")


def test_real_fronts_regression(tmp_path: Path) -> None:
    folder = shared_path("real_us_fronts")
    with (folder / "labels.tsv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    chosen = [r for r in rows if any(r["file"].endswith(f"__{name}.jpg") for name in REGRESSION)]
    assert len(chosen) == len(REGRESSION)
    subset = tmp_path / "labels.tsv"
    with subset.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(chosen)
    out = evaluate_fields(subset, folder).to_dict()
    assert out["issuer_correct"] == len(REGRESSION)
    assert out["fields_correct"] >= 0.9 * out["fields_total"], out
    assert all(v["correct"] >= v["total"] - 1 for v in out["fields"].values()), out["fields"]
    assert not {k for k in out["false_alarms"] if "mrz" in k or k == "date_logic"}, out["false_alarms"]


def test_real_front_and_back_agree_on_the_issuer_and_fields() -> None:
    """The Ohio sample front (300 px wide, no outline found) with its back: the printed state and the
    barcode's IIN agree, and so do the printed fields and the barcode's."""
    from datetime import date

    from openidv.checks import Status
    from openidv.document.engine import analyse_document

    front = shared_path("real_us_fronts", "luckyverma_us_dl_fronts__Ohio_s.jpg").read_bytes()
    back = shared_path("real_us_backs", "ohio_dl_back_sample.jpg").read_bytes()
    report = analyse_document(front, back, today=date(2020, 1, 1))
    checks = {c.name: c for c in report.checks}
    assert report.issuer == "US-OH"
    assert checks["issuer_printed_barcode"].status is Status.PASS
    assert checks["consistency_barcode_printed"].status is Status.PASS
    assert "taken as the card" in checks["front_document_located"].detail
