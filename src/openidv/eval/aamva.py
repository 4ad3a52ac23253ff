"""Evaluation of the AAMVA barcode parser over labelled payload files.

The label file is JSON lines, one object per payload; ``file`` is relative to ``root``
(or the payload is inline under ``payload`` / ``raw`` / ``text``). Recognised labels:

* ``derived_elements``: element ID -> expected value (compared after stripping padding);
* ``derived_header``: ``file_type``, ``iin``, ``aamva_version``, ``jurisdiction_version``,
  ``number_of_entries``, ``subfile_designators`` (list of ``{type, offset, length}`` or of
  types), each compared to the parsed header;
* ``upstream_expected``: the upstream parser's output, aamvajs style (``state``,
  ``address``, ``sex``, ``name.first``, ``name.last``, ``birthday``, ``expiration_date``,
  ``postal_code``, ``id``) or camelCase (``firstName``, ``lastName``, ...), compared to the
  canonical fields of :meth:`AamvaRecord.to_fields` after normalisation;
* ``expected_fields``: canonical field name -> expected value.

Every labelled field counts in ``fields_total``; one with no known mapping counts as wrong.
A record is *expected invalid* when a label says so (``expected_valid: false``,
``expected_invalid: true``, ``valid: false``, ``should_fail: true``, or an expectation text
such as ``upstream_expect`` saying it must fail / error / be rejected). It is *flagged*
when parsing raises :class:`AamvaError` or the ``barcode_header``, ``barcode_formats`` or
``barcode_mandatory_elements`` check fails.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openidv.checks import Status
from openidv.document.aamva import AamvaError, AamvaRecord, parse_aamva, validate_aamva
from openidv.document.codes import FieldName
from openidv.errors import DataFormatError

#: Checks whose failure flags a payload as invalid.
FLAGGING_CHECKS = ("barcode_header", "barcode_formats", "barcode_mandatory_elements")

#: Upstream label key (lower case, without ``_``/``.``/``-``) -> canonical field name.
UPSTREAM_KEYS: dict[str, str] = {
    "state": "address_state",
    "address": "address_street",
    "street": "address_street",
    "addressstreet": "address_street",
    "city": "address_city",
    "addresscity": "address_city",
    "sex": "sex",
    "gender": "sex",
    "namefirst": "given_names",
    "firstname": "given_names",
    "givenname": "given_names",
    "givennames": "given_names",
    "namelast": "family_name",
    "lastname": "family_name",
    "familyname": "family_name",
    "surname": "family_name",
    "namemiddle": "middle_names",
    "middlename": "middle_names",
    "middlenames": "middle_names",
    "namesuffix": "name_suffix",
    "suffix": "name_suffix",
    "birthday": "birth_date",
    "birthdate": "birth_date",
    "dateofbirth": "birth_date",
    "dob": "birth_date",
    "expirationdate": "expiry_date",
    "expirydate": "expiry_date",
    "dateofexpiry": "expiry_date",
    "issuedate": "issue_date",
    "dateofissue": "issue_date",
    "postalcode": "address_postal_code",
    "zip": "address_postal_code",
    "zipcode": "address_postal_code",
    "id": "document_number",
    "documentnumber": "document_number",
    "licensenumber": "document_number",
    "customerid": "document_number",
    "eyecolor": "eye_color",
    "height": "height",
    "issuingstate": "issuing_state",
    "issuer": "issuing_state",
    "documentdiscriminator": "document_discriminator",
}

_DATE_FIELDS = {"birth_date", "expiry_date", "issue_date"}
_INVALID_WORDS = re.compile(
    r"\b(fail|fails|failure|error|errors|throw|throws|raise|raises|invalid|reject|rejected|rejects|malformed|corrupt)\b"
    r"|\bnot (parse|be parsed|valid)\b|\bunpars[e]?able\b|\breturns? (null|none|nil|undefined|false)\b"
)
_VALID_WORDS = re.compile(
    r"without (an? )?(error|exception|failure)|no (error|exception)|parses (ok|successfully|correctly)|"
    r"\bis valid\b|\bsucceeds?\b"
)


@dataclass
class FileResult:
    file: str
    parsed: bool
    error: str | None
    fields_total: int
    fields_correct: int
    mismatches: list[dict[str, Any]]
    expected_invalid: bool
    flagged: bool
    flag_reasons: list[str]
    problems: list[str] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)  #: repaired format deviations, named

    def to_dict(self) -> dict[str, Any]:
        return {
            "deviations": self.deviations,
            "file": self.file,
            "parsed": self.parsed,
            "error": self.error,
            "fields_total": self.fields_total,
            "fields_correct": self.fields_correct,
            "mismatches": self.mismatches,
            "expected_invalid": self.expected_invalid,
            "flagged": self.flagged,
            "flag_reasons": self.flag_reasons,
            "problems": self.problems,
        }


@dataclass
class AamvaEvalResult:
    files: list[FileResult]

    @property
    def n(self) -> int:
        return len(self.files)

    def deviation_counts(self) -> dict[str, int]:
        """Format deviation -> number of payloads showing it (most frequent first)."""
        counts: dict[str, int] = {}
        for f in self.files:
            for d in f.deviations:
                counts[d] = counts.get(d, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        invalid = [f for f in self.files if f.expected_invalid]
        valid = [f for f in self.files if not f.expected_invalid]
        return {
            "n": self.n,
            "parsed": sum(f.parsed for f in self.files),
            "fields_total": sum(f.fields_total for f in self.files),
            "fields_correct": sum(f.fields_correct for f in self.files),
            "expected_invalid_n": len(invalid),
            "expected_invalid_flagged": sum(f.flagged for f in invalid),
            "valid_n": len(valid),
            "valid_flagged": sum(f.flagged for f in valid),
            "deviations": self.deviation_counts(),
            "files": [f.to_dict() for f in self.files],
        }


def _norm_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _norm_date(value: str) -> str:
    v = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return v
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", v)
    if m:
        v = f"{int(m.group(1)):02d}{int(m.group(2)):02d}{m.group(3)}"
    if re.fullmatch(r"\d{8}", v):
        for y, mo, d in ((v[:4], v[4:6], v[6:]), (v[4:], v[:2], v[2:4])):
            try:
                return dt.date(int(y), int(mo), int(d)).isoformat()
            except ValueError:
                continue
    return v


def _norm_value(name: str, value: str) -> str:
    v = " ".join(str(value).upper().replace(",", " ").split())
    if name in _DATE_FIELDS:
        return _norm_date(str(value))
    if name == FieldName.SEX:
        return {"MALE": "M", "FEMALE": "F", "1": "M", "2": "F", "9": "X"}.get(v, v)
    if name == FieldName.DOCUMENT_NUMBER:
        return re.sub(r"[^0-9A-Z]", "", v)
    if name == "address_postal_code":
        compact = v.replace(" ", "")
        m = re.match(r"\d{5}", compact)
        return m.group(0) if m else compact
    return v


def _header_value(rec: AamvaRecord, key: str) -> Any:
    h = rec.header
    return {
        "file_type": h.file_type,
        "iin": h.iin,
        "aamva_version": h.aamva_version,
        "jurisdiction_version": h.jurisdiction_version,
        "number_of_entries": h.number_of_entries,
    }.get(key, _MISSING)


_MISSING = object()


def _same_scalar(expected: Any, got: Any) -> bool:
    if got is _MISSING:
        return False
    if expected is None or got is None:
        return expected is None and got is None  # a label saying "absent" (JSON null) matches an absent value
    e, g = str(expected).strip(), "" if got is None else str(got).strip()
    if e.isdigit() and g.isdigit():
        return int(e) == int(g)
    return e == g


def _expected_invalid(label: dict[str, Any]) -> bool:
    for key in ("expected_valid", "valid", "is_valid"):
        if key in label and label[key] is False:
            return True
    for key in ("expected_invalid", "invalid", "should_fail", "expect_error", "expected_error"):
        if key in label and label[key] not in (False, None, "", 0):
            return True
    for key, value in label.items():
        if "expect" not in key.lower() or not isinstance(value, str):
            continue
        text = value.lower()
        if _VALID_WORDS.search(text):
            continue
        if _INVALID_WORDS.search(text):
            return True
    return False


def _as_dict(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            loaded = json.loads(value)
        except ValueError:
            return None
        return loaded if isinstance(loaded, dict) else None
    return None


def _read_payload(label: dict[str, Any], root: Path) -> tuple[str, str | None]:
    """(name, payload text or None when it cannot be read)."""
    for key in ("payload", "raw", "text", "data"):
        if isinstance(label.get(key), str):
            return str(label.get("file", f"<inline {key}>")), label[key]
    name = label.get("file") or label.get("path")
    if not isinstance(name, str):
        return "<no file>", None
    path = root / name
    try:
        data = path.read_bytes()
    except OSError:
        return name, None
    try:
        return name, data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return name, data.decode("latin-1")


def _compare(label: dict[str, Any], rec: AamvaRecord | None) -> tuple[int, int, list[dict[str, Any]]]:
    total = correct = 0
    mismatches: list[dict[str, Any]] = []

    def record(name: str, expected: Any, got: Any, ok: bool) -> None:
        nonlocal total, correct
        total += 1
        if ok:
            correct += 1
        else:
            mismatches.append({"field": name, "expected": expected, "got": None if got is _MISSING else got})

    elements = _as_dict(label.get("derived_elements")) or {}
    for eid, expected in elements.items():
        got = rec.elements.get(eid, _MISSING) if rec else _MISSING
        ok = got is not _MISSING and str(got).strip() == str(expected).strip()
        record(f"element.{eid}", expected, got, ok)

    header = _as_dict(label.get("derived_header")) or {}
    for key, expected in header.items():
        if key == "subfile_designators" and isinstance(expected, list):
            got_list = [(e.type, e.offset, e.length) for e in rec.directory] if rec else []
            for i, item in enumerate(expected):
                got_item: Any = got_list[i] if i < len(got_list) else _MISSING
                if isinstance(item, dict):
                    want = (str(item.get("type")), item.get("offset"), item.get("length"))
                    ok = got_item is not _MISSING and all(
                        w is None or _same_scalar(w, g) for w, g in zip(want, got_item, strict=True)
                    )
                else:
                    ok = got_item is not _MISSING and str(item) == got_item[0]
                shown = (
                    None
                    if got_item is _MISSING
                    else {"type": got_item[0], "offset": got_item[1], "length": got_item[2]}
                )
                record(f"header.subfile_designators[{i}]", item, shown, ok)
            continue
        got = _header_value(rec, key) if rec else _MISSING
        record(f"header.{key}", expected, got, _same_scalar(expected, got))

    fields = {f.name: f.value for f in rec.to_fields()} if rec else {}
    upstream = _as_dict(label.get("upstream_expected")) or {}
    for key, expected in upstream.items():
        canonical = UPSTREAM_KEYS.get(_norm_key(key))
        if canonical is None:
            record(f"upstream.{key}", expected, "(no mapping for this label key)", False)
            continue
        got = fields.get(canonical, _MISSING)
        ok = got is not _MISSING and _norm_value(canonical, str(got)) == _norm_value(canonical, str(expected))
        record(f"upstream.{key}", expected, got, ok)

    for name, expected in (_as_dict(label.get("expected_fields")) or {}).items():
        got = fields.get(name, _MISSING)
        ok = got is not _MISSING and _norm_value(name, str(got)) == _norm_value(name, str(expected))
        record(f"field.{name}", expected, got, ok)
    return total, correct, mismatches


def evaluate_aamva(jsonl_path: Path, root: Path | None = None, today: dt.date | None = None) -> AamvaEvalResult:
    """Parse and check every labelled payload of ``jsonl_path`` (paths relative to ``root``,
    by default the label file's folder). ``today`` is the reference date of the checks.

    Raises :class:`DataFormatError` if the label file is missing or a line is not a JSON object.
    """
    root = jsonl_path.parent if root is None else root
    today = dt.date.today() if today is None else today
    try:
        lines = jsonl_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"cannot read {jsonl_path}: {exc}") from exc
    results: list[FileResult] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            label = json.loads(line)
        except ValueError as exc:
            raise DataFormatError(f"{jsonl_path}:{lineno}: not JSON ({exc})") from exc
        if not isinstance(label, dict):
            raise DataFormatError(f"{jsonl_path}:{lineno}: expected a JSON object")
        results.append(_evaluate_one(label, root, today))
    return AamvaEvalResult(results)


def _evaluate_one(label: dict[str, Any], root: Path, today: dt.date) -> FileResult:
    name, text = _read_payload(label, root)
    invalid = _expected_invalid(label)
    rec: AamvaRecord | None = None
    error: str | None = None
    flag_reasons: list[str] = []
    if text is None:
        error = "payload file missing or unreadable"
    else:
        try:
            rec = parse_aamva(text)
        except AamvaError as exc:
            error = exc.message
            flag_reasons.append(f"parse error: {exc.message}")
    if rec is not None:
        for c in validate_aamva(rec, today):
            if c.name in FLAGGING_CHECKS and c.status is Status.FAIL:
                flag_reasons.append(f"{c.name}: {c.reason} ({c.detail})")
    total, correct, mismatches = _compare(label, rec)
    return FileResult(
        file=name,
        parsed=rec is not None,
        error=error,
        fields_total=total,
        fields_correct=correct,
        mismatches=mismatches,
        expected_invalid=invalid,
        flagged=bool(flag_reasons),
        flag_reasons=flag_reasons,
        problems=list(rec.problems) if rec else [],
        deviations=[d.value for d in rec.deviations] if rec else [],
    )


def format_report(result: AamvaEvalResult) -> str:
    """A human-readable summary: totals, then every file with a mismatch, error or flag."""
    d = result.to_dict()
    pct = 100.0 * d["fields_correct"] / d["fields_total"] if d["fields_total"] else 0.0
    lines = [
        f"payloads: {d['n']}  parsed: {d['parsed']}",
        f"fields correct: {d['fields_correct']}/{d['fields_total']} ({pct:.1f}%)",
        f"expected invalid flagged: {d['expected_invalid_flagged']}/{d['expected_invalid_n']}",
        f"valid payloads flagged (false flags): {d['valid_flagged']}/{d['valid_n']}",
        "format deviations repaired: " + (", ".join(f"{k} {v}" for k, v in d["deviations"].items()) or "none"),
    ]
    for f in result.files:
        if not (f.mismatches or f.error or f.flagged):
            continue
        tag = "expected invalid" if f.expected_invalid else "expected valid"
        lines.append(f"- {f.file} ({tag}): {f.fields_correct}/{f.fields_total} fields")
        if f.error:
            lines.append(f"    error: {f.error}")
        for reason in f.flag_reasons:
            lines.append(f"    flagged: {reason}")
        for m in f.mismatches:
            lines.append(f"    {m['field']}: expected {m['expected']!r}, got {m['got']!r}")
    return "\n".join(lines)
