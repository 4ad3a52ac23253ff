"""Reading US licence fronts of real layouts from OCR lines (pure logic, no OCR model).

Coordinates are those of a front rectified to 1011 x 638 px; the layouts imitate the
kinds of cards DMV sample images show (numbered AAMVA fields, label words, labels above
values, no labels at all), never one image's text.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openidv.document.licence_front import find_issuer, read_licence_front, read_licence_printed
from openidv.document.normalize import comparable
from openidv.document.ocr import OcrLine
from openidv.document.us_layouts import STATES, NameOrder, name_order


def _line(text: str, x: float, y: float, w: float = 200, h: float = 36) -> OcrLine:
    box = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
    return OcrLine(text, box, 0.95)


def _read(lines: list[OcrLine]) -> dict[str, str]:
    return {f.name: f.value for f in read_licence_front(lines)}


def test_numbered_fields_and_several_labels_on_one_line() -> None:
    lines = [
        _line("IOWA", 50, 10, 150, 90),
        _line("DRIVER LICENSE", 200, 95),
        _line("1SAMPLE", 310, 133),
        _line("2MARK", 310, 165),
        _line("8123 NORTH STREET", 310, 210, 300),
        _line("DES MOINES, IA 50301-1234", 330, 250, 350),
        _line("DL No.123XX6789", 318, 292, 300),
        _line("4a Iss11/07/2016 4b Exp 01/12/2021", 310, 332, 500),
        _line("15 Sex M 16 Hgt 5'-08\" 18 Eyes BRO", 310, 363, 500),
        _line("23 DOB 01/12/1967", 340, 517, 300),
        _line("5DD12345678901234567890123", 357, 564, 400),
    ]
    assert _read(lines) == {
        "issuing_state": "IA",
        "family_name": "SAMPLE",
        "given_names": "MARK",
        "document_number": "123XX6789",
        "issue_date": "2016-11-07",
        "expiry_date": "2021-01-12",
        "birth_date": "1967-01-12",
        "sex": "M",
    }


def test_a_value_is_never_read_across_the_next_label() -> None:
    # the number runs into the birth date's field number and label: "999999999" then "3DOB"
    got = _read([_line("4d DLN 9999999993DOB03", 300, 150, 400)])
    assert got.get("document_number") == "999999999"
    assert "birth_date" not in got  # "03" is no date: missing, not half-read
    got = _read([_line("4d DLN 12/01/2020", 300, 150, 400), _line("LIC# A1", 300, 200)])
    assert "document_number" not in got  # a date or a 2-character token is no licence number


def test_labels_above_their_values() -> None:
    lines = [
        _line("DISTRICT OF COLUMBIA", 40, 30, 300, 46),
        _line("4d.DLN", 318, 114, 80, 27),
        _line("4b.EXP", 556, 114, 80, 27),
        _line("1234567", 321, 134, 150, 44),
        _line("02/21/2021", 558, 134, 160, 33),
        _line("1.FAMILY NAME", 319, 180, 160, 25),
        _line("SAMPLECARD", 319, 201, 160, 32),
        _line("2.GIVEN NAMES", 318, 234, 160, 25),
        _line("THOMAS", 319, 254, 120, 32),
        _line("ALEXANDER", 318, 280, 150, 30),
        _line("8.ADDRESS", 319, 314, 120, 22),
        _line("1234 MAIN STREET, NE", 319, 335, 300, 30),
        _line("WASHINGTON, DC 00000-0000", 319, 384, 300, 30),
        _line("3.DOB", 686, 423, 60, 28),
        _line("15.SEX", 319, 425, 60, 27),
        _line("02/21/1984", 687, 445, 150, 32),
        _line("M", 319, 449, 20, 27),
        _line("4a.ISS", 687, 479, 70, 27),
        _line("12/03/2013", 689, 501, 150, 32),
    ]
    assert _read(lines) == {
        "issuing_state": "DC",
        "document_number": "1234567",
        "expiry_date": "2021-02-21",
        "family_name": "SAMPLECARD",
        "given_names": "THOMAS ALEXANDER",
        "birth_date": "1984-02-21",
        "sex": "M",
        "issue_date": "2013-12-03",
    }


def test_a_label_takes_the_value_on_its_right_even_when_the_boxes_overlap() -> None:
    lines = [_line("4d DL#", 314, 292, 90, 35), _line("A123-456-789-123 4a|Ss 08/15/2018", 382, 286, 500, 44)]
    got = _read(lines)
    assert got["document_number"] == "A123456789123"
    assert got["issue_date"] == "2018-08-15"


def test_unlabelled_dates_by_value_and_dates_after_other_labels_unused() -> None:
    lines = [
        _line("A123456", 408, 141, 150),  # no label read: the number by position, above the names
        _line("CARD", 379, 185, 100),
        _line("OREGON SAMPLE, SR", 379, 220, 300),
        _line("1906 LANA AVE NE", 376, 256, 300),
        _line("SALEM, OR, 97314", 376, 294, 300),
        _line("12/12/2026", 409, 352, 150),
        _line("03/16/2018", 408, 392, 150),
        _line("03/16/2018", 408, 428, 150),  # the first issue, printed again
        _line("5 DD 03/26/2019 REV 02/22/2016", 340, 600, 400),  # audit and revision dates: not the holder's
        _line("12/12/1979", 49, 566, 150),
        _line("M", 409, 539, 20),
    ]
    got = _read(lines)
    assert got["document_number"] == "A123456"
    assert (got["birth_date"], got["issue_date"], got["expiry_date"]) == ("1979-12-12", "2018-03-16", "2026-12-12")
    assert (got["family_name"], got["given_names"]) == ("CARD", "OREGON SAMPLE")  # the suffix SR dropped
    assert got["sex"] == "M"


def test_dates_by_position_need_a_plausible_order() -> None:
    # two unlabelled dates a year apart: neither is a birth date, and without one they stay missing
    got = _read([_line("01/02/2020", 400, 200), _line("01/02/2021", 400, 300)])
    assert not {"birth_date", "issue_date", "expiry_date"} & set(got)
    # an issue date candidate more than 12 years before expiry is not one
    got = _read(
        [_line("3 DOB 01/16/1964", 300, 100, 300), _line("01/16/2021", 300, 150), _line("01/16/1984", 700, 150)]
    )
    assert got["expiry_date"] == "2021-01-16" and "issue_date" not in got


def test_unnumbered_names_follow_the_state_order() -> None:
    def card(header: str) -> list[OcrLine]:
        return [
            _line(header, 400, 50, 400, 100),
            _line("NO.1234567", 415, 188),
            _line("CONNOR", 348, 270),
            _line("SAMPLE", 344, 300),
            _line("1 WONDERFUL DRIVE", 348, 340, 300),
            _line("MONTGOMERY AL 36104-1234", 344, 380, 350),
        ]

    assert name_order("AL") is NameOrder.GIVEN_FIRST and name_order(None) is NameOrder.FAMILY_FIRST
    got = _read(card("ALABAMA"))
    assert (got["issuing_state"], got["given_names"], got["family_name"]) == ("AL", "CONNOR", "SAMPLE")
    got = _read(card("MISSOURI"))
    assert (got["issuing_state"], got["family_name"], got["given_names"]) == ("MO", "CONNOR", "SAMPLE")


def test_one_name_line_with_a_comma_and_the_combined_label() -> None:
    lines = [
        _line("2SAMPLE, CARON LYNN", 329, 457, 300),
        _line("123 MAIN STREET", 325, 501),
        _line("LINCOLN, NE 68501", 359, 540),
    ]
    got = _read(lines)
    assert (got["family_name"], got["given_names"]) == ("SAMPLE", "CARON LYNN")
    lines = [
        _line("12DOE", 349, 161),
        _line("JANE", 374, 193),
        _line("123 ANYWHERE ST", 348, 234),
        _line("ANYTOWN,OH 12345", 376, 267),
    ]
    got = _read(lines)
    assert (got["family_name"], got["given_names"]) == ("DOE", "JANE")


def test_header_words_stop_the_name_block() -> None:
    lines = [
        _line("DRIVER LICENSE", 310, 95),
        _line("SAMPLE", 310, 133),
        _line("123 MAIN ST", 310, 170),
        _line("X, IA 50301", 310, 210),
    ]
    got = _read(lines)
    assert "family_name" not in got  # one unnumbered line: which part it is cannot be told
    assert got.get("given_names") == "SAMPLE"


def test_issuer_cues() -> None:
    assert find_issuer([_line("West Virginia", 215, 0, 300, 90)]) == ("WV", "West Virginia")
    assert find_issuer([_line("onnecticut", 498, 25, 300, 76)]) == ("CT", "onnecticut")  # first letter cut off
    assert find_issuer([_line("KENTUCKYDRIVER'S LICENSE", 30, 27, 600, 70)]) == ("KY", "KENTUCKYDRIVER'S LICENSE")
    assert find_issuer([_line("USA NE", 584, 13)]) == ("NE", "USA NE")
    assert find_issuer([_line("USA", 927, 25, 60, 46), _line("TX", 937, 57, 40, 44)]) == ("TX", "TX")
    assert find_issuer([_line("TX", 937, 57, 40, 44)]) is None  # a lone code is not enough
    # the highest line naming a state wins: the holder's city below the header is not the issuer
    lines = [_line("DISTRICT OF COLUMBIA", 43, 33, 300), _line("WASHINGTON", 319, 200)]
    assert find_issuer(lines) == ("DC", "DISTRICT OF COLUMBIA")
    assert find_issuer([_line("ANYTOWN, CA 95818", 335, 325, 300)]) == ("CA", "ANYTOWN, CA 95818")  # the address
    assert find_issuer([_line("ANYCITY, AA 00000", 335, 325, 300)]) is None
    assert set(STATES) >= {"DC", "PR"} and len(STATES) == 56


def test_generated_layout_keeps_its_names() -> None:
    """Cards printing no address (the project's generated fronts): names from the AAMVA label reader."""
    lines = [
        _line("VIRGINIA DRIVER'S LICENSE", 35, 28, 500, 47),
        _line("4d DLN D1234567", 354, 147, 300),
        _line("SAMPLE", 466, 202),
        _line("ALEX JORDAN", 464, 257),
        _line("2", 359, 265, 10, 17),
        _line("01/15/1985", 463, 311),
        _line("3 DOB", 352, 313, 90, 33),
        _line("4bEXP 01/15/2030", 357, 370, 300),
        _line("01/15/2022", 463, 422),
        _line("4a ISS", 354, 423, 90, 32),
    ]
    got = {f.name: f.value for f in read_licence_printed(lines)}
    assert got == {
        "issuing_state": "VA",
        "document_number": "D1234567",
        "birth_date": "1985-01-15",
        "expiry_date": "2030-01-15",
        "issue_date": "2022-01-15",
        "family_name": "SAMPLE",
        "given_names": "ALEX JORDAN",
    }


_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 :./-#,'", max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_TEXT, st.integers(0, 900), st.integers(0, 600)), max_size=12))
def test_any_lines_give_well_formed_fields(items: list[tuple[str, int, int]]) -> None:
    """Whatever OCR returns, every reported value has its field's format and comes from the text read."""
    lines = [_line(text, x, y) for text, x, y in items if text.strip()]
    seen = "".join(comparable(ln.text) for ln in lines)
    for f in read_licence_front(lines):
        if f.name.endswith("_date"):
            assert len(f.value) == 10 and f.value[4] == "-" and f.value[7] == "-"
        elif f.name == "document_number":
            assert 5 <= len(f.value) <= 17 and f.value.isalnum() and sum(c.isdigit() for c in f.value) >= 4
            assert f.value in seen
        elif f.name == "sex":
            assert f.value in ("M", "F", "X")
        elif f.name == "issuing_state":
            assert f.value in STATES
        else:
            assert f.value.replace(" ", "").replace("-", "").replace("'", "").isalpha()


def test_a_holder_named_after_a_state_does_not_name_the_issuer() -> None:
    lines = [
        _line("DRIVER LICENSE", 300, 20, 300),
        _line("1 SAMPLE", 300, 100),
        _line("2 GEORGIA", 300, 140),
        _line("123 MAIN ST", 300, 180),
        _line("AUSTIN, TX 78701", 300, 220),
    ]
    got = _read(lines)
    assert (got["issuing_state"], got["family_name"], got["given_names"]) == ("TX", "SAMPLE", "GEORGIA")


def test_printed_state_is_checked_against_the_barcode_issuer() -> None:
    from openidv.checks import Status
    from openidv.document.engine import _issuer_check
    from openidv.document.types import FieldSource, FieldValue

    printed = FieldValue("issuing_state", "OH", FieldSource.PRINTED, raw="Ohio")
    agree = _issuer_check("US-OH", printed)
    assert (agree.name, agree.status, agree.reason) == ("issuer_printed_barcode", Status.PASS, "issuer_agrees")
    differ = _issuer_check("US-VA", printed)
    assert (differ.status, differ.reason) == (Status.FAIL, "issuer_mismatch")
