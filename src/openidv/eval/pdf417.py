"""PDF417 reading evaluation: labelled photos, and generated US driver's licence backs.

MANIFEST.tsv (as in ``shared/data/zxing_pdf417``): tab-separated with a header holding
at least ``file`` (relative to ``root``) and ``label``, the label being
``expected_text="..."`` (the decoded text) or ``expected_bytes_hex=...`` (the decoded
bytes, for binary payloads).

Engines: ``openidv`` is :func:`openidv.document.barcode.decode_pdf417` with its fallback
chain; ``zxing`` is a plain ``zxingcpp.read_barcodes(gray, formats=PDF417)`` called once,
the baseline. Both get the same gray image. A decode is *correct* when its bytes (or its
text, for text labels) equal the label; *wrong* counts decodes that are not correct
(misreads). ``ms_per_image`` is the mean wall time of the decode call, file reading
excluded (timings on a shared machine are inflated by contention).

:func:`evaluate_generated_backs` renders random AAMVA payloads on synthetic licence backs
(:mod:`openidv.synth.back`) and photographs them with the camera simulation:
in-plane tilt and perspective up to ``max_tilt_deg``, card 0.5-0.9 of a 1280 x 960
frame, Gaussian blur 0.5-1.5 px, noise 1-6 grey levels, JPEG quality 40-95. There the
``openidv`` engine runs with ``expect_aamva=True``, as licence reading does. These
figures rest on generated images, not real licences.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp

from openidv.document.barcode import DEFAULT_CHAIN, PDF417_FORMAT, STRATEGIES, decode_pdf417
from openidv.errors import DataFormatError, OpenIDVError
from openidv.imaging import load_rgb
from openidv.synth.back import random_aamva_payload, render_dl_back
from openidv.synth.document import photograph

ENGINES = ("openidv", "zxing")


@dataclass(frozen=True)
class Expected:
    """What a file should decode to: ``text`` for text labels, always ``data`` (its bytes)."""

    data: bytes
    text: str | None = None

    def matches(self, text: str | None, raw: bytes | None) -> bool:
        if raw is not None and raw == self.data:
            return True
        return self.text is not None and text == self.text


@dataclass(frozen=True)
class ItemResult:
    file: str
    decoded: bool
    correct: bool
    ms: float
    strategy: str | None = None
    reason: str | None = None
    params: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "decoded": self.decoded,
            "correct": self.correct,
            "ms": round(self.ms, 1),
        }
        if self.strategy is not None:
            out["strategy"] = self.strategy
        if self.reason is not None:
            out["reason"] = self.reason
        if self.params:
            out["params"] = {k: round(v, 3) for k, v in self.params.items()}
        return out


@dataclass
class Pdf417EvalResult:
    """One engine on one image set."""

    engine: str
    items: list[ItemResult]

    @property
    def n(self) -> int:
        return len(self.items)

    @property
    def decoded(self) -> int:
        return sum(i.decoded for i in self.items)

    @property
    def correct(self) -> int:
        return sum(i.correct for i in self.items)

    @property
    def wrong(self) -> int:
        return sum(i.decoded and not i.correct for i in self.items)

    @property
    def ms_per_image(self) -> float:
        return float(np.mean([i.ms for i in self.items])) if self.items else 0.0

    @property
    def correct_rate(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        ms = [i.ms for i in self.items]
        return {
            "engine": self.engine,
            "n": self.n,
            "decoded": self.decoded,
            "correct": self.correct,
            "wrong": self.wrong,
            "correct_rate": round(self.correct_rate, 4),
            "ms_per_image": round(self.ms_per_image, 1),
            "ms_p95": round(float(np.percentile(ms, 95)), 1) if ms else 0.0,
            "by_strategy": dict(Counter(i.strategy for i in self.items if i.strategy)),
            "failed_by_reason": dict(Counter(i.reason for i in self.items if not i.decoded and i.reason)),
            "items": [i.to_dict() for i in self.items],
        }


@dataclass
class StrategyGain:
    """A strategy run alone on every image, and what it adds after the ones before it in the chain."""

    name: str
    alone: int
    marginal: int
    wrong: int
    ms_per_image: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "alone": self.alone,
            "marginal_gain": self.marginal,
            "wrong": self.wrong,
            "ms_per_image": round(self.ms_per_image, 1),
        }


@dataclass
class GeneratedEvalResult:
    n: int
    seed: int
    max_tilt_deg: float
    engines: dict[str, Pdf417EvalResult]
    gains: list[StrategyGain] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n": self.n,
            "seed": self.seed,
            "max_tilt_deg": self.max_tilt_deg,
            "data": "generated US DL backs (synthetic, not real licences)",
            "engines": {name: r.to_dict() for name, r in self.engines.items()},
        }
        if self.gains:
            out["strategy_gains"] = {g.name: g.to_dict() for g in self.gains}
        return out


# --- reading -----------------------------------------------------------------------------------


def read_manifest(manifest: Path) -> list[tuple[str, Expected]]:
    """``(file, expected)`` rows of a PDF417 MANIFEST.tsv; raises :class:`DataFormatError` on bad format."""
    try:
        with manifest.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataFormatError(f"cannot read {manifest}: {exc}") from exc
    out: list[tuple[str, Expected]] = []
    for line, row in enumerate(rows, start=2):
        file, label = (row.get("file") or "").strip(), (row.get("label") or "").strip()
        if not file or not label:
            raise DataFormatError(f"{manifest}:{line}: needs 'file' and 'label' columns")
        out.append((file, parse_label(label, where=f"{manifest}:{line}")))
    if not out:
        raise DataFormatError(f"{manifest}: no rows")
    return out


def parse_label(label: str, *, where: str = "label") -> Expected:
    """Parse ``expected_text="..."`` or ``expected_bytes_hex=...``."""
    key, sep, value = label.partition("=")
    if not sep:
        raise DataFormatError(f"{where}: label {label[:40]!r} is not key=value")
    if key == "expected_text":
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        return Expected(value.encode("utf-8"), value)
    if key == "expected_bytes_hex":
        try:
            return Expected(bytes.fromhex(value))
        except ValueError as exc:
            raise DataFormatError(f"{where}: bad hex in label: {exc}") from exc
    raise DataFormatError(f"{where}: unknown label key {key!r}; expected expected_text or expected_bytes_hex")


# --- engines -----------------------------------------------------------------------------------

Decoded = tuple[str | None, bytes | None, str | None, str | None]  # text, bytes, strategy, reason


def _zxing_plain(gray: np.ndarray) -> Decoded:
    results = zxingcpp.read_barcodes(gray, formats=PDF417_FORMAT)
    if not results:
        return None, None, None, "not_decoded"
    return results[0].text, bytes(results[0].bytes), "zxing_plain", None


def engine_fn(engine: str, *, budget_ms: float = 400.0, expect_aamva: bool = False) -> Callable[[np.ndarray], Decoded]:
    """A decoder over gray images for the named engine (``openidv`` or ``zxing``)."""
    if engine == "zxing":
        return _zxing_plain
    if engine == "openidv":

        def run(gray: np.ndarray) -> Decoded:
            r = decode_pdf417(gray, budget_ms=budget_ms, expect_aamva=expect_aamva)
            return r.text, r.raw_bytes, r.strategy, r.reason

        return run
    raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")


def _run(
    decode: Callable[[np.ndarray], Decoded], gray: np.ndarray, name: str, expected: Expected, **params: float
) -> ItemResult:
    t0 = time.perf_counter()
    text, raw, strategy, reason = decode(gray)
    ms = (time.perf_counter() - t0) * 1000.0
    found = raw is not None
    return ItemResult(name, found, found and expected.matches(text, raw), ms, strategy, reason, dict(params))


# --- harnesses ---------------------------------------------------------------------------------


def evaluate_pdf417(
    manifest: Path, root: Path, *, engine: str = "openidv", budget_ms: float = 400.0
) -> Pdf417EvalResult:
    """Decode every file of ``manifest`` (paths relative to ``root``) with ``engine``.

    A file that cannot be read as an image counts as not decoded (reason: the error code).
    """
    decode = engine_fn(engine, budget_ms=budget_ms)
    items: list[ItemResult] = []
    for file, expected in read_manifest(manifest):
        try:
            rgb = load_rgb((root / file).read_bytes())
        except OSError as exc:
            raise DataFormatError(f"cannot read {root / file}: {exc}") from exc
        except OpenIDVError as exc:
            items.append(ItemResult(file, False, False, 0.0, None, exc.code))
            continue
        items.append(_run(decode, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), file, expected))
    return Pdf417EvalResult(engine, items)


def generate_back_photos(
    n: int, seed: int, max_tilt_deg: float = 30.0
) -> list[tuple[str, np.ndarray, dict[str, float]]]:
    """``n`` camera photos of generated licence backs: ``(payload, RGB photo, camera parameters)``."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, np.ndarray, dict[str, float]]] = []
    for _ in range(n):
        payload = random_aamva_payload(rng)
        card = render_dl_back(payload, rng)
        params: dict[str, float] = {
            "card_fraction": float(rng.uniform(0.5, 0.9)),
            "blur_sigma": float(rng.uniform(0.5, 1.5)),
            "noise_sigma": float(rng.uniform(1.0, 6.0)),
            "jpeg_quality": int(rng.integers(40, 96)),
        }
        photo = photograph(
            card,
            rng,
            max_tilt_deg=max_tilt_deg,
            card_fraction=params["card_fraction"],
            blur_sigma=params["blur_sigma"],
            noise_sigma=params["noise_sigma"],
            jpeg_quality=int(params["jpeg_quality"]),
        )
        out.append((payload, photo, params))
    return out


def evaluate_generated_backs(
    n: int,
    seed: int,
    max_tilt_deg: float = 30.0,
    *,
    engines: Sequence[str] = ENGINES,
    budget_ms: float = 400.0,
    gains: bool = False,
) -> GeneratedEvalResult:
    """Generate ``n`` licence-back photos (seeded) and decode them with each engine.

    With ``gains`` every strategy is also run alone on every image (slow: about seven
    decodes per image) to report what each adds after those before it in the default chain.
    """
    photos = generate_back_photos(n, seed, max_tilt_deg)
    grays = [cv2.cvtColor(p, cv2.COLOR_RGB2GRAY) for _, p, _ in photos]
    expected = [Expected(payload.encode("ascii"), payload) for payload, _, _ in photos]
    results: dict[str, Pdf417EvalResult] = {}
    for engine in engines:
        decode = engine_fn(engine, budget_ms=budget_ms, expect_aamva=True)
        items = [
            _run(decode, gray, f"back_{i:04d}", exp, **params)
            for i, (gray, exp, (_, _, params)) in enumerate(zip(grays, expected, photos, strict=True))
        ]
        results[engine] = Pdf417EvalResult(engine, items)
    out = GeneratedEvalResult(n, seed, max_tilt_deg, results)
    if gains:
        out.gains = strategy_gains(grays, expected)
    return out


def strategy_gains(grays: Sequence[np.ndarray], expected: Sequence[Expected]) -> list[StrategyGain]:
    """Each strategy alone on every image (no time budget); marginal gains follow
    :data:`DEFAULT_CHAIN`, then the strategies outside it."""
    order = list(DEFAULT_CHAIN) + [s for s in STRATEGIES if s not in DEFAULT_CHAIN]
    covered = np.zeros(len(grays), dtype=bool)
    out: list[StrategyGain] = []
    for name in order:
        ok = np.zeros(len(grays), dtype=bool)
        wrong, total_ms = 0, 0.0
        for i, (gray, exp) in enumerate(zip(grays, expected, strict=True)):
            r = decode_pdf417(gray, budget_ms=1e9, strategies=[name])
            total_ms += r.timings_ms[name]
            ok[i] = r.found and exp.matches(r.text, r.raw_bytes)
            wrong += int(r.found and not ok[i])
        gain = int((ok & ~covered).sum())  # outside the chain: what it adds to the whole chain
        if name in DEFAULT_CHAIN:
            covered |= ok
        out.append(StrategyGain(name, int(ok.sum()), gain, wrong, total_ms / max(len(grays), 1)))
    return out


# --- reports -----------------------------------------------------------------------------------


def format_report(result: Pdf417EvalResult | GeneratedEvalResult) -> str:
    """A short human-readable summary of an evaluation."""
    if isinstance(result, Pdf417EvalResult):
        return _engine_line(result) + _failures(result)
    lines = [
        f"generated US DL backs: n={result.n} seed={result.seed} tilt<={result.max_tilt_deg:g} deg "
        "(synthetic images, not real licences)"
    ]
    for r in result.engines.values():
        lines.append(_engine_line(r))
    if result.gains:
        lines.append("strategy gains (alone / added after the previous strategies of the default chain):")
        for g in result.gains:
            tag = "" if g.name in DEFAULT_CHAIN else "  (not in the default chain)"
            lines.append(
                f"  {g.name:24s} alone {g.alone:4d}  +{g.marginal:<4d} wrong {g.wrong}  {g.ms_per_image:6.1f} ms{tag}"
            )
    return "\n".join(lines)


def _engine_line(r: Pdf417EvalResult) -> str:
    return (
        f"{r.engine:8s} n={r.n} decoded={r.decoded} correct={r.correct} ({100 * r.correct_rate:.1f}%) "
        f"wrong={r.wrong} ms/image={r.ms_per_image:.1f}"
    )


def _failures(r: Pdf417EvalResult) -> str:
    failed = [i for i in r.items if not i.correct]
    if not failed:
        return ""
    return "\n" + "\n".join(f"  not decoded: {i.file} ({i.reason or 'wrong text'})" for i in failed)
