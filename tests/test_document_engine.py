"""The document engine end to end on generated documents, and its bad-input paths."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from skimage import data

from openidv.checks import Status
from openidv.document import engine
from openidv.document.engine import DocumentConfig, analyse_document, analyse_side
from openidv.document.types import DocumentType
from openidv.eval.forgery import default_portraits
from openidv.imaging import encode_jpeg
from openidv.synth import document as synth
from openidv.synth import forgery

TODAY = date(2026, 6, 1)


@pytest.fixture(scope="module")
def portraits() -> list[np.ndarray]:
    return default_portraits()


def _status(report: object, name: str) -> Status:
    checks = {c.name: c for c in report.checks}  # type: ignore[attr-defined]
    return checks[name].status


def _failed(report: object) -> list[str]:
    return [c.name for c in report.checks if c.status is Status.FAIL]  # type: ignore[attr-defined]


def test_genuine_licence_reads_and_agrees(portraits: list[np.ndarray]) -> None:
    doc = forgery.generate("genuine", np.random.default_rng(101), portraits, TODAY, kind="us_dl")
    report = analyse_document(doc.front, doc.back, today=TODAY)
    assert report.type is DocumentType.US_DL_ID
    assert report.issuer == f"US-{doc.person.state_code}"
    fields = report.fields_by_name()
    assert fields["family_name"]["value"] == doc.person.family_name
    assert fields["birth_date"] == {
        "value": doc.person.birth_date.isoformat(),
        "source": "barcode",
        "raw": doc.person.birth_date.strftime("%m%d%Y"),
    }
    assert _status(report, "barcode_read") is Status.PASS
    assert _status(report, "consistency_barcode_printed") is Status.PASS
    assert _status(report, "portrait_present") is Status.PASS
    assert _failed(report) == []
    assert report.portrait is not None and report.portrait.shape[2] == 3
    d = report.to_dict()
    assert set(d) >= {"type", "issuer", "status", "fields", "checks"}
    assert all(set(c) >= {"name", "status", "score", "reason"} for c in d["checks"])


def test_genuine_passport(portraits: list[np.ndarray]) -> None:
    doc = forgery.generate("genuine", np.random.default_rng(202), portraits, TODAY, kind="passport")
    report = analyse_document(doc.front, today=TODAY)
    assert report.type is DocumentType.PASSPORT_TD3
    assert report.issuer == "USA"
    assert _status(report, "mrz_check_digit_document_number") is Status.PASS
    assert _status(report, "consistency_mrz_printed") in (Status.PASS, Status.INCONCLUSIVE)
    assert _failed(report) == []


def test_passport_page_labels_are_read_only_when_a_field_needs_them(portraits: list[np.ndarray]) -> None:
    doc = forgery.generate("genuine", np.random.default_rng(202), portraits, TODAY, kind="passport")
    skipped = analyse_side(doc.front, "front")
    everything = analyse_side(doc.front, "front", DocumentConfig(read_labels=True))
    values = {f.name: f.value for f in skipped.printed}
    assert {f.name: f.value for f in everything.printed} == values  # the same fields, read by position
    assert values["birth_date"] == doc.person.birth_date.isoformat()
    assert values["family_name"] == doc.person.family_name
    assert len(skipped.ocr_lines) < 0.7 * len(everything.ocr_lines)  # the labels were not recognised
    assert not any("Date of" in line.text or "Surname" in line.text for line in skipped.ocr_lines)


def test_passport_page_lines_taken_for_labels_are_read_when_a_field_is_missing(
    portraits: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = forgery.generate("genuine", np.random.default_rng(202), portraits, TODAY, kind="passport")
    everything = analyse_side(doc.front, "front", DocumentConfig(read_labels=True))
    # every line taken for a label (a dense layout): the first pass finds nothing, the second reads them all
    monkeypatch.setattr(engine, "label_lines", lambda quads: [True] * len(quads))
    fallback = analyse_side(doc.front, "front")
    assert [line.text for line in fallback.ocr_lines] == [line.text for line in everything.ocr_lines]
    assert {f.name: f.value for f in fallback.printed} == {f.name: f.value for f in everything.printed}


def test_passport_page_stretched_past_the_id1_ratio_is_still_a_passport(portraits: list[np.ndarray]) -> None:
    # this photo's outline measures 1.67 (perspective), beyond ID-1's 1.586: rectified as a card
    # first, its MRZ band makes it a passport page again
    doc = forgery.generate("broken_check_digit", np.random.default_rng(11350380), portraits, TODAY)
    side = analyse_side(doc.front, "front")
    assert side.locate is not None and side.locate.quad is not None and side.locate.quad.aspect_ratio > 1.6
    report = analyse_document(doc.front, today=TODAY)
    assert report.type is DocumentType.PASSPORT_TD3
    assert _status(report, "mrz_composite_check_digit") is Status.FAIL


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("birth_date_altered", "consistency_barcode_printed"),
        ("barcode_other_person", "consistency_barcode_printed"),
        ("expired", "document_not_expired"),
        ("under_18", "age_at_least_18"),
    ],
)
def test_forgeries_fail_the_right_check(portraits: list[np.ndarray], label: str, expected: str) -> None:
    doc = forgery.generate(label, np.random.default_rng(303), portraits, TODAY)
    report = analyse_document(doc.front, doc.back, today=TODAY)
    assert report.status is Status.FAIL
    assert expected in _failed(report)


def test_bad_inputs_give_reasons_not_exceptions(portraits: list[np.ndarray]) -> None:
    blank = analyse_document(encode_jpeg(np.full((480, 640, 3), 200, np.uint8)), today=TODAY)
    assert blank.status is Status.FAIL and _status(blank, "document_sides") is Status.FAIL
    assert {c.reason for c in blank.checks if c.name == "document_sides"} == {"not_a_document"}

    photo = analyse_document(encode_jpeg(data.coffee()), today=TODAY)
    assert photo.type is DocumentType.UNKNOWN and photo.status is Status.FAIL

    corrupt = analyse_document(b"\xff\xd8\xff\xe0 not really a jpeg", today=TODAY)
    assert _status(corrupt, "front_image_readable") is Status.FAIL
    assert corrupt.status is Status.FAIL

    doc = forgery.generate("genuine", np.random.default_rng(404), portraits, TODAY, kind="us_dl")
    swapped = analyse_document(doc.back, doc.front, today=TODAY)
    reasons = {c.reason for c in swapped.checks if c.name == "document_sides"}
    assert reasons & {"sides_swapped", "back_given_as_front"}

    only_front = analyse_document(doc.front, today=TODAY)
    assert {c.reason for c in only_front.checks if c.name == "document_sides"} == {"back_not_provided"}


def test_upside_down_and_cropped(portraits: list[np.ndarray]) -> None:
    rng = np.random.default_rng(505)
    p = forgery.random_person(rng, TODAY)
    card = synth.render_id_front(portraits[0], rng, forgery.card_fields(p))
    upside = synth.photograph(np.ascontiguousarray(card[::-1, ::-1]), rng, max_tilt_deg=10, fit_inside=True)
    report = analyse_document(encode_jpeg(upside, 90), forgery.dl_back_photo(p, rng), today=TODAY)
    assert _status(report, "portrait_present") is Status.PASS
    assert report.fields_by_name()["family_name"]["value"] == p.family_name

    big = synth.photograph(card, rng, card_fraction=1.25, max_tilt_deg=5)
    cropped = analyse_document(encode_jpeg(big, 90), today=TODAY)
    assert any(
        c.reason in ("document_cropped", "no_document") for c in cropped.checks if c.name == "front_document_located"
    )


def test_photograph_fit_inside_keeps_the_card_in_frame() -> None:
    card = np.full((638, 1011, 3), 128, np.uint8)
    for seed in range(10):
        _, corners = synth.photograph_with_corners(
            card, np.random.default_rng(seed), max_tilt_deg=30, card_fraction=0.8, fit_inside=True
        )
        assert corners.min() >= 0 and corners[:, 0].max() <= 1280 and corners[:, 1].max() <= 960
        a = synth.photograph(card, np.random.default_rng(seed), max_tilt_deg=30, card_fraction=0.8, fit_inside=True)
        b, _ = synth.photograph_with_corners(
            card, np.random.default_rng(seed), max_tilt_deg=30, card_fraction=0.8, fit_inside=True
        )
        assert np.array_equal(a, b)


def test_orientation_by_portrait_by_barcode_and_by_text(
    portraits: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A portrait side is turned by its face when one is found upright at 0 or 180 degrees (the text
    cues are not computed then); a back whose barcode is read is not turned at all; a side with neither
    is turned by the text cues."""
    from openidv.document import geometry
    from openidv.document.engine import analyse_side

    calls: list[int] = []
    upright = geometry.upright
    monkeypatch.setattr(geometry, "upright", lambda *a, **k: calls.append(1) or upright(*a, **k))
    rng = np.random.default_rng(506)
    p = forgery.random_person(rng, TODAY)
    card = synth.render_id_front(portraits[0], rng, forgery.card_fields(p))
    upside = synth.photograph(np.ascontiguousarray(card[::-1, ::-1]), rng, max_tilt_deg=10, fit_inside=True)
    front = analyse_side(encode_jpeg(upside, 90), "front")
    assert (front.oriented_by, front.rotation, calls) == ("portrait", 180, [])
    assert front.faces and front.kind is DocumentType.US_DL_FRONT

    back = analyse_side(forgery.dl_back_photo(p, rng), "back")
    assert back.kind is DocumentType.US_DL_BACK and back.aamva is not None
    assert (back.oriented_by, back.rotation, calls) == ("", 0, [])

    # the back given as the front: no portrait at 0 or 180 degrees, the text cues turn it, the barcode is read
    swapped = analyse_side(forgery.dl_back_photo(p, rng), "front")
    assert swapped.oriented_by == "text" and calls == [1]
    assert swapped.kind is DocumentType.US_DL_BACK and not swapped.faces
