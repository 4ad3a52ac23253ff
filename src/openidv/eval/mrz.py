"""MRZ reading evaluation over a labelled image list (``openidv eval mrz``).

EXPECTED.tsv: tab-separated with a header holding ``file``, ``mrz_type``, ``line1``,
``line2``, ``line3`` (empty when the format has 2 lines) and ``check_digits_valid`` (a
JSON object, e.g. ``{"number": true, "dob": true, "expiry": true, "composite": false}``);
other columns are ignored. ``file`` is relative to ``root`` (default: the TSV's folder).
A row with an empty ``mrz_type`` and no lines is an image without an MRZ. Images listed in
a ``MANIFEST.tsv`` beside the TSV whose ``label`` starts with ``no MRZ`` are added as
images without an MRZ too.

Per image with an MRZ: *found* (an MRZ was read), *exact* (every corrected line equals the
label), *check digits agree* (the reader's pass/fail of each check digit the label states
equals the label's, key for key; a check digit the label does not state is not scored).
``exact_and_agree`` counts images with both. Per image without an MRZ: *no_mrz_correct*
when nothing was found. ``ms_per_image`` is wall time per image,
decoding the file included, over all images.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openidv.errors import DataFormatError, OpenIDVError
from openidv.eval.tsv import read_rows
from openidv.imaging import load_rgb


@dataclass(frozen=True)
class MrzCase:
    file: str
    mrz_type: str | None  #: None: the image has no MRZ
    lines: list[str]
    check_digits: dict[str, bool]


@dataclass(frozen=True)
class Reading:
    """What a reader returns for one image (this engine or another one, for benchmarks)."""

    found: bool
    lines: list[str] = field(default_factory=list)  #: corrected lines
    check_digits: dict[str, bool] = field(default_factory=dict)  #: short key -> passes
    raw_lines: list[str] = field(default_factory=list)
    mrz_type: str | None = None
    reason: str = ""


Reader = Callable[[Path], Reading]


@dataclass(frozen=True)
class MrzImageResult:
    case: MrzCase
    reading: Reading
    ms: float

    @property
    def has_mrz(self) -> bool:
        return self.case.mrz_type is not None

    @property
    def exact(self) -> bool:
        return self.has_mrz and self.reading.found and self.reading.lines == self.case.lines

    @property
    def check_digits_agree(self) -> bool:
        if not (self.has_mrz and self.reading.found):
            return False
        read = self.reading.check_digits
        return all(read.get(key) == valid for key, valid in self.case.check_digits.items())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.case.file,
            "has_mrz": self.has_mrz,
            "found": self.reading.found,
            "ms": round(self.ms, 1),
        }
        if self.has_mrz:
            out |= {
                "type": self.case.mrz_type,
                "type_read": self.reading.mrz_type,
                "exact": self.exact,
                "check_digits_agree": self.check_digits_agree,
                "expected": self.case.lines,
                "read": self.reading.lines,
                "raw": self.reading.raw_lines,
                "check_digits_expected": self.case.check_digits,
                "check_digits_read": self.reading.check_digits,
            }
        if self.reading.reason:
            out["reason"] = self.reading.reason
        return out


@dataclass
class MrzEvalResult:
    images: list[MrzImageResult]
    seconds: float  #: wall time, all images
    cpu_seconds: float = 0.0  #: CPU time of this process, all images (in-process readers only)

    @property
    def with_mrz(self) -> list[MrzImageResult]:
        return [r for r in self.images if r.has_mrz]

    @property
    def without_mrz(self) -> list[MrzImageResult]:
        return [r for r in self.images if not r.has_mrz]

    def to_dict(self) -> dict[str, Any]:
        w = self.with_mrz
        neg = self.without_mrz
        n_all = len(self.images)
        return {
            "n": len(w),
            "found": sum(r.reading.found for r in w),
            "exact": sum(r.exact for r in w),
            "check_digits_agree": sum(r.check_digits_agree for r in w),
            "exact_and_agree": sum(r.exact and r.check_digits_agree for r in w),
            "n_no_mrz": len(neg),
            "no_mrz_correct": sum(not r.reading.found for r in neg),
            "ms_per_image": round(1000 * self.seconds / n_all, 1) if n_all else None,
            "cpu_ms_per_image": round(1000 * self.cpu_seconds / n_all, 1) if n_all else None,
            "images": [r.to_dict() for r in self.images],
        }


def load_cases(tsv: Path) -> list[MrzCase]:
    """Read EXPECTED.tsv (and no-MRZ images from a MANIFEST.tsv beside it)."""
    rows = read_rows(tsv)
    if not rows or not {"file", "mrz_type", "line1", "line2"} <= set(rows[0]):
        raise DataFormatError(f"{tsv}: needs a header with file, mrz_type, line1, line2, line3, check_digits_valid")
    cases: list[MrzCase] = []
    for i, row in enumerate(rows, start=2):
        lines = [row.get(k) or "" for k in ("line1", "line2", "line3")]
        lines = [x for x in lines if x]
        kind = (row.get("mrz_type") or "").strip() or None
        try:
            cd_raw = json.loads(row.get("check_digits_valid") or "{}")
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{tsv}:{i}: check_digits_valid is not JSON: {exc}") from exc
        if not isinstance(cd_raw, dict):
            raise DataFormatError(f"{tsv}:{i}: check_digits_valid must be a JSON object")
        if kind is not None and not lines:
            raise DataFormatError(f"{tsv}:{i}: mrz_type {kind} without lines")
        cases.append(MrzCase(row["file"], kind, lines, {str(k): bool(v) for k, v in cd_raw.items()}))
    listed = {c.file for c in cases}
    manifest = tsv.parent / "MANIFEST.tsv"
    if manifest.is_file():
        with manifest.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                label = (row.get("label") or "").strip().lower()
                if label.startswith("no mrz") and row.get("file") and row["file"] not in listed:
                    cases.append(MrzCase(row["file"], None, [], {}))
    return cases


def engine_reader(path: Path) -> Reading:
    """This project's reader: decode the file, :func:`openidv.document.mrz_ocr.read_mrz`."""
    from openidv.document.mrz_ocr import read_mrz

    try:
        out = read_mrz(load_rgb(path.read_bytes()))
    except OpenIDVError as exc:
        return Reading(False, reason=exc.code)
    if not out.found or out.result is None:
        return Reading(False, raw_lines=out.raw_lines, reason=out.reason)
    r = out.result
    return Reading(True, list(r.lines), r.check_digits(), list(r.raw_lines), r.type.value, "ok")


def evaluate_mrz(tsv: Path, root: Path | None = None, *, reader: Reader | None = None) -> MrzEvalResult:
    """Run ``reader`` (default: this engine) on every image of EXPECTED.tsv and score it."""
    cases = load_cases(tsv)
    base = root if root is not None else tsv.parent
    read = reader or engine_reader
    if reader is None:
        from openidv.document.mrz_ocr import warm_up

        warm_up()  # model loading is not counted in ms_per_image
    images: list[MrzImageResult] = []
    total = 0.0
    cpu0 = time.process_time()
    for case in cases:
        path = base / case.file
        if not path.is_file():
            raise DataFormatError(f"{path} (listed in {tsv}) does not exist")
        t = time.perf_counter()
        reading = read(path)
        ms = (time.perf_counter() - t) * 1000
        total += ms / 1000
        images.append(MrzImageResult(case, reading, ms))
    return MrzEvalResult(images, total, time.process_time() - cpu0)


def merge(results: list[MrzEvalResult]) -> MrzEvalResult:
    """One result over several evaluated lists."""
    return MrzEvalResult(
        [i for r in results for i in r.images],
        sum(r.seconds for r in results),
        sum(r.cpu_seconds for r in results),
    )


def format_report(result: MrzEvalResult) -> str:
    d = result.to_dict()
    n = d["n"]
    lines = [
        f"MRZ images: {n}",
        f"  found:               {d['found']}/{n}",
        f"  read exactly:        {d['exact']}/{n}",
        f"  check digits agree:  {d['check_digits_agree']}/{n}",
        f"  exact and agree:     {d['exact_and_agree']}/{n}",
        f"images without an MRZ: {d['n_no_mrz']} (reported as such: {d['no_mrz_correct']})",
        f"ms per image:          {d['ms_per_image']} wall, {d['cpu_ms_per_image']} CPU (this process)",
    ]
    bad = [r for r in result.images if (r.has_mrz and not (r.exact and r.check_digits_agree))]
    bad += [r for r in result.without_mrz if r.reading.found]
    if bad:
        lines.append("failures:")
    for r in bad:
        if not r.has_mrz:
            lines.append(f"  {r.case.file}: no MRZ expected, read {r.reading.lines}")
            continue
        if not r.reading.found:
            lines.append(f"  {r.case.file}: not found ({r.reading.reason}) raw={r.reading.raw_lines}")
            continue
        lines.append(f"  {r.case.file}:")
        for exp, got in zip(r.case.lines, r.reading.lines + [""] * 3, strict=False):
            mark = "  " if exp == got else "!="
            lines.append(f"    {mark} expected {exp}")
            if exp != got:
                lines.append(f"       read     {got}")
        if not r.check_digits_agree:
            lines.append(f"    check digits: expected {r.case.check_digits}, read {r.reading.check_digits}")
    return "\n".join(lines)
