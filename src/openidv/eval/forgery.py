"""Forgery evaluation: generated genuine and forged documents through the whole document engine.

A document counts as *detected* (forged) or as a *false alarm* (genuine) when any check
of its report fails. For each forgery type the table also shows which checks failed,
so the evidence behind each detection is visible. Review signals (findings the engine reports
``inconclusive``, :func:`~openidv.document.codes.is_review_signal`; listed as ``advisory_checks``)
do not count as detections; ``review_signals`` counts the documents that no check failed but a
review signal flagged
(the decision policy sends them to review), for forgeries and for genuine documents. All figures rest on synthetic
documents made from real portrait photos (see :mod:`openidv.synth.forgery`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from openidv.checks import Status
from openidv.document.codes import is_review_signal
from openidv.eval.metrics import wilson_interval


@dataclass(frozen=True)
class _Job:
    label: str
    kind: str | None
    seed: int


@dataclass
class ForgeryEvalResult:
    genuine_n: int
    false_alarms: int
    by_type: dict[str, dict[str, int]]
    caught_by: dict[str, dict[str, int]]
    false_alarm_checks: dict[str, int]
    ms_per_document: float
    seed: int
    today: date
    #: documents no check failed but an advisory check flagged: "genuine" and each forgery type
    review_signals: dict[str, int] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_dict(self, *, details: bool = False) -> dict[str, Any]:
        """The summary; with ``details`` also every document (label, kind, seed, failed checks)."""
        lo, hi = wilson_interval(self.false_alarms, self.genuine_n)
        out: dict[str, Any] = {
            "genuine_n": self.genuine_n,
            "false_alarms": self.false_alarms,
            "false_alarm_rate": round(self.false_alarms / self.genuine_n, 4) if self.genuine_n else None,
            "false_alarm_rate_ci95": [round(lo, 4), round(hi, 4)],
            "false_alarm_checks": self.false_alarm_checks,
            "by_type": self.by_type,
            "caught_by": self.caught_by,
            "review_signals": self.review_signals,
            "ms_per_document": round(self.ms_per_document, 1),
            "seed": self.seed,
            "today": self.today.isoformat(),
            "data": "synthetic documents with real portrait photos, camera-simulated",
        }
        if details:
            keys = ("label", "kind", "seed", "status", "failures", "advisory_checks", "ms")
            out["documents"] = [{k: d[k] for k in keys} for d in self.details]
        return out


def default_portraits(faces_dir: Path | None = None, limit: int = 12) -> list[np.ndarray]:
    """Portrait crops of real photos: scikit-image's astronaut and cameraman, plus faces under ``faces_dir``."""
    from skimage import data

    from openidv.face.detection import detect
    from openidv.imaging import decode_image
    from openidv.synth import document as synth

    photos = [data.astronaut(), np.dstack([data.camera()] * 3)]
    if faces_dir is not None and faces_dir.is_dir():
        for path in sorted(faces_dir.rglob("*.jpg"))[:limit]:
            photos.append(decode_image(path.read_bytes(), max_pixels=40_000_000))
    out = []
    for photo in photos:
        faces = detect(photo)
        if faces:
            b = faces[0].box
            out.append(synth.portrait_crop(photo, (b.x, b.y, b.width, b.height)))
    return out


def evaluate_forgery(
    n: int = 200,
    *,
    n_per_type: int | None = None,
    seed: int = 7,
    today: date = date(2026, 6, 1),
    faces_dir: Path | None = None,
    types: Iterable[str] | None = None,
    workers: int = 1,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> ForgeryEvalResult:
    """Generate ``n`` genuine documents (70% licences, 30% passports) and ``n_per_type`` of each forgery.

    Each document's seed depends on ``seed``, its type's place in
    :data:`~openidv.synth.forgery.FORGERY_TYPES` and its index, so a run over a subset of
    ``types`` makes exactly the documents the full run makes for those types.
    """
    from openidv.synth.forgery import FORGERY_TYPES

    chosen = list(types) if types is not None else list(FORGERY_TYPES)
    unknown = sorted(set(chosen) - set(FORGERY_TYPES))
    if unknown:
        raise ValueError(f"unknown forgery types {unknown}; known: {', '.join(FORGERY_TYPES)}")
    per_type = n if n_per_type is None else n_per_type
    jobs = [_Job("genuine", "passport" if i % 10 >= 7 else "us_dl", seed * 100_003 + i) for i in range(n)]
    for label in chosen:
        t_index = FORGERY_TYPES.index(label)
        jobs += [_Job(label, None, seed * 100_003 + (t_index + 1) * 10_000 + i) for i in range(per_type)]
    context = (today, faces_dir)
    t0 = time.perf_counter()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=context) as pool:
            results = list(_wrap(pool.map(_run_job, jobs, chunksize=4), progress))
    else:
        _init_worker(*context)
        results = [_run_job(j) for j in _wrap(jobs, progress)]
    elapsed = (time.perf_counter() - t0) * 1000.0

    by_type: dict[str, dict[str, int]] = {t: {"detected": 0, "n": 0} for t in chosen}
    caught: dict[str, Counter[str]] = {t: Counter() for t in chosen}
    genuine_n = false_alarms = 0
    fa_checks: Counter[str] = Counter()
    signals: Counter[str] = Counter({t: 0 for t in ["genuine", *chosen]})
    for r in results:
        failed = r["failed_checks"]
        if not failed and r["advisory_checks"]:
            signals[r["label"]] += 1
        if r["label"] == "genuine":
            genuine_n += 1
            if failed:
                false_alarms += 1
                fa_checks.update(failed)
        else:
            by_type[r["label"]]["n"] += 1
            if failed:
                by_type[r["label"]]["detected"] += 1
            caught[r["label"]].update(failed)
    return ForgeryEvalResult(
        genuine_n=genuine_n,
        false_alarms=false_alarms,
        by_type=by_type,
        caught_by={t: dict(c.most_common()) for t, c in caught.items()},
        false_alarm_checks=dict(fa_checks.most_common()),
        ms_per_document=elapsed * max(1, workers) / max(1, len(jobs)),
        review_signals=dict(signals),
        seed=seed,
        today=today,
        details=results,
    )


_STATE: dict[str, Any] = {}


def _init_worker(today: date, faces_dir: Path | None) -> None:
    _STATE["today"] = today
    _STATE["portraits"] = default_portraits(faces_dir)


def _run_job(job: _Job) -> dict[str, Any]:
    from openidv.document.engine import analyse_document
    from openidv.synth.forgery import generate

    rng = np.random.default_rng(job.seed)
    doc = generate(job.label, rng, _STATE["portraits"], _STATE["today"], kind=job.kind)
    t = time.perf_counter()
    report = analyse_document(doc.front, doc.back, today=_STATE["today"])
    ms = (time.perf_counter() - t) * 1000.0
    failed = [c for c in report.checks if c.status is Status.FAIL]
    return {
        "label": job.label,
        "kind": doc.kind,
        "seed": job.seed,
        "failed_checks": [c.name for c in failed],
        "advisory_checks": [c.name for c in report.checks if is_review_signal(c.name, c.status, c.reason)],
        "failures": [{"name": c.name, "reason": c.reason, "detail": c.detail} for c in failed],
        "status": report.status.value,
        "ms": ms,
    }


def _wrap(items: Iterable[Any], progress: Callable[[Iterable[Any]], Iterable[Any]] | None) -> Iterable[Any]:
    return progress(items) if progress else items


def format_report(result: ForgeryEvalResult) -> str:
    d = result.to_dict()
    lines = [
        f"forgery evaluation (synthetic documents, real portraits; seed {result.seed}, today {result.today})",
        f"  genuine documents   {result.genuine_n}   false alarms {result.false_alarms}"
        f" ({100 * (d['false_alarm_rate'] or 0):.1f}%, 95% CI {100 * d['false_alarm_rate_ci95'][0]:.1f}-"
        f"{100 * d['false_alarm_rate_ci95'][1]:.1f}%)",
    ]
    if result.false_alarm_checks:
        lines.append(
            "    false alarms raised by: " + ", ".join(f"{k} {v}" for k, v in result.false_alarm_checks.items())
        )
    lines.append(f"    genuine sent to review by an advisory check only: {result.review_signals.get('genuine', 0)}")
    lines.append(f"  {'forgery type':<22}{'detected':>9}{'n':>6}{'rate':>8}{'review':>8}   caught by")
    for t, v in result.by_type.items():
        rate = v["detected"] / v["n"] if v["n"] else 0.0
        top = ", ".join(f"{k} {c}" for k, c in list(result.caught_by.get(t, {}).items())[:4])
        review = result.review_signals.get(t, 0)
        lines.append(f"  {t:<22}{v['detected']:>9}{v['n']:>6}{100 * rate:>7.1f}%{review:>8}   {top}")
    lines.append(f"  ms per document      {result.ms_per_document:.0f}")
    return "\n".join(lines)
