"""OCR correction of MRZ text (:func:`correct_mrz`): the character-level repairs, then
substitutions guided by the check digits; :func:`read_mrz_text` corrects and parses."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from openidv.document.mrz.charset import CHARSET, FILLER, SHAPES, MrzType
from openidv.document.mrz.layouts import LAYOUTS, POSITION_CLASSES, detect_type
from openidv.document.mrz.ocr_fixes import (
    ALTERNATIVES,
    allowed_in_class,
    class_fix,
    fix_spaces,
    length_variants,
    normalise_char,
    normalise_text,
    take_positions,
)
from openidv.document.mrz.parse import check_positions, check_status, count_failures, parse_mrz
from openidv.document.mrz.result import Correction, MrzResult

Alternatives = Sequence[Sequence[Mapping[str, float]]]
#: highest accepted cost of one check-digit-guided substitution: a look-alike (1-2) that the
#: OCR found at most about 100 times less likely than what it read
MAX_REPAIR_COST = 4.0


def _repair_by_check_digits(
    kind: MrzType, lines: list[str], alts: list[list[dict[str, float]]]
) -> tuple[list[str], list[Correction]]:
    """Greedy, check-digit-guided substitution of ambiguous characters.

    Each round tries every single plausible substitution in the fields of failing checks
    (and the composite-only fields when only the composite fails) and keeps the change
    that removes the most failures at the lowest cost, provided no different change ties
    with it. The cost of a substitution is its look-alike cost (1 letter/digit look-alikes,
    2 digit shapes) plus, when the OCR gave per-character probabilities, how much less
    likely the OCR found the alternative (-log10 of the probability ratio). Then pairs of
    substitutions inside one failing field. Stops when every check passes or nothing helps.
    """
    _, checks = LAYOUTS[kind]
    kinds = POSITION_CLASSES[kind]
    corrections: list[Correction] = []
    lines = list(lines)
    for _round in range(4):
        base = count_failures(kind, lines)
        if base == 0:
            break
        failing = [c for c in checks if not check_status(kind, lines, c)[0]]
        protected = {p for c in checks if c not in failing for p in check_positions(kind, c)}
        suspects: list[tuple[int, int]] = []
        for c in failing:
            for pos in check_positions(kind, c):
                if c.key == "composite" and pos in protected:
                    continue
                if pos not in suspects:
                    suspects.append(pos)
        best: list[tuple[int, float, list[str], list[tuple[int, int, str, str]]]] = []
        singles = list(_substitutions(lines, kinds, alts, suspects))
        for (ln, p), alt, cost in singles:
            cand = replace_char(lines, ln, p, alt)
            f = count_failures(kind, cand)
            if f < base:
                best.append((f, cost, cand, [(ln, p, lines[ln][p], alt)]))
        if not best:
            for c in failing:
                region = {q for q in check_positions(kind, c) if not (c.key == "composite" and q in protected)}
                cheap = sorted((s for s in singles if s[0] in region), key=lambda s: s[2])[:40]
                for s1, s2 in itertools.combinations(cheap, 2):
                    if s1[0] == s2[0]:
                        continue
                    cand = replace_char(replace_char(lines, *s1[0], s1[1]), *s2[0], s2[1])
                    f = count_failures(kind, cand)
                    if f < base:
                        changes = [(s1[0][0], s1[0][1], lines[s1[0][0]][s1[0][1]], s1[1])]
                        changes.append((s2[0][0], s2[0][1], lines[s2[0][0]][s2[0][1]], s2[1]))
                        best.append((f, s1[2] + s2[2] + 1.0, cand, changes))
        if not best:
            break
        best = [b for b in best if b[1] <= MAX_REPAIR_COST * len(b[3])]
        if not best:
            break
        best.sort(key=lambda t: (t[0], t[1]))
        top = best[0]
        if len(best) > 1 and best[1][0] == top[0] and abs(best[1][1] - top[1]) < 1e-6 and best[1][2] != top[2]:
            break  # ambiguous: two different readings fit equally well
        lines = top[2]
        corrections.extend(Correction(ln, p, b, a, "check_digit", top[1] / len(top[3])) for ln, p, b, a in top[3])
    return lines, corrections


def _substitutions(
    lines: list[str],
    kinds: list[list[str]],
    alts: list[list[dict[str, float]]],
    positions: Iterable[tuple[int, int]],
) -> Iterable[tuple[tuple[int, int], str, float]]:
    for ln, p in positions:
        c = lines[ln][p]
        ocr = alts[ln][p] if ln < len(alts) and p < len(alts[ln]) else {}
        options: dict[str, float] = {}
        for alt, cost in ALTERNATIVES.get(c, ()):
            options[alt] = float(cost)
        for alt in ocr:
            if alt != c and alt not in options:
                options[alt] = 3.0  # the OCR's own second choice, not a known look-alike
        top = max(ocr.values()) if ocr else 0.0
        for alt, look_alike in options.items():
            if not allowed_in_class(kinds[ln][p], alt):
                continue
            penalty = min(6.0, -math.log10((ocr.get(alt, 0.0) + 1e-6) / (top + 1e-6))) if ocr else 0.0
            yield (ln, p), alt, look_alike + penalty


def replace_char(lines: list[str], ln: int, p: int, c: str) -> list[str]:
    out = list(lines)
    out[ln] = out[ln][:p] + c + out[ln][p + 1 :]
    return out


def _ocr_alternatives(line_alts: Sequence[Mapping[str, float]], kind_row: Sequence[str]) -> list[dict[str, float]]:
    """Normalise the OCR's per-character candidates (char -> probability) to MRZ characters."""
    out: list[dict[str, float]] = []
    for cand in line_alts:
        d: dict[str, float] = {}
        for ch, prob in cand.items():
            c = normalise_char(str(ch)[:1] or " ")
            if c in CHARSET:
                d[c] = max(d.get(c, 0.0), float(prob))
        out.append(d)
    return out


@dataclass(frozen=True)
class CorrectedMrz:
    type: MrzType
    raw_lines: list[str]
    lines: list[str]
    corrections: list[Correction]
    unread: list[tuple[int, int]] = field(default_factory=list)  #: see :attr:`MrzResult.unread`


def correct_mrz(
    raw_lines: Sequence[str], kind: MrzType | None = None, *, alternatives: Alternatives | None = None
) -> CorrectedMrz:
    """Repair OCR text of an MRZ: look-alike characters, fillers, lengths, check digits.

    ``alternatives`` (optional): per line, per character of ``raw_lines``, the OCR's
    candidate characters with their probabilities; they rank the check-digit repairs.
    Raises :class:`MrzError` when the text cannot be an MRZ (number or length of lines).
    """
    raw = [str(x) for x in raw_lines]
    pairs = [(normalise_text(x), i) for i, x in enumerate(raw)]
    pairs = [(t, i) for t, i in pairs if t[0]]
    norm = [t[0] for t, _ in pairs]
    src_alts: list[list[dict[str, float]]] = []
    for (_text, idx), i in pairs:
        given = list(alternatives[i]) if alternatives is not None and i < len(alternatives) else []
        row = _ocr_alternatives(given, []) if given else []
        src_alts.append([row[j] if 0 <= j < len(row) else {} for j in idx])
    kind = kind or detect_type([x.replace(" ", "") for x in norm])
    _, length = SHAPES[kind]
    corrections: list[Correction] = []
    space_idx = [fix_spaces(x, length) for x in norm]
    spaced = [take_positions(x, idx) for x, idx in zip(norm, space_idx, strict=True)]
    spaced_alts = [[a[j] if j >= 0 else {} for j in idx] for a, idx in zip(src_alts, space_idx, strict=True)]
    for i, ((_, i_raw), b) in enumerate(zip(pairs, spaced, strict=True)):
        a = raw[i_raw]
        if a != b and a.upper().strip() != b:
            corrections.append(Correction(i, -1, a, b, "normalise"))
    # length: choose the combination of per-line repairs with the fewest failing checks
    variants = [length_variants(x, length) for x in spaced]
    best_combo: tuple[list[int], ...] | None = None
    best_score = (10**6, 10**6)
    for combo in itertools.islice(itertools.product(*variants), 200):
        fixed = class_fix(kind, [take_positions(x, idx) for x, idx in zip(spaced, combo, strict=True)])
        rank = sum(v.index(c) for v, c in zip(variants, combo, strict=True))
        score = (count_failures(kind, fixed), rank)
        if score < best_score:
            best_score, best_combo = score, combo
    assert best_combo is not None
    best_lines = [take_positions(x, idx) for x, idx in zip(spaced, best_combo, strict=True)]
    alts = [[a[j] if j >= 0 else {} for j in idx] for a, idx in zip(spaced_alts, best_combo, strict=True)]
    for i, (a, b) in enumerate(zip(spaced, best_lines, strict=True)):
        if a != b:
            corrections.append(Correction(i, -1, a, b, "length"))
    fixed = class_fix(kind, best_lines, alts)
    for i, (a, b) in enumerate(zip(best_lines, fixed, strict=True)):
        for p, (ca, cb) in enumerate(zip(a, b, strict=True)):
            if ca != cb:
                corrections.append(Correction(i, p, ca, cb, "filler" if cb == FILLER else "char_class"))
    repaired, cd_fixes = _repair_by_check_digits(kind, fixed, alts)
    corrections.extend(cd_fixes)
    if kind in (MrzType.TD3, MrzType.TD2) and repaired[0][:1] == "V":
        kind = MrzType.MRVA if kind is MrzType.TD3 else MrzType.MRVB
    unread = [(i, p) for i, (x, idx) in enumerate(zip(spaced, best_combo, strict=True)) for p in _cut_off(x, idx)]
    return CorrectedMrz(kind, raw, repaired, corrections, unread)


def _cut_off(line: str, idx: Sequence[int]) -> list[int]:
    """Positions a length repair filled in at the start of ``line``, or at its end after a
    character other than a filler: text missing there (cut off), not a filler missed in a run."""
    read = [p for p, j in enumerate(idx) if j >= 0]
    if not read:
        return list(range(len(idx)))
    first, last = read[0], read[-1]
    trailing = [] if line[idx[last]] == FILLER else list(range(last + 1, len(idx)))
    return list(range(first)) + trailing


def read_mrz_text(
    raw_lines: Sequence[str], *, today: dt.date | None = None, alternatives: Alternatives | None = None
) -> MrzResult:
    """Correct OCR text (:func:`correct_mrz`) and parse it; keeps the raw text and corrections."""
    c = correct_mrz(raw_lines, alternatives=alternatives)
    return parse_mrz(c.lines, c.type, today=today, raw_lines=c.raw_lines, corrections=c.corrections, unread=c.unread)
