"""Printed-zone extraction, normalisation and cross-checks (pure logic, no OCR model)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openidv.checks import Status
from openidv.document.crosscheck import cross_check, same_name
from openidv.document.normalize import normalize_name, parse_date
from openidv.document.ocr import OcrLine, group_rows
from openidv.document.types import FieldSource, FieldValue
from openidv.document.vizone import extract_printed_fields, label_lines


def _line(text: str, x: float, y: float, w: float = 200, h: float = 30) -> OcrLine:
    box = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
    return OcrLine(text, box, 0.95)


def test_parse_date_formats() -> None:
    assert parse_date("3 DOB 01/15/1985") == date(1985, 1, 15)
    assert parse_date("15.01.1985", order="dmy") == date(1985, 1, 15)
    assert parse_date("15 JAN 1985") == date(1985, 1, 15)
    assert parse_date("15 JAN/JAN 1985") == date(1985, 1, 15)
    assert parse_date("1985-01-15") == date(1985, 1, 15)
    assert parse_date("13/45/1985") is None
    assert parse_date("no date here") is None


def test_normalize_name() -> None:
    assert normalize_name("  Española,  José-María ") == "ESPANOLA JOSE-MARIA"
    assert normalize_name("O'NEIL<<ANN") == "O'NEIL ANN"


def test_us_licence_layout() -> None:
    lines = [
        _line("4d DLN", 360, 150, 100),
        _line("D1234567", 470, 146),
        _line("1", 360, 205, 20),
        _line("SAMPLE", 470, 201),
        _line("2", 360, 260, 20),
        _line("ALEX JORDAN", 470, 256),
        _line("3 DOB", 360, 315, 90),
        _line("01/15/1985", 470, 311),
        _line("4b EXP", 360, 370, 90),
        _line("01/15/2030", 470, 366),
        _line("4a ISS 01/15/2022", 360, 425, 300),
    ]
    got = {f.name: f.value for f in extract_printed_fields(lines)}
    assert got == {
        "document_number": "D1234567",
        "family_name": "SAMPLE",
        "given_names": "ALEX JORDAN",
        "birth_date": "1985-01-15",
        "expiry_date": "2030-01-15",
        "issue_date": "2022-01-15",
    }


#: A passport data page's printed zone: each label above its value (x, y, width, height in px).
_PASSPORT_LABELS = {
    "number": "Passport No. / No. du Passeport",
    "surname": "Surname / Nom",
    "given": "Given Names / Prenoms",
    "birth": "Date of birth / Date de naissance",
    "place": "Place of birth / Lieu de naissance",
    "sex": "Sex / Sexe",
    "expiry": "Date of expiration",
    "issue": "Date of issue / Date de delivrance",
}
_PASSPORT_VALUES = {
    "document_number": "963545637",
    "family_name": "TRAVELER",
    "given_names": "HAPPY",
    "birth_date": "1985-01-15",
    "sex": "F",
    "expiry_date": "2030-04-13",
    "issue_date": "2020-04-14",
}


def _passport_page(**labels: str) -> list[OcrLine]:
    """The printed zone of :data:`_PASSPORT_VALUES`'s page, with the given labels' texts replaced."""
    text = {**_PASSPORT_LABELS, **labels}
    return [
        _line(text["number"], 1000, 170, 330, 22),
        _line("963545637", 1000, 198, 160),
        _line(text["surname"], 520, 260, 150, 22),
        _line("TRAVELER", 520, 288, 160),
        _line(text["given"], 520, 350, 230, 22),
        _line("HAPPY", 520, 378, 100),
        _line(text["birth"], 520, 530, 330, 22),
        _line("15 JAN 1985", 520, 558, 180),
        _line(text["place"], 520, 620, 330, 22),
        _line("CALIFORNIA, U.S.A.", 520, 648, 250),
        _line(text["sex"], 1100, 620, 100, 22),
        _line("F", 1100, 648, 20),
        _line(text["expiry"], 1000, 710, 200, 22),
        _line("13 APR 2030", 1000, 738, 180),
        _line(text["issue"], 520, 710, 330, 22),
        _line("14 APR 2020", 520, 738, 180),
    ]


def test_passport_layout_values_below_labels() -> None:
    got = {f.name: f.value for f in extract_printed_fields(_passport_page(), date_order="dmy")}
    assert got == _PASSPORT_VALUES


def test_group_rows() -> None:
    rows = group_rows([_line("b", 300, 102), _line("a", 10, 100), _line("c", 10, 200)])
    assert [[x.text for x in r] for r in rows] == [["a", "b"], ["c"]]


def _f(name: str, value: str, source: FieldSource) -> FieldValue:
    return FieldValue(name, value, source)


def test_cross_check_agree_with_name_order_and_truncation() -> None:
    fields = [
        _f("family_name", "ESPANOLA ESPANOLA", FieldSource.MRZ),
        _f("given_names", "CARMEN", FieldSource.MRZ),
        _f("birth_date", "1972-12-01", FieldSource.MRZ),
        _f("document_number", "AAA100001", FieldSource.MRZ),
        _f("family_name", "Española Española", FieldSource.PRINTED),
        _f("given_names", "Carmen", FieldSource.PRINTED),
        _f("birth_date", "1972-12-01", FieldSource.PRINTED),
        _f("document_number", "AAAI0000I", FieldSource.PRINTED),
    ]
    r = cross_check(fields, FieldSource.MRZ, FieldSource.PRINTED)
    assert r.status is Status.PASS and r.score == 1.0
    assert set(r.data["compared"]) == {"birth_date", "document_number", "name"}


def test_cross_check_names_the_mismatch() -> None:
    fields = [
        _f("birth_date", "1985-01-15", FieldSource.BARCODE),
        _f("family_name", "SAMPLE", FieldSource.BARCODE),
        _f("birth_date", "1995-01-15", FieldSource.PRINTED),
        _f("family_name", "SAMPLE", FieldSource.PRINTED),
    ]
    r = cross_check(fields, FieldSource.BARCODE, FieldSource.PRINTED)
    assert r.status is Status.FAIL and r.reason == "fields_mismatch"
    assert list(r.data["mismatches"]) == ["birth_date"] and "birth_date" in r.detail


def test_cross_check_nothing_in_common() -> None:
    r = cross_check([_f("sex", "F", FieldSource.MRZ)], FieldSource.MRZ, FieldSource.BARCODE)
    assert r.status is Status.INCONCLUSIVE


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("JOHN SMITH", "SMITH JOHN", True),
        ("JOHN A SMITH", "JOHN SMITH", True),
        ("ALEXANDRA SMITHERSON", "ALEXANDR SMITHERSO", True),
        ("JOHN SMITH", "JANE SMITH", False),
        ("JOHN SMITH", "JOHN DOE", False),
    ],
)
def test_same_name(a: str, b: str, same: bool) -> None:
    assert same_name(a.split(), b.split()) is same


@given(st.lists(st.sampled_from(["ANN", "BOB", "CRUZ", "DEE", "EVA"]), min_size=1, max_size=4))
def test_same_name_reflexive_and_order_free(tokens: list[str]) -> None:
    assert same_name(tokens, list(reversed(tokens)))


def test_printed_names_tolerate_one_ocr_error_per_eight_letters() -> None:
    fields = [
        _f("family_name", "LINDQVIST", FieldSource.MRZ),
        _f("given_names", "NADIA CALEB", FieldSource.MRZ),
        _f("family_name", "LINDOVIST", FieldSource.PRINTED),
        _f("given_names", "NADIACALEB", FieldSource.PRINTED),
    ]
    assert cross_check(fields, FieldSource.MRZ, FieldSource.PRINTED).status is Status.PASS
    other = [*fields[:2], _f("family_name", "LINDGREN", FieldSource.PRINTED), fields[3]]
    assert cross_check(other, FieldSource.MRZ, FieldSource.PRINTED).status is Status.FAIL
    barcode = [_f("family_name", "LINDQVIST", FieldSource.BARCODE), _f("family_name", "LINDOVIST", FieldSource.MRZ)]
    assert cross_check(barcode, FieldSource.BARCODE, FieldSource.MRZ).status is Status.FAIL  # no OCR between them


def test_licence_values_are_never_taken_from_the_next_line() -> None:
    lines = [_line("3 DOB", 360, 315, 90), _line("4b EXP", 360, 370, 90), _line("01/15/2030", 470, 366)]
    got = {f.name: f.value for f in extract_printed_fields(lines)}
    assert "birth_date" not in got and got["expiry_date"] == "2030-01-15"


def test_name_compared_on_the_parts_both_sides_read() -> None:
    fields = [
        _f("family_name", "JOHNSON", FieldSource.MRZ),
        _f("given_names", "JAMAL TOMAS", FieldSource.MRZ),
        _f("family_name", "JOHNSON", FieldSource.PRINTED),
    ]
    assert cross_check(fields, FieldSource.MRZ, FieldSource.PRINTED).status is Status.PASS
    wrong = [*fields[:2], _f("family_name", "JACKSON", FieldSource.PRINTED)]
    assert cross_check(wrong, FieldSource.MRZ, FieldSource.PRINTED).status is Status.FAIL


def test_licence_family_name_by_position_when_its_label_is_missed() -> None:
    lines = [
        _line("4dDLNJ37372178", 360, 150, 300),  # value glued to its label
        _line("KOWALSKI", 470, 196, 200, 40),  # the small "1" label was not detected
        _line("2", 360, 260, 20),
        _line("JAMAL MARCUS", 470, 256),
        _line("3D0B", 360, 315, 90),  # O read as zero
        _line("09/30/1957", 470, 311),
    ]
    got = {f.name: f.value for f in extract_printed_fields(lines)}
    assert got == {
        "document_number": "J37372178",
        "family_name": "KOWALSKI",
        "given_names": "JAMAL MARCUS",
        "birth_date": "1957-09-30",
    }


def test_licence_birth_date_label_with_its_b_read_as_8() -> None:
    lines = [
        _line("4d DLN N34759314", 354, 150, 300),
        _line("NGUYEN", 464, 205, 200, 40),
        _line("CALEB DANA", 464, 260),
        _line("3DO8", 354, 315, 90),  # B read as 8
        _line("05/26/1943", 464, 311),
        _line("4bEXP", 357, 370, 90),
        _line("07/20/2033", 461, 366),
    ]
    got = {f.name: f.value for f in extract_printed_fields(lines)}
    assert got == {
        "document_number": "N34759314",
        "family_name": "NGUYEN",
        "given_names": "CALEB DANA",
        "birth_date": "1943-05-26",
        "expiry_date": "2033-07-20",
    }
    # "D08" alone (no field number) starts document numbers: not a birth-date label
    lines = [_line("DL D0812345", 354, 150, 300), _line("05/26/1943", 464, 150)]
    assert "birth_date" not in {f.name for f in extract_printed_fields(lines)}


def test_misread_label_is_not_a_name() -> None:
    lines = [_line("Surname/Nom", 400, 100), _line("PREHOMS", 400, 140)]
    assert "family_name" not in {f.name for f in extract_printed_fields(lines, date_order="dmy")}


def test_bilingual_label_read_without_its_slash_is_not_a_name() -> None:
    # "Type/Type" read as one word and merged with the value below it
    lines = [_line("Surname/Nom", 400, 100), _line("TYPETYPE JOHNSON", 400, 140)]
    assert "family_name" not in {f.name for f in extract_printed_fields(lines, date_order="dmy")}
    lines = [_line("Surname/Nom", 400, 100), _line("JOHNSON", 400, 140)]
    assert {f.name: f.value for f in extract_printed_fields(lines, date_order="dmy")}["family_name"] == "JOHNSON"


def test_misread_bilingual_labels_are_not_names() -> None:
    for label in ("PENOMS", "PRENOTNS", "SURNAMEANOM", "NATIONATITYNATIONATITE"):  # labels as OCR read them
        lines = [_line("Surname/Nom", 400, 100), _line(label, 400, 140)]
        assert "family_name" not in {f.name for f in extract_printed_fields(lines, date_order="dmy")}, label
    for name in ("GIVENS", "BIRCH", "GLASS"):  # real names close to short label words are kept
        lines = [_line("Surname/Nom", 400, 100), _line(name, 400, 140)]
        assert {f.name: f.value for f in extract_printed_fields(lines, date_order="dmy")}["family_name"] == name


def test_name_read_into_the_wrong_part_is_inconclusive_but_a_new_name_fails() -> None:
    mrz = [_f("family_name", "KIMURA", FieldSource.MRZ), _f("given_names", "JAMAL HANNAH", FieldSource.MRZ)]
    # the family name's line was not read: the given names were taken for the family name
    confused = cross_check([*mrz, _f("family_name", "JAMAL HANNAH", FieldSource.PRINTED)], FieldSource.MRZ,
                           FieldSource.PRINTED)  # fmt: skip
    assert confused.status is Status.INCONCLUSIVE and confused.reason == "name_parts_confused", confused
    # the same with the space between the words dropped by OCR
    glued = cross_check([*mrz, _f("family_name", "JAMALHANNAH", FieldSource.PRINTED)], FieldSource.MRZ,
                        FieldSource.PRINTED)  # fmt: skip
    assert glued.status is Status.INCONCLUSIVE and glued.reason == "name_parts_confused", glued
    # a printed name with words of its own is an alteration, glued to genuine words or not
    for new_name in ("JOHNSON", "JAMALJOHNSON", "HANNAHJ"):
        altered = cross_check([*mrz, _f("family_name", new_name, FieldSource.PRINTED)], FieldSource.MRZ,
                              FieldSource.PRINTED)  # fmt: skip
        assert altered.status is Status.FAIL and altered.reason == "fields_mismatch", new_name


def test_cross_check_low_confidence_printed_value_is_inconclusive() -> None:
    fields = [
        _f("birth_date", "1985-01-15", FieldSource.BARCODE),
        _f("family_name", "SAMPLE", FieldSource.BARCODE),
        FieldValue("birth_date", "1995-01-15", FieldSource.PRINTED, raw="01/15/1995", confidence=0.6),
        FieldValue("family_name", "SAMPLE", FieldSource.PRINTED, confidence=0.99),
    ]
    r = cross_check(fields, FieldSource.BARCODE, FieldSource.PRINTED)
    assert r.status is Status.INCONCLUSIVE and r.reason == "low_ocr_confidence"
    assert list(r.data["uncertain"]) == ["birth_date"] and not r.data["mismatches"]
    # read confidently, the same disagreement fails
    fields[2] = FieldValue("birth_date", "1995-01-15", FieldSource.PRINTED, confidence=0.95)
    assert cross_check(fields, FieldSource.BARCODE, FieldSource.PRINTED).status is Status.FAIL


def test_one_ocr_confusable_character_is_uncertain_but_other_differences_fail() -> None:
    mrz = [_f("document_number", "063623051", FieldSource.MRZ), _f("birth_date", "1961-11-12", FieldSource.MRZ)]

    def check(number: str, birth: str) -> tuple[Status, str]:
        printed = [
            FieldValue("document_number", number, FieldSource.PRINTED, confidence=0.99),
            FieldValue("birth_date", birth, FieldSource.PRINTED, confidence=0.99),
        ]
        r = cross_check([*mrz, *printed], FieldSource.MRZ, FieldSource.PRINTED)
        return r.status, r.reason

    assert check("063623051", "1961-11-12") == (Status.PASS, "fields_agree")
    assert check("083623051", "1961-11-12") == (Status.INCONCLUSIVE, "ocr_confusable")  # 6 read as 8
    assert check("063623051", "1981-11-12") == (Status.INCONCLUSIVE, "ocr_confusable")
    assert check("083623051", "1981-11-12") == (Status.INCONCLUSIVE, "ocr_confusable")  # one in each field
    assert check("063623051", "1971-11-12") == (Status.FAIL, "fields_mismatch")  # 6 and 7 do not look alike
    assert check("083823051", "1961-11-12") == (Status.FAIL, "fields_mismatch")  # two characters
    assert check("063623051", "1961-12-11") == (Status.FAIL, "fields_mismatch")
    # between the barcode and the MRZ (no OCR on either side) one character is a mismatch
    machine = [_f("birth_date", "1961-11-12", FieldSource.BARCODE), _f("birth_date", "1981-11-12", FieldSource.MRZ)]
    assert cross_check(machine, FieldSource.BARCODE, FieldSource.MRZ).status is Status.FAIL


def test_passport_label_translation_is_not_a_value() -> None:
    # the other-language half of a bilingual label, cut or misread, on the label's own line
    lines = [_line("Surname / Nom", 400, 100), _line("NGUYEN", 400, 140), _line("Given Names/ Pre", 400, 200)]
    got = {f.name: f.value for f in extract_printed_fields(lines, date_order="dmy")}
    assert got == {"family_name": "NGUYEN"}
    # the slash misread as a letter: the value under the label wins over the label line's rest
    lines = [_line("Surname ANom", 400, 100), _line("KIMURA", 400, 140)]
    assert {f.name: f.value for f in extract_printed_fields(lines, date_order="dmy")}["family_name"] == "KIMURA"
    for name in ("DEL", "ANN"):  # short real names under the label are kept
        lines = [_line("Surname / Nom", 400, 100), _line(name, 400, 140)]
        assert {f.name: f.value for f in extract_printed_fields(lines, date_order="dmy")}["family_name"] == name


def test_approximate_find() -> None:
    from openidv.document.normalize import approximate_find

    text = "Date af expiratic"
    end, edits = approximate_find("DATE OF EXPIR", text) or (0, 99)
    assert edits == 1 and text[end:] == "atic"
    assert approximate_find("SURNAME", "SurnamexNom") == (7, 0)  # glued to its translation: no word boundary
    assert approximate_find("SURNAME", "Sumname / Nom")[1] == 1  # type: ignore[index]
    assert approximate_find("DATE OF BIRTH", "UNITED STATES OF AMERICA")[1] > 2  # type: ignore[index]
    assert approximate_find("", "x") is None and approximate_find("x", "   ") is None


def test_passport_labels_misread_by_ocr_still_find_their_values() -> None:
    """Small bilingual labels as OCR misread them on generated pages; the licence layout does not use this."""
    misread = {
        "number": "Passport No. /No. du Passepon",
        "surname": "SurnamexNom",
        "given": "Grven Name",
        "birth": "Dale of btrth/ Date de naissance",
        "expiry": "Daterof expuration",
        "issue": "Date of wsue/ Date de detvrance",
    }
    got = {f.name: f.value for f in extract_printed_fields(_passport_page(**misread), date_order="dmy")}
    assert got == _PASSPORT_VALUES
    # a label three edits away ("Data of hernth") is not taken as a label; its value is still read, by
    # position: the one date line the other dates' labels left unclaimed, first in reading order
    misread["birth"] = "Data of hernth/Date den"
    got = {f.name: f.value for f in extract_printed_fields(_passport_page(**misread), date_order="dmy")}
    assert got["birth_date"] == "1985-01-15" and got["family_name"] == "TRAVELER"


def _passport_values_only(drop: str = "") -> list[OcrLine]:
    """A passport page whose labels were all missed, with the line of value ``drop`` missed too."""
    lines = [
        _line("P", 520, 198, 20),
        _line("USA", 700, 198, 60),
        _line("963545637", 1000, 198, 160),
        _line("TRAVELER", 520, 288, 160),
        _line("HAPPY JANE", 520, 378, 160),
        _line("UNITED STATESOF AMERICA", 520, 468, 330),  # OCR dropped a space
        _line("15 JAN 1985", 520, 558, 180),
        _line("CALIFORNIA, U.S.A.", 520, 648, 250),
        _line("F", 1100, 648, 20),
        _line("14 APR 2020", 520, 738, 180),
        _line("13 APR 2030", 1000, 738, 180),
        _line("United States Department of State", 520, 828, 400),
    ]
    return [ln for ln in lines if ln.text != drop]


def test_passport_fields_by_position_when_no_label_is_read() -> None:
    got = {f.name: f.value for f in extract_printed_fields(_passport_values_only(), date_order="dmy")}
    assert got == {**_PASSPORT_VALUES, "given_names": "HAPPY JANE"}


def test_one_label_naming_both_name_parts_gives_neither() -> None:
    lines = [_line("Name (Surname, Given names)", 460, 170, 330, 40), _line("MAY LIN", 460, 215, 160, 40)]
    got = {f.name for f in extract_printed_fields(lines, date_order="dmy")}
    assert not got & {"family_name", "given_names"}


def test_passport_fields_by_position_are_not_shifted_by_a_missed_line() -> None:
    # a missed date line: the other two would take the wrong names, so no date is assigned
    got = {f.name for f in extract_printed_fields(_passport_values_only("14 APR 2020"), date_order="dmy")}
    assert not got & {"birth_date", "issue_date", "expiry_date"}
    # a missed surname: the given names are not taken for it
    got = {f.name: f.value for f in extract_printed_fields(_passport_values_only("TRAVELER"), date_order="dmy")}
    assert "family_name" not in got and "given_names" not in got and got["birth_date"] == "1985-01-15"
    # a misread label above the number is not taken for it
    lines = [_line("Type7Type", 520, 170, 120, 22), *_passport_values_only("963545637")]
    assert "document_number" not in {f.name for f in extract_printed_fields(lines, date_order="dmy")}
    # the sex misread as the type letter: not guessed
    lines = [ln if ln.text != "F" else _line("P", 1100, 648, 20) for ln in _passport_values_only()]
    assert "sex" not in {f.name for f in extract_printed_fields(lines, date_order="dmy")}
    # the licence layout never reads by page position
    assert not extract_printed_fields(_passport_values_only(), date_order="mdy", values_below=False)


def test_a_fuzzy_label_must_be_nearer_its_own_label_than_any_other() -> None:
    # "Place of birth" is 2 edits from "Date of birth" but 0 from its own label: the date under it
    # (the issue date, on a tilted page whose place value overlaps) is not a birth date
    lines = [
        _line("Place of birth Lieu de naissance", 456, 546, 330, 24),
        _line("03 FEB 2022", 450, 575, 180),
    ]
    assert "birth_date" not in {f.name for f in extract_printed_fields(lines, date_order="dmy")}
    lines[0] = _line("Dale of btrth/ Date de naissance", 456, 546, 330, 24)
    assert {f.name: f.value for f in extract_printed_fields(lines, date_order="dmy")}["birth_date"] == "2022-02-03"


def test_label_lines_are_small_lines_right_above_a_value() -> None:
    def quad(x: float, y: float, w: float, h: float) -> np.ndarray:
        return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)

    lines = [
        quad(520, 260, 150, 30),  # "Surname / Nom": 30 px, its value starts right under it
        quad(520, 290, 160, 44),  # "TRAVELER"
        quad(520, 350, 230, 30),  # "Given Names / Prenoms"
        quad(520, 380, 100, 44),  # "HAPPY"
        quad(520, 445, 180, 44),  # "UNITED STATES OF AMERICA": a value, a full line height above the next
        quad(520, 500, 180, 44),  # "15 JAN 1985" (no label read above it)
        quad(520, 560, 330, 50),  # a taller value well below it
        quad(1000, 440, 180, 60),  # "SPECIMEN": a stamp, taller than anything under it
        quad(1000, 505, 180, 44),
    ]
    assert label_lines(lines) == [True, False, True, False, False, False, False, False, False]
    # a dense layout (a real Taiwanese page) whose value is directly followed by the next label, as
    # tall: the value is taken for a label; the engine then reads the labels too, as its fields are
    # not all found without them
    assert label_lines([quad(870, 470, 200, 48), quad(865, 515, 220, 50)]) == [True, False]
