"""Splitting a subfile whose separators were stripped on its known element IDs, scored by the values' formats."""

from __future__ import annotations

import re

from openidv.document.aamva.elements import ELEMENTS
from openidv.document.aamva.formats import format_ok


def pairs_at(region: str, starts: list[int]) -> list[tuple[str, str]]:
    ends = [*starts[1:], len(region)]
    return [(region[s : s + 3], region[s + 3 : e]) for s, e in zip(starts, ends, strict=True)]


#: Elements of the 2000 standard (v01) that later versions dropped (DAA lasted to v03).
_OLD_ONLY: dict[str, int] = {
    **{e: 1 for e in ("DAB", "DAE", "DAF", "DAL", "DAM", "DAN", "DAO", "DAP", "DAR", "DAS", "DAT", "DAV")},
    **{e: 1 for e in ("DBE", "DBF", "DBH", "DBI", "DBJ", "DBK", "DBM")},
    **{e: 1 for e in ("PAA", "PAB", "PAC", "PAD", "PAE", "PAF")},
    "DAA": 3,
    "DCT": 3,
}
#: Elements rarely present: a split that creates one needs more evidence.
_UNCOMMON = frozenset(
    {"DAH", "DAL", "DAM", "DAN", "DAO", "DAP", "DAV", "DAX", "DBE", "DBG", "DBI", "DBJ", "DBK", "DBL", "DBM"}
    | {"DBN", "DBO", "DBP", "DBQ", "DBR", "DBS", "DCE", "DCI", "DCJ", "DCL", "DCM", "DCN", "DCO", "DCP", "DCQ"}
    | {"DCR", "DAF", "PAA", "PAB", "PAC", "PAD", "PAE", "PAF"}
)
_NAME_ELEMENTS = frozenset({"DCS", "DAC", "DAD", "DCT", "DAB", "DAE", "DAF", "DCU"})


_ADDRESS2_RE = re.compile(
    r"(APT|APARTMENT|STE|SUITE|UNIT|#|BLDG|BUILDING|FL|FLOOR|RM|ROOM|LOT|SPC|SPACE|TRLR|PO|P O|C/O|\d)"
)


def _plausible_text(eid: str, value: str) -> bool | None:
    """Weak plausibility of free-text values, used only to split separator-less data."""
    v = value.strip()
    if not v or v.upper() == "NONE":
        return None
    if eid in _NAME_ELEMENTS:
        return not any(c.isdigit() for c in v)
    if eid in {"DAG", "DAL"}:
        return len(v) >= 3 and any(c.isalpha() for c in v)
    if eid in {"DAH", "DAM"}:  # second address line: apartment, suite, unit, PO box, ...
        return bool(_ADDRESS2_RE.match(v.upper()))
    if eid in {"DAI", "DAN"}:
        return not any(c.isdigit() for c in v)
    if eid in {"DAW", "DAX", "DAV"}:
        return v.isdigit() and 2 <= len(v) <= 3
    return None


def _value_score(eid: str, raw: str, version: int, last: bool = False) -> float:
    """How plausible it is that element ``eid`` has the raw value ``raw`` (separator-less splitting).

    An empty value is unlikely between two elements (padding would normally remain) but
    common for the subfile's ``last`` element. Strict format rules weigh most, then the
    element's existence in this version, then how common it is and weak text rules.
    """
    score = 1.0
    if raw == "" and not last:
        score -= 1.5
    if ELEMENTS.get(eid, ("", 1))[1] > max(version, 1):
        score -= 1.0
    if version > _OLD_ONLY.get(eid, 99):
        score -= 1.5
    if eid in _UNCOMMON:
        score -= 0.5
    ok = format_ok(eid, raw)
    if ok is True:
        score += 1.0
    elif ok is False:
        score -= 2.0
    if _plausible_text(eid, raw) is False:
        score -= 1.0
    return score


_MAX_LOOKAHEAD = 32  #: candidate element IDs considered after each chosen one


def split_known(region: str, version: int) -> list[tuple[str, str]]:
    """Split separator-less element data on known element IDs.

    Every position where a known 3-letter ID occurs is a candidate element start. A
    dynamic programme (:func:`_best_split`) picks the sequence of candidates, starting
    with the first, that maximises the summed plausibility of the resulting values
    (format rules per element; empty values and IDs newer than the version penalised).
    An element occurs once per subfile: when the best split uses an ID twice, each
    choice of the one occurrence to keep is tried (the others become plain text) and
    the best-scoring split without repeats wins; failing that, the first occurrence is kept.
    """
    cands = [p for p in range(len(region) - 2) if region[p : p + 3] in ELEMENTS]
    if not cands:
        return []
    if len(cands) > _MAX_CANDIDATES:  # not a real payload: first occurrence of each ID, no search
        firsts: dict[str, int] = {}
        for p in cands:
            if p >= (max(firsts.values()) + 3 if firsts else 0):
                firsts.setdefault(region[p : p + 3], p)
        return pairs_at(region, sorted(firsts.values()))
    _, chosen = _best_split(region, cands, version)
    dups = _repeated_ids(region, chosen)
    if dups and len(dups) <= _MAX_REPEATED:
        occurrences = [[p for p in cands if region[p : p + 3] == eid] for eid in dups]
        combos: list[list[int]] = [[]]
        for occ in occurrences:
            combos = [[*c, p] for c in combos for p in occ][:_MAX_COMBOS]
        best_alt: tuple[float, list[int]] | None = None
        for keep in combos:
            banned = {p for occ in occurrences for p in occ} - set(keep)
            alt_score, alt = _best_split(region, [p for p in cands if p not in banned], version)
            if not _repeated_ids(region, alt) and (best_alt is None or alt_score > best_alt[0]):
                best_alt = (alt_score, alt)
        if best_alt is not None:
            chosen = best_alt[1]
    kept: list[int] = []
    seen_ids: set[str] = set()
    for p in chosen:
        eid = region[p : p + 3]
        if eid not in seen_ids:
            seen_ids.add(eid)
            kept.append(p)
    return pairs_at(region, kept)


_MAX_COMBOS = 16  #: alternatives tried when the best split repeats element IDs
_MAX_REPEATED = 3  #: more repeated IDs than this: keep first occurrences without searching
_MAX_CANDIDATES = 256  #: real payloads have far fewer candidate element IDs


def _repeated_ids(region: str, starts: list[int]) -> list[str]:
    ids = [region[p : p + 3] for p in starts]
    return sorted({i for i in ids if ids.count(i) > 1})


def _best_split(region: str, cands: list[int], version: int) -> tuple[float, list[int]]:
    """(score, chosen start positions) of the best segmentation that starts at ``cands[0]``."""
    n = len(cands)
    if n == 0:
        return float("-inf"), []
    best = [float("-inf")] * n
    prev = [-1] * n
    best[0] = 0.0
    end = len(region)
    final_best, final_i = float("-inf"), 0
    for i in range(n):
        if best[i] == float("-inf"):
            continue
        pi = cands[i]
        eid = region[pi : pi + 3]
        tail = best[i] + _value_score(eid, region[pi + 3 : end], version, last=True)
        if tail > final_best:
            final_best, final_i = tail, i
        seen = 0
        for j in range(i + 1, n):
            pj = cands[j]
            if pj < pi + 3:
                continue
            seen += 1
            if seen > _MAX_LOOKAHEAD:
                break
            s = best[i] + _value_score(eid, region[pi + 3 : pj], version)
            if s > best[j]:
                best[j], prev[j] = s, i
    chosen: list[int] = []
    i = final_i
    while i >= 0:
        chosen.append(cands[i])
        i = prev[i]
    chosen.reverse()
    return final_best, chosen
