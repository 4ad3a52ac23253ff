"""AAMVA DL/ID barcode payloads: parsing, validation, encoding, evaluation."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from openidv.checks import CheckResult, Severity, Status
from openidv.decision.severity import severity_of
from openidv.document.aamva import (
    ELEMENTS,
    AamvaError,
    AamvaRecord,
    FormatDeviation,
    element_name,
    encode_aamva,
    encode_subfiles,
    parse_aamva,
    validate_aamva,
)
from openidv.document.codes import is_review_signal
from openidv.document.iin import IIN_TABLE, iin_for, lookup_iin
from openidv.document.types import FieldSource
from openidv.eval.aamva import evaluate_aamva, format_report
from openidv.synth.aamva_variants import SAME_SPOT, Deviation, make_sample
from tests.conftest import shared_path

TODAY = dt.date(2025, 6, 1)


def _us_elements(**overrides: str) -> dict[str, str]:
    """A complete version 04+ US DL element set (MMDDCCYY dates)."""
    e = {
        "DAQ": "S12345678",
        "DCS": "PUBLIC",
        "DDE": "N",
        "DAC": "JANE",
        "DDF": "N",
        "DAD": "Q",
        "DDG": "N",
        "DCA": "D",
        "DCB": "NONE",
        "DCD": "NONE",
        "DBD": "03152020",
        "DBB": "07041990",
        "DBA": "07042028",
        "DBC": "2",
        "DAU": "065 in",
        "DAY": "GRN",
        "DAG": "100 MAIN ST",
        "DAI": "RICHMOND",
        "DAJ": "VA",
        "DAK": "232190000",
        "DCF": "ABC123456789",
        "DCG": "USA",
        "DDA": "F",
    }
    e.update(overrides)
    return e


def _checks(rec: AamvaRecord, today: dt.date = TODAY) -> dict[str, tuple[Status, str]]:
    return {c.name: (c.status, c.reason) for c in validate_aamva(rec, today)}


# ------------------------------------------------------------------------------ IIN table


def test_iin_table() -> None:
    assert lookup_iin("636000") is not None and lookup_iin("636000").code == "VA"  # type: ignore[union-attr]
    assert lookup_iin("636006").name == "Connecticut"  # type: ignore[union-attr]
    assert lookup_iin("636012").is_canadian  # type: ignore[union-attr]
    assert lookup_iin("123456") is None
    assert iin_for("tx") == "636015"
    codes = {j.code for j in IIN_TABLE.values() if j.country == "USA"}
    states = set(
        re.findall(
            r"[A-Z]{2}",
            "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
            "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY",
        )
    )
    assert len(states) == 51
    assert states <= codes
    assert {"ON", "QC", "BC", "AB", "MB", "SK", "NS", "NB", "NL", "PE"} <= {
        j.code for j in IIN_TABLE.values() if j.is_canadian
    }
    assert all(len(i) == 6 and i.isdigit() for i in IIN_TABLE)


# ------------------------------------------------------------------------------ encode / parse


def test_encode_layout_matches_standard() -> None:
    text = encode_aamva({"DAQ": "X1", "DCS": "DOE", "ZVA": "01"}, iin="636000", version=8)
    assert text.startswith("@\n\x1e\rANSI 636000080002DL")
    rec = parse_aamva(text)
    assert rec.offsets_consistent and [(s.type, s.located_by) for s in rec.subfiles] == [
        ("DL", "offset"),
        ("ZV", "offset"),
    ]
    dl, zv = rec.directory
    assert text[dl.offset : dl.offset + 2] == "DL" and dl.offset + dl.length == zv.offset
    assert zv.offset + zv.length == len(text) and text.endswith("\r")
    assert rec.problems == []


_D_IDS = sorted(k for k in ELEMENTS if k[0] == "D")
_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    data=st.dictionaries(st.sampled_from(_D_IDS), _value.map(str.strip), min_size=1, max_size=25),
    zdata=st.dictionaries(st.sampled_from(["ZVA", "ZVB", "ZVC"]), _value.map(str.rstrip), max_size=3),
    version=st.integers(1, 10),
    jv=st.integers(0, 99),
    iin=st.from_regex(r"\A6360[0-9]{2}\Z"),
    stype=st.sampled_from(["DL", "ID"]),
)
def test_round_trip(data: dict[str, str], zdata: dict[str, str], version: int, jv: int, iin: str, stype: str) -> None:
    text = encode_aamva({**data, **zdata}, iin=iin, version=version, jurisdiction_version=jv, subfile_type=stype)
    rec = parse_aamva(text)
    assert rec.elements == {**data, **zdata}
    assert rec.header.iin == iin and rec.header.aamva_version == version and rec.header.file_type == "ANSI"
    assert rec.header.jurisdiction_version == (jv if version >= 2 else None)
    assert rec.offsets_consistent and not rec.separators_stripped
    assert rec.main_subfile is not None and rec.main_subfile.type == stype
    assert _checks(rec)["barcode_header"][0] is Status.PASS
    # Every check runs on whatever was encoded.
    assert len(validate_aamva(rec, TODAY)) == 7


@pytest.mark.parametrize(
    "bad",
    [
        {"fields": {}, "iin": "636000"},
        {"fields": {"DAQ": "1"}, "iin": "63600"},
        {"fields": {"daq": "1"}, "iin": "636000"},
        {"fields": {"DAQ": "1\n2"}, "iin": "636000"},
        {"fields": {"DAQ": "é"}, "iin": "636000"},
        {"fields": {"ZVA": "1"}, "iin": "636000"},
    ],
)
def test_encode_rejects_bad_input(bad: dict[str, object]) -> None:
    with pytest.raises(AamvaError):
        encode_aamva(bad["fields"], iin=str(bad["iin"]))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ dates and fields


@pytest.mark.parametrize("version", range(2, 11))
def test_us_dates_are_mmddccyy(version: int) -> None:
    rec = parse_aamva(encode_aamva(_us_elements(), iin="636000", version=version))
    assert rec.date_order == "MDY"
    fields = {f.name: f.value for f in rec.to_fields()}
    assert fields["birth_date"] == "1990-07-04"
    assert fields["issue_date"] == "2020-03-15"
    assert fields["expiry_date"] == "2028-07-04"


def test_version_01_dates_are_ccyymmdd() -> None:
    payload = encode_aamva(
        {"DAQ": "A1", "DAA": "DOE,JOHN,Q,JR", "DBB": "19800131", "DBD": "20100101", "DBA": "20200131"},
        iin="636003",
        version=1,
    )
    rec = parse_aamva(payload)
    assert rec.header.jurisdiction_version is None and rec.date_order == "YMD"
    fields = {f.name: f.value for f in rec.to_fields()}
    assert fields["birth_date"] == "1980-01-31"
    assert (fields["family_name"], fields["given_names"], fields["middle_names"], fields["name_suffix"]) == (
        "DOE",
        "JOHN",
        "Q",
        "JR",
    )


def test_canadian_dates_are_ccyymmdd() -> None:
    elements = _us_elements(DBB="19900704", DBD="20200315", DBA="20280704", DCG="CAN", DAJ="ON", DAK="K1A 0B1")
    rec = parse_aamva(encode_aamva(elements, iin="636012", version=8))  # Ontario
    assert rec.is_canadian and rec.date_order == "YMD"
    fields = {f.name: f.value for f in rec.to_fields()}
    assert fields["birth_date"] == "1990-07-04" and fields["address_postal_code"] == "K1A0B1"
    assert fields["issuing_state"] == "ON" and fields["issuing_country"] == "CAN"
    # Unknown IIN: DCG=CAN decides.
    assert parse_aamva(encode_aamva(elements, iin="999999", version=8)).date_order == "YMD"


def test_one_date_in_the_other_order_is_inconclusive() -> None:
    rec = parse_aamva(encode_aamva(_us_elements(DBB="19900704"), iin="636000"))
    assert rec.date("DBB") is None and rec.date_order == "MDY"
    status, reason = _checks(rec)["barcode_formats"]
    assert status is Status.INCONCLUSIVE and reason == "malformed_elements"
    detail = next(c.detail for c in validate_aamva(rec, TODAY) if c.name == "barcode_formats")
    assert "DBB" in detail and "other order" in detail


def test_all_dates_in_the_other_order_are_read_in_it() -> None:
    e = _us_elements(DBB="19900704", DBD="20200315", DBA="20280704", DDB="20190101")
    rec = parse_aamva(encode_aamva(e, iin="636000"))
    assert rec.date_order == "YMD" and rec.date("DBB") == dt.date(1990, 7, 4)
    c = next(c for c in validate_aamva(rec, TODAY) if c.name == "barcode_formats")
    assert (c.status, c.reason, severity_of(c.name, c.reason)) == (Status.INCONCLUSIVE, "date_order", Severity.ADVISORY)
    assert _checks(rec)["barcode_date_logic"] == (Status.PASS, "dates_consistent")


def test_impossible_key_date_fails() -> None:
    rec = parse_aamva(encode_aamva(_us_elements(DBB="13451990"), iin="636000"))
    assert _checks(rec)["barcode_formats"] == (Status.FAIL, "impossible_date")


def test_to_fields_normalisation() -> None:
    e = _us_elements(DCS="o'brien  smith ", DBC="1", DAK="23219-1234", DAQ="S-123-456", DAU="5 ft")
    e.pop("DAD")
    fields = {f.name: f for f in parse_aamva(encode_aamva(e, iin="636000")).to_fields()}
    assert fields["family_name"].value == "O'BRIEN SMITH"
    assert fields["given_names"].source is FieldSource.BARCODE
    assert fields["sex"].value == "M"
    assert fields["address_postal_code"].value == "23219"
    assert fields["document_number"].value == "S123456" and fields["document_number"].raw == "S-123-456"
    assert fields["issuing_state"].value == "VA"
    assert "height" not in fields  # "5 ft" is not an AAMVA height
    assert "middle_names" not in fields


def test_non_ascii_name_is_stripped_of_diacritics() -> None:
    text = encode_aamva(_us_elements(), iin="636000").replace("DACJANE", "DACJOSÉ")
    fields = {f.name: f.value for f in parse_aamva(text).to_fields()}
    assert fields["given_names"] == "JOSE"


def test_v03_given_names() -> None:
    e = {"DAQ": "1", "DCS": "SMITH", "DCT": "JOHN,ALAN", "DBB": "01021980"}
    fields = {f.name: f.value for f in parse_aamva(encode_aamva(e, iin="636039", version=3)).to_fields()}
    assert (fields["given_names"], fields["middle_names"]) == ("JOHN", "ALAN")
    e["DCT"] = "JOHN A"
    fields = {f.name: f.value for f in parse_aamva(encode_aamva(e, iin="636039", version=3)).to_fields()}
    assert fields["given_names"] == "JOHN A" and "middle_names" not in fields


def test_element_names() -> None:
    assert element_name("DCS") == "family name"
    assert element_name("DAQ").startswith("customer ID")
    assert "jurisdiction" in element_name("ZVA")


# ------------------------------------------------------------------------------ robustness


def _strip_separators(text: str) -> str:
    return text.replace("\n", "").replace("\x1e", "").replace("\r", "")


def test_stripped_separators_are_split_on_element_ids() -> None:
    e = _us_elements(DAI="DADE CITY", DAG="12 DAKOTA DR", DCU="")
    text = _strip_separators(encode_aamva({**e, "ZXA": "7", "ZXB": "Q"}, iin="636010", version=8))
    rec = parse_aamva(text)
    assert rec.separators_stripped and not rec.offsets_consistent
    assert rec.elements == {**e, "ZXA": "7", "ZXB": "Q"}
    assert any("no element separators" in p for p in rec.problems)
    assert _checks(rec)["barcode_header"] == (Status.INCONCLUSIVE, "separators_stripped")


def test_stripped_v01_with_mangled_file_type_and_no_designator() -> None:
    # Same shape as the aamvajs samples: '@' then 'AMVA ', v01 header, no 'DL' before the data.
    text = (
        "@AMVA 6360060101DL00290150DAADOE,JANE,,DAG1 ELM STDAIHARTFORDDAJCTDAK061060000  DAQ990001111"
        "DARD   DAS    DAT    DBA20300101DBB19850505DBC2DBD20220101DAU504DAYBRO"
    )
    rec = parse_aamva(text)
    assert rec.header.file_type == "AAMVA" and rec.header.iin == "636006" and rec.version == 1
    assert rec.elements["DAG"] == "1 ELM ST" and rec.elements["DAK"] == "061060000" and rec.elements["DAY"] == "BRO"
    fields = {f.name: f.value for f in rec.to_fields()}
    assert fields["given_names"] == "JANE" and fields["birth_date"] == "1985-05-05" and fields["height"] == "64 in"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("\r", "\n"),  # CR/LF swapped
        lambda t: t.replace("\n", "\r\n"),  # CRLF, offsets now wrong
        lambda t: t.replace("\n", "   \n"),  # trailing padding
        lambda t: t[3:],  # separators after '@' lost: offsets shifted
        lambda t: "  " + t + "\n\n",  # leading / trailing whitespace
        lambda t: t.replace("\n", "\n\n"),  # extra separators
    ],
)
def test_header_and_separator_variants(mutate: object) -> None:
    e = _us_elements()
    text = mutate(encode_aamva({**e, "ZVA": "01"}, iin="636000"))  # type: ignore[operator]
    rec = parse_aamva(text)
    assert rec.elements == {**e, "ZVA": "01"}


def _header_check(rec: AamvaRecord) -> CheckResult:
    return next(c for c in validate_aamva(rec, TODAY) if c.name == "barcode_header")


def test_wrong_offsets_are_an_advisory_deviation() -> None:
    text = encode_aamva({**_us_elements(), "ZVA": "01"}, iin="636000")
    rec = parse_aamva(text.replace("DL0041", "DL0045", 1))
    assert rec.elements == {**_us_elements(), "ZVA": "01"}
    c = _header_check(rec)
    assert (c.status, c.reason) == (Status.INCONCLUSIVE, "format_deviations")
    assert severity_of(c.name, c.reason) is Severity.ADVISORY
    assert "offsets_wrong" in c.data["deviations"]


def test_entry_count_mismatch_is_named() -> None:
    text = encode_aamva(_us_elements(), iin="636000")
    rec = parse_aamva(text.replace("ANSI 636000100001", "ANSI 636000100002", 1))
    c = _header_check(rec)
    assert c.status is Status.INCONCLUSIVE and c.data["deviations"] == ["entry_count"]


def test_missing_subfile_is_inconclusive_and_counts() -> None:
    text = encode_aamva({**_us_elements(), "ZVA": "01"}, iin="636000")
    rec = parse_aamva(text[: text.index("ZVZVA")])
    c = _header_check(rec)
    assert (c.status, c.reason) == (Status.INCONCLUSIVE, "subfile_missing")
    assert severity_of(c.name, c.reason) is Severity.REVIEW


def test_no_dl_subfile_fails() -> None:
    text = encode_subfiles([("ZV", [("ZVA", "01")])], iin="636000")
    rec = parse_aamva(text)
    assert _checks(rec)["barcode_header"] == (Status.FAIL, "no_dl_id_subfile")
    assert _checks(rec)["barcode_mandatory_elements"][0] is Status.FAIL


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "hello world",
        "%VARICHMOND^DOE$JOHN^100 MAIN ST^?",  # magnetic stripe, not a barcode payload
        "@\n\x1e\rANSI 63600",  # truncated header
        "@\n\x1e\rANSI 636000100",  # no entry count
        "@\n\x1e\rANSI 636000100201DL00410010",  # directory but no data
    ],
)
def test_unparseable_raises_typed_error(text: str) -> None:
    with pytest.raises(AamvaError) as info:
        parse_aamva(text)
    assert info.value.code == "bad_barcode_payload"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_fuzz_random_text(text: str) -> None:
    try:
        rec = parse_aamva(text)
    except AamvaError:
        return
    validate_aamva(rec, TODAY)
    rec.to_fields()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(1, 12))
def test_fuzz_mutated_payloads(seed: int, n_edits: int) -> None:
    rng = random.Random(seed)
    chars = list(encode_aamva({**_us_elements(), "ZVA": "01"}, iin="636000"))
    alphabet = "\n\r\x1e @DAQZV0123456789ANSIDLCS"
    for _ in range(n_edits):
        op, i = rng.randrange(3), rng.randrange(len(chars) + 1)
        if op == 0 and i < len(chars):
            del chars[i]
        elif op == 1:
            chars.insert(i, rng.choice(alphabet))
        elif i < len(chars):
            chars[i] = rng.choice(alphabet)
    try:
        rec = parse_aamva("".join(chars))
    except AamvaError:
        return
    for c in validate_aamva(rec, TODAY):
        assert c.score is None or 0.0 <= c.score <= 1.0
    rec.to_fields()
    rec.to_dict()


# ------------------------------------------------------------------------------ validation


def test_valid_us_licence_passes_everything() -> None:
    checks = _checks(parse_aamva(encode_aamva(_us_elements(), iin="636000")))
    assert all(status is Status.PASS for status, _ in checks.values()), checks


def test_expired() -> None:
    rec = parse_aamva(encode_aamva(_us_elements(DBA="01012024"), iin="636000"))
    assert _checks(rec)["document_not_expired"] == (Status.FAIL, "expired")
    assert _checks(rec, dt.date(2023, 12, 31))["document_not_expired"][0] is Status.PASS


def test_under_18() -> None:
    rec = parse_aamva(encode_aamva(_us_elements(DBB="06022007"), iin="636000"))
    assert _checks(rec)["age_at_least_18"] == (Status.FAIL, "under_18")
    assert _checks(rec, dt.date(2025, 6, 2))["age_at_least_18"][0] is Status.PASS


def test_canadian_issuer_is_not_us() -> None:
    e = _us_elements(DBB="19900704", DBD="20200315", DBA="20280704", DCG="CAN", DAJ="ON", DAK="K1A0B1")
    checks = _checks(parse_aamva(encode_aamva(e, iin="636012")))
    assert checks["us_issuer"] == (Status.FAIL, "non_us_issuer")
    assert checks["barcode_formats"][0] is Status.PASS and checks["barcode_date_logic"][0] is Status.PASS
    assert _checks(parse_aamva(encode_aamva(_us_elements(), iin="999999")))["us_issuer"][0] is Status.INCONCLUSIVE


def test_missing_mandatory_elements() -> None:
    e = _us_elements()
    del e["DCS"], e["DAQ"]
    rec = parse_aamva(encode_aamva(e, iin="636000"))
    c = next(c for c in validate_aamva(rec, TODAY) if c.name == "barcode_mandatory_elements")
    assert c.status is Status.FAIL and "DCS" in c.detail and "DAQ" in c.detail
    # v03: the 2005 set (DCT instead of DAC/DAD); DCF/DCH not certain -> inconclusive.
    v3 = {k: v for k, v in _us_elements(DCT="JANE").items() if k not in {"DAC", "DAD", "DCF"}}
    assert _checks(parse_aamva(encode_aamva(v3, iin="636000", version=3)))["barcode_mandatory_elements"] == (
        Status.INCONCLUSIVE,
        "missing_uncertain_elements",
    )


def test_issue_after_expiry_and_future_issue() -> None:
    rec = parse_aamva(encode_aamva(_us_elements(DBD="08012028"), iin="636000"))
    c = next(c for c in validate_aamva(rec, TODAY) if c.name == "barcode_date_logic")
    assert c.status is Status.FAIL and "DBD" in c.detail and "DBA" in c.detail
    assert "issue_in_future" not in c.reason or "after" in c.detail
    rec = parse_aamva(encode_aamva(_us_elements(DBB="01011880"), iin="636000"))
    assert _checks(rec)["barcode_date_logic"] == (Status.FAIL, "implausible_birth_date")
    rec = parse_aamva(encode_aamva(_us_elements(DBD="01012026"), iin="636000"))
    assert _checks(rec)["barcode_date_logic"] == (Status.FAIL, "issue_in_future")


def test_bad_formats_named() -> None:
    rec = parse_aamva(encode_aamva(_us_elements(DBC="7", DAJ="V1", DDE="Y"), iin="636000"))
    c = next(c for c in validate_aamva(rec, TODAY) if c.name == "barcode_formats")
    assert c.status is Status.INCONCLUSIVE and c.reason == "malformed_elements"
    assert all(k in c.detail for k in ("DBC", "DAJ", "DDE"))
    assert c.score is not None and 0.0 < c.score < 1.0


def test_unusual_soft_values_are_inconclusive() -> None:
    rec = parse_aamva(encode_aamva(_us_elements(DAY="PUR"), iin="636000"))
    assert _checks(rec)["barcode_formats"] == (Status.INCONCLUSIVE, "unusual_element_values")


def test_oversized_payload_rejected() -> None:
    text = encode_aamva(_us_elements(), iin="636000") + "X" * 10_000
    with pytest.raises(AamvaError):
        parse_aamva(text)


def test_adversarial_separatorless_payload_is_fast() -> None:
    import time

    body = "".join(k + "X" for k in ["DAQ", "DCS", "DAC", "DAD", "DAG", "DAI", "DBA", "DBB", "DBC"] * 150)
    directory = "@\n\x1e\rANSI 636000100199" + "".join(f"DL{i:04d}0010" for i in range(99))
    t0 = time.perf_counter()
    parse_aamva("@ANSI 636000100001DL00319999DL" + body[:8000])
    for filler in ("DL0", "DL0\n", "\nZVZ", "\nDL1DAQ1"):  # 99 subfiles searched among thousands of look-alikes
        with contextlib.suppress(AamvaError):
            parse_aamva((directory + filler * 3000)[:8192])
    assert time.perf_counter() - t0 < 2.0


# ------------------------------------------------------------------------------ evaluation


@pytest.mark.parametrize(
    ("label", "invalid"),
    [
        ({"upstream_expect": "parses without error (src/lib.rs test it_works)"}, False),
        ({"upstream_expect": "must fail: bad header"}, True),
        ({"upstream_expect": "returns null"}, True),
        ({"expected_valid": False}, True),
        ({"expected_invalid": True}, True),
        ({"category_from_filename": "invalid"}, False),  # not an expectation key
        ({}, False),
    ],
)
def test_expected_invalid_label_reading(label: dict[str, object], invalid: bool) -> None:
    from openidv.eval.aamva import _expected_invalid

    assert _expected_invalid(label) is invalid


def test_evaluate_generated_labels(tmp_path: Path) -> None:
    good = _us_elements()
    (tmp_path / "good.txt").write_bytes(encode_aamva({**good, "ZVA": "01"}, iin="636000").encode())
    (tmp_path / "bad.txt").write_text("%VA^NOT A BARCODE?")
    truncated = encode_aamva(good, iin="636000")[:120]
    (tmp_path / "trunc.txt").write_bytes(truncated.encode())
    labels = [
        {
            "file": "good.txt",
            "upstream_expect": "parses without error",
            "derived_elements": {"DAQ": "S12345678", "DCS": "PUBLIC", "ZVA": "01"},
            "derived_header": {"iin": "636000", "aamva_version": "10", "subfile_designators": ["DL", "ZV"]},
            "upstream_expected": {"name.first": "JANE", "birthday": "19900704", "sex": "FEMALE", "colour": "x"},
        },
        {"file": "bad.txt", "expected_valid": False},
        {"file": "trunc.txt", "upstream_expect": "must fail: truncated payload"},
        {"file": "missing.txt", "derived_elements": {"DAQ": "1"}},
    ]
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text("\n".join(json.dumps(x) for x in labels) + "\n")
    d = evaluate_aamva(jsonl, tmp_path, today=TODAY).to_dict()
    assert d["n"] == 4 and d["parsed"] == 2
    assert d["fields_total"] == 3 + 4 + 4 + 1
    assert d["fields_correct"] == 3 + 4 + 3  # unmapped label key 'colour' and the missing file are wrong
    assert d["expected_invalid_n"] == 2 and d["expected_invalid_flagged"] == 2
    assert d["valid_flagged"] == 0
    report = format_report(evaluate_aamva(jsonl, tmp_path, today=TODAY))
    assert "upstream.colour" in report and "missing.txt" in report


def test_evaluate_rejects_malformed_label_file(tmp_path: Path) -> None:
    from openidv.errors import DataFormatError

    bad = tmp_path / "x.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(DataFormatError):
        evaluate_aamva(bad, tmp_path)


@pytest.mark.shared_data
@pytest.mark.parametrize("folder", ["aamva_syfaro_va", "aamva_aamvajs", "aamva_appliedrecognition"])
def test_shared_payloads_all_fields_correct(folder: str) -> None:
    root = shared_path(folder)
    result = evaluate_aamva(root / "aamva_expected.jsonl", root, today=TODAY)
    d = result.to_dict()
    assert d["n"] > 0 and d["parsed"] == d["n"], format_report(result)
    assert d["fields_total"] > 0 and d["fields_correct"] == d["fields_total"], format_report(result)
    assert d["valid_flagged"] == 0, format_report(result)


# ------------------------------------------------------------------------------ real-world deviations

_CLEAN_HEADER = {Deviation.NONE, Deviation.SECOND_DL_AFTER_Z}  # the directory lists every subfile at its offset


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deviation=st.sampled_from(list(Deviation)), seed=st.integers(0, 2**32 - 1))
def test_every_deviation_parses_every_field_and_fails_nothing(deviation: Deviation, seed: int) -> None:
    sample = make_sample(random.Random(seed), deviation)
    rec = parse_aamva(sample.text)
    assert rec.elements == {k: v.strip() for k, v in sample.elements.items()}, rec.problems
    assert (rec.header.iin, rec.header.aamva_version) == (sample.iin, 10)
    if deviation not in {Deviation.NO_JURISDICTION_VERSION, Deviation.NO_ENTRY_COUNT}:
        assert rec.header.jurisdiction_version == sample.jurisdiction_version
    checks = {c.name: c for c in validate_aamva(rec, dt.date(2026, 6, 1))}
    assert not [c for c in checks.values() if c.status is Status.FAIL], checks
    header = checks["barcode_header"]
    if deviation in _CLEAN_HEADER:
        assert header.status is Status.PASS, header
    else:  # named, inconclusive and advisory: it does not hold an approval back
        assert (header.status, header.reason) == (Status.INCONCLUSIVE, "format_deviations"), header
        assert severity_of(header.name, header.reason) is Severity.ADVISORY
        assert header.data["deviations"]
    assert checks["barcode_mandatory_elements"].status is Status.PASS
    assert checks["barcode_formats"].status is Status.PASS


_PAIRABLE = [
    d for d in Deviation if d not in {Deviation.NONE, Deviation.NO_ENTRY_COUNT, Deviation.NO_JURISDICTION_VERSION}
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.sampled_from(_PAIRABLE), second=st.sampled_from(_PAIRABLE), seed=st.integers(0, 2**32 - 1))
def test_two_deviations_together_still_parse(first: Deviation, second: Deviation, seed: int) -> None:
    """Real payloads combine deviations (a keyboard wedge on a payload whose issuer miscounted)."""
    assume(first != second and not any({first, second} <= group for group in SAME_SPOT))
    sample = make_sample(random.Random(seed), first, second)
    rec = parse_aamva(sample.text)
    assert rec.elements == {k: v.strip() for k, v in sample.elements.items()}, rec.problems
    assert not [c for c in validate_aamva(rec, dt.date(2026, 6, 1)) if c.status is Status.FAIL]


def test_deviations_are_named() -> None:
    rng = random.Random(3)
    named = {d: parse_aamva(make_sample(rng, d).text).deviations for d in Deviation}
    assert named[Deviation.NONE] == [] and named[Deviation.SECOND_DL_AFTER_Z] == []
    assert FormatDeviation.HEADER_SEPARATORS in named[Deviation.HEADER_LF_LF]
    assert FormatDeviation.NO_JURISDICTION_VERSION in named[Deviation.NO_JURISDICTION_VERSION]
    assert FormatDeviation.ENTRY_COUNT in named[Deviation.ENTRY_COUNT_MISCOUNT]
    assert FormatDeviation.NO_DIRECTORY in named[Deviation.EMPTY_DIRECTORY]
    assert FormatDeviation.SUBFILE_NOT_IN_DIRECTORY in named[Deviation.EMPTY_DIRECTORY]
    assert FormatDeviation.OFFSETS_SHIFTED in named[Deviation.OFFSETS_SHIFTED]
    assert FormatDeviation.LENGTH_MISCOUNT in named[Deviation.LENGTH_MISCOUNT]
    assert FormatDeviation.PREFIX_BEFORE_ELEMENTS in named[Deviation.VENDOR_PREFIX]
    assert FormatDeviation.OFFSETS_WRONG in named[Deviation.LETTER_OFFSETS]
    assert FormatDeviation.NO_DESIGNATOR in named[Deviation.NO_DESIGNATOR]
    assert FormatDeviation.DESIGNATOR_MISMATCH in named[Deviation.ID_FOR_DL]
    assert FormatDeviation.NO_DESIGNATOR in named[Deviation.BARE_Z_SUBFILE]
    assert FormatDeviation.ELEMENT_SEPARATORS in named[Deviation.PIPE_SEPARATORS]
    assert not any(FormatDeviation.SUBFILE_MISSING in v for v in named.values())


def test_second_dl_subfile_after_a_jurisdiction_one_is_read() -> None:
    e = _us_elements()
    items = list(e.items())
    empty_first = [(k, "") for k, _ in items[:5]]  # a first DL subfile with empty values
    text = encode_subfiles([("DL", empty_first), ("ZV", [("ZVA", "01")]), ("DL", items)], iin="636000")
    rec = parse_aamva(text)
    assert [s.type for s in rec.subfiles] == ["DL", "ZV", "DL"]
    assert rec.elements == {**e, "ZVA": "01"} and rec.dlid_elements == e
    assert _checks(rec)["barcode_mandatory_elements"] == (Status.PASS, "all_present")


def test_subfile_data_runs_past_a_short_declared_length() -> None:
    e = _us_elements(DDB="06062018")  # the last element, where a short length used to cut
    text = encode_aamva(e, iin="636000")
    i = text.index("DL", text.index("ANSI")) + 6  # the DL subfile's declared length
    short = text[:i] + f"{int(text[i : i + 4]) - 6:04d}" + text[i + 4 :]
    rec = parse_aamva(short)
    assert rec.elements == e


def test_two_header_digits_without_directory_are_the_jurisdiction_version() -> None:
    text = encode_aamva(_us_elements(), iin="636000", version=8, jurisdiction_version=3)
    no_directory = "@\n\x1e\rANSI 6360000803" + text[text.index("DLDAQ") :]
    rec = parse_aamva(no_directory)
    assert rec.header.jurisdiction_version == 3 and rec.elements == _us_elements()
    assert FormatDeviation.NO_DIRECTORY in rec.deviations
    with_directory = text.replace("ANSI 636000080301", "ANSI 6360000801", 1)
    rec = parse_aamva(with_directory)
    assert rec.header.jurisdiction_version is None and rec.header.number_of_entries == 1
    assert rec.deviations == [FormatDeviation.NO_JURISDICTION_VERSION, FormatDeviation.OFFSETS_SHIFTED]


def test_deviating_payload_survives_the_pdf417_round_trip() -> None:
    from openidv.document.barcode import decode_pdf417
    from openidv.synth import back as synth_back

    rng = random.Random(11)
    sample = make_sample(rng, Deviation.KEYBOARD_CRLF)
    card = synth_back.render_dl_back(sample.text, np.random.default_rng(2))
    read = decode_pdf417(card)
    assert read.text == sample.text
    assert parse_aamva(read.text).elements == sample.elements


def test_generated_suite_evaluates_clean(tmp_path: Path) -> None:
    from openidv.eval.aamva_suite import write_suite

    labels = write_suite(tmp_path, 2, seed=5)
    d = evaluate_aamva(labels, today=dt.date(2026, 6, 1)).to_dict()
    assert d["n"] == 2 * len(Deviation) and d["valid_flagged"] == 0
    assert d["fields_correct"] >= d["fields_total"] - 2  # NO_ENTRY_COUNT: a jurisdiction version equal to
    # the number of entries reads as the count (ambiguous by construction)


@pytest.mark.shared_data
def test_real_ohio_back_payload_parses_and_passes() -> None:
    import codecs
    import csv

    folder = shared_path("real_us_backs")
    rows = list(csv.DictReader((folder / "labels.tsv").open(encoding="utf-8"), delimiter="\t"))
    assert rows
    for row in rows:
        rec = parse_aamva(codecs.decode(row["raw_escaped"], "unicode_escape"))
        expected = {k: v.strip() for k, v in json.loads(row["all_fields_json"]).items()}
        assert rec.elements == expected
        valid_day = dt.date.fromisoformat(row["DBA_expiry_date"]) - dt.timedelta(days=30)
        checks = validate_aamva(rec, valid_day)
        assert not [c for c in checks if c.status is Status.FAIL]
        assert all(c.status is Status.PASS or is_review_signal(c.name, c.status, c.reason) for c in checks), checks


# ------------------------------------------------------------------------------ properties (issue 19)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_any_bytes_parse_or_raise_aamva_error(data: bytes) -> None:
    """Bytes as a scanner might hand them over (latin-1), with an AAMVA header in front half the time."""
    for text in (data.decode("latin-1"), "@\n\x1e\rANSI 636000100102DL00410050ZV0091" + data.decode("latin-1")):
        try:
            rec = parse_aamva(text)
        except AamvaError as exc:
            assert exc.code == "bad_barcode_payload"
            continue
        checks = validate_aamva(rec, TODAY)
        assert all(c.score is None or 0.0 <= c.score <= 1.0 for c in checks)
        json.dumps(rec.to_dict())
        json.dumps([c.to_dict() for c in checks])


_Z_IDS = ["ZXA", "ZXB", "ZXC"]


@settings(max_examples=80, deadline=None)
@given(
    first=st.dictionaries(st.sampled_from(_D_IDS), _value.map(str.strip), min_size=1, max_size=12),
    second=st.dictionaries(st.sampled_from(_D_IDS), _value.map(str.strip), min_size=1, max_size=12),
    zdata=st.dictionaries(st.sampled_from(_Z_IDS), _value.map(str.rstrip), min_size=1, max_size=3),
)
def test_several_subfiles_round_trip(first: dict[str, str], second: dict[str, str], zdata: dict[str, str]) -> None:
    """encode_subfiles (DL, Z, DL) -> parse: every subfile read, each element's first non-empty value kept."""
    text = encode_subfiles(
        [("DL", list(first.items())), ("ZX", list(zdata.items())), ("DL", list(second.items()))], iin="636000"
    )
    rec = parse_aamva(text)
    assert [s.type for s in rec.subfiles] == ["DL", "ZX", "DL"] and rec.offsets_consistent
    merged = dict(first)
    for k, v in second.items():
        if k not in merged or (merged[k] == "" and v != ""):
            merged[k] = v
    assert rec.dlid_elements == merged and rec.elements == {**merged, **zdata}


def test_missing_compliance_indicator_fails_the_header() -> None:
    text = encode_aamva(_us_elements(), iin="636000")
    rec = parse_aamva(text[1:])
    assert rec.elements == _us_elements()
    assert _checks(rec)["barcode_header"] == (Status.FAIL, "no_compliance_indicator")
    padded = parse_aamva("  \n" + text)  # leading whitespace only shifts the offsets
    assert padded.deviations == [FormatDeviation.OFFSETS_SHIFTED]
    assert _checks(padded)["barcode_header"] == (Status.INCONCLUSIVE, "format_deviations")


def test_missing_standard_elements_are_inconclusive_essential_ones_fail() -> None:
    e = _us_elements()
    for eid in ("DAD", "DDE", "DDF", "DDG", "DCG"):
        del e[eid]
    rec = parse_aamva(encode_aamva(e, iin="636000"))
    c = next(c for c in validate_aamva(rec, TODAY) if c.name == "barcode_mandatory_elements")
    assert (c.status, c.reason) == (Status.INCONCLUSIVE, "missing_standard_elements")
    assert set(c.data["missing"]) == {"DAD", "DDE", "DDF", "DDG", "DCG"}
    for eid in ("DAQ", "DBB", "DBA", "DCS", "DAC"):
        blank = parse_aamva(encode_aamva(_us_elements(**{eid: ""}), iin="636000"))
        assert _checks(blank)["barcode_mandatory_elements"] == (Status.FAIL, "missing_mandatory_elements"), eid
