"""Face-verification evaluation over a labelled pair list.

PAIRS.tsv: tab-separated with a header holding at least ``file_a``, ``file_b`` and
``same_person`` (1/0); paths are relative to ``root``. Each distinct image is
analysed once (its time is counted once per pair it appears in, so ``ms_per_pair``
is the cost of matching a pair from scratch). A side may be a whole document photo:
the largest face is taken and enhanced when small, as in :func:`openidv.face.matching`.
"""

from __future__ import annotations

import csv
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from openidv.errors import DataFormatError, OpenIDVError
from openidv.eval import metrics
from openidv.face.matching import MatchConfig, QualityGates, analyse_side
from openidv.face.operating_points import DEFAULT_OPERATING_POINT, threshold_for
from openidv.imaging import load_rgb

#: FMR targets reported by the harness, keyed as in the JSON output.
FMR_TARGETS = {"0.01": 1e-2, "0.001": 1e-3}


@dataclass(frozen=True)
class Pair:
    file_a: str
    file_b: str
    same: bool


@dataclass(frozen=True)
class Template:
    """What an embedder returns for one image: a vector, or the reason there is none."""

    vector: np.ndarray | None
    reason: str
    ms: float
    stage_ms: dict[str, float] = field(default_factory=dict)  #: per stage run ("detect", "align", "embed")


Embedder = Callable[[Path], Template]


@dataclass
class FaceEvalResult:
    n_pairs: int
    n_failed: int
    failures: Counter[str]
    auc: float
    eer: float
    eer_threshold: float
    fnmr_at_fmr: dict[str, dict[str, Any]]
    threshold: float
    operating_point: str
    false_accepts: int
    false_rejects: int
    ms_per_pair: float
    distances: np.ndarray = field(repr=False)
    same: np.ndarray = field(repr=False)
    failed_pairs: list[tuple[str, str, str]] = field(default_factory=list, repr=False)
    #: median ms per face of each stage ("detect", "align", "embed") over the images it ran on
    stage_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_pairs": self.n_pairs,
            "n_failed": self.n_failed,
            "failed_by_reason": dict(self.failures),
            "n_genuine": int(self.same.sum()),
            "n_impostor": int((~self.same).sum()),
            "auc": _r(self.auc),
            "eer": _r(self.eer),
            "eer_threshold": _r(self.eer_threshold),
            "fnmr_at_fmr": self.fnmr_at_fmr,
            "operating_point": self.operating_point,
            "threshold": _r(self.threshold),
            "false_accepts": self.false_accepts,
            "false_rejects": self.false_rejects,
            "ms_per_pair": round(self.ms_per_pair, 1),
            **{f"ms_{stage}": round(ms, 1) for stage, ms in self.stage_ms.items()},
        }


def read_pairs(path: Path) -> list[Pair]:
    """Read a PAIRS.tsv file; raises :class:`DataFormatError` on a malformed one."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            missing = {"file_a", "file_b", "same_person"} - set(reader.fieldnames or [])
            if missing:
                raise DataFormatError(f"{path}: header lacks column(s) {', '.join(sorted(missing))}")
            pairs = []
            for line, row in enumerate(reader, start=2):
                flag = (row.get("same_person") or "").strip()
                if flag not in ("0", "1"):
                    raise DataFormatError(f"{path}:{line}: same_person must be 0 or 1, got {flag!r}")
                pairs.append(Pair(row["file_a"].strip(), row["file_b"].strip(), flag == "1"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"cannot read {path}: {exc}") from exc
    if not pairs:
        raise DataFormatError(f"{path}: no pairs")
    return pairs


def openidv_embedder(config: MatchConfig | None = None) -> Embedder:
    """This engine's template extraction for evaluation: largest face, enhanced if small.

    Quality gates do not block here (every detected face is scored); only a missing
    face or an unreadable image makes a template fail.
    """
    cfg = config or MatchConfig()
    gates = QualityGates(min_iod_px=0.0)

    def run(path: Path) -> Template:
        t0 = time.perf_counter()
        try:
            rgb = load_rgb(path.read_bytes(), max_pixels=cfg.max_pixels)
            side = analyse_side(rgb, "image", cfg.document_detector, gates, cfg.enhance)
        except OpenIDVError as exc:
            return Template(None, exc.code, _ms(t0))
        except OSError as exc:
            return Template(None, f"unreadable_file ({exc.strerror})", _ms(t0))
        if side.embedding is None:
            return Template(None, side.reasons[0].code if side.reasons else "no_face", _ms(t0), side.stage_ms)
        return Template(side.embedding.vector, "ok", _ms(t0), side.stage_ms)

    return run


def evaluate_pairs(
    pairs: list[Pair],
    root: Path,
    embedder: Embedder | None = None,
    *,
    operating_point: str = DEFAULT_OPERATING_POINT,
    threshold: float | None = None,
    progress: Callable[[Iterable[str]], Iterable[str]] | None = None,
) -> FaceEvalResult:
    """Score every pair and compute the verification metrics.

    ``threshold`` overrides the operating point's distance (used to evaluate another
    engine at its own default, e.g. face_recognition's 0.6).
    """
    embed_fn = embedder or openidv_embedder()
    files = list(dict.fromkeys(f for p in pairs for f in (p.file_a, p.file_b)))
    templates: dict[str, Template] = {}
    for name in progress(files) if progress else files:
        templates[name] = embed_fn(root / name)

    distances, same, per_pair_ms = [], [], []
    failures: Counter[str] = Counter()
    failed_pairs = []
    for p in pairs:
        a, b = templates[p.file_a], templates[p.file_b]
        per_pair_ms.append(a.ms + b.ms)
        if a.vector is None or b.vector is None:
            why = a.reason if a.vector is None else b.reason
            failures[why] += 1
            failed_pairs.append((p.file_a, p.file_b, why))
            continue
        distances.append(float(np.linalg.norm(a.vector - b.vector)))
        same.append(p.same)
    d, s = np.asarray(distances, dtype=np.float64), np.asarray(same, dtype=bool)

    t = threshold if threshold is not None else threshold_for(operating_point).distance
    rate, rate_t = metrics.eer(d, s)
    fnmr: dict[str, dict[str, Any]] = {}
    for key, target in FMR_TARGETS.items():
        op = metrics.operating_point(d, s, target)
        fnmr[key] = {"fnmr": _r(op.fnmr), "threshold": _r(op.threshold), "fmr": _r(op.fmr), "resolvable": op.resolvable}
    return FaceEvalResult(
        n_pairs=len(pairs),
        n_failed=sum(failures.values()),
        failures=failures,
        auc=metrics.auc(d, s),
        eer=rate,
        eer_threshold=rate_t,
        fnmr_at_fmr=fnmr,
        threshold=t,
        operating_point=operating_point if threshold is None else "custom",
        false_accepts=int(np.sum((d <= t) & ~s)),
        false_rejects=int(np.sum((d > t) & s)),
        ms_per_pair=float(np.mean(per_pair_ms)) if per_pair_ms else math.nan,
        distances=d,
        same=s,
        failed_pairs=failed_pairs,
        stage_ms=_median_stage_ms(templates.values()),
    )


def _median_stage_ms(templates: Iterable[Template]) -> dict[str, float]:
    """Median ms per face of each stage, over the templates whose image ran it."""
    runs: dict[str, list[float]] = {}
    for template in templates:
        for stage, ms in template.stage_ms.items():
            runs.setdefault(stage, []).append(ms)
    return {stage: float(np.median(ms)) for stage, ms in runs.items()}


def format_report(result: FaceEvalResult, title: str = "face verification") -> str:
    """Human-readable summary table."""
    lines = [
        f"{title}",
        f"  pairs            {result.n_pairs}"
        f"  (genuine {int(result.same.sum())}, impostor {int((~result.same).sum())})",
        f"  pairs skipped    {result.n_failed}"
        + ("  (" + ", ".join(f"{k}: {v}" for k, v in result.failures.most_common()) + ")" if result.n_failed else ""),
        f"  AUC              {result.auc:.5f}",
        f"  EER              {100 * result.eer:.2f}%  (at distance {result.eer_threshold:.3f})",
    ]
    for key, op in result.fnmr_at_fmr.items():
        note = "" if op["resolvable"] else "  (too few impostor pairs: FMR bound 1/n)"
        lines.append(f"  FNMR @ FMR {key:<6}{100 * op['fnmr']:.2f}%  (threshold {op['threshold']:.3f}){note}")
    lines += [
        f"  threshold        {result.threshold:.3f}  (operating point {result.operating_point})",
        f"  false accepts    {result.false_accepts}",
        f"  false rejects    {result.false_rejects}",
        f"  ms per pair      {result.ms_per_pair:.1f}",
    ]
    if result.stage_ms:
        stages = ", ".join(f"{stage} {ms:.1f}" for stage, ms in result.stage_ms.items())
        lines.append(f"  ms per face      {stages}  (medians)")
    return "\n".join(lines)


def _r(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 5)


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
