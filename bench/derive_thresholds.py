"""Derive the face-match operating points (distance thresholds per target FMR).

Pools the labelled pairs of the shared face sets (deepface's all-derived pairs,
face_recognition, openface), computes each image's descriptor once, and prints for
each target FMR: the impostor pairs available, the empirical threshold (largest
distance with FMR <= target), the FNMR there, and two extrapolations for targets the
data cannot resolve: a normal fit to all impostor distances (optimistic: real
impostor tails are heavier, with look-alikes) and an exponential fit to the lower
tail of the impostor distances (log FMR linear in distance over FMR <= 1e-2).

Usage: python bench/derive_thresholds.py [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np

from openidv.eval import metrics
from openidv.eval.faces import evaluate_pairs, openidv_embedder, read_pairs

SETS = (("deepface", "pairs_all_derived.tsv"), ("face_recognition", "pairs.tsv"), ("openface", "pairs.tsv"))
TARGETS = (1e-2, 1e-3, 1e-4)


def main() -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=here.parent.parent / "shared" / "data")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    embedder = openidv_embedder()
    d_all, s_all, used = [], [], []
    for folder, name in SETS:
        tsv = args.data / folder / name
        if not tsv.is_file():
            continue
        r = evaluate_pairs(read_pairs(tsv), tsv.parent, embedder)
        d_all.append(r.distances)
        s_all.append(r.same)
        used.append(
            {
                "set": f"{folder}/{name}",
                "pairs": r.n_pairs,
                "failed": r.n_failed,
                "genuine": int(r.same.sum()),
                "impostor": int((~r.same).sum()),
            }
        )
    if not used:
        print(f"no face pair sets under {args.data}", file=sys.stderr)
        return 1
    d, s = np.concatenate(d_all), np.concatenate(s_all)
    imp = d[~s]
    fit = NormalDist(float(imp.mean()), float(imp.std(ddof=1)))
    tail = _exponential_tail(np.sort(imp))
    rows = []
    for target in TARGETS:
        op = metrics.operating_point(d, s, target)
        parametric = fit.inv_cdf(target)
        gen = np.sort(d[s])
        rows.append(
            {
                "target_fmr": target,
                "n_impostor": op.n_impostor,
                "resolvable": op.resolvable,
                "empirical_threshold": round(op.threshold, 4),
                "fnmr_empirical": round(op.fnmr, 4),
                "normal_fit_threshold": round(parametric, 4),
                "fnmr_normal_fit": round(metrics.rates_at(parametric, gen, np.sort(imp))[1], 4),
                "exp_tail_threshold": round(tail(target), 4),
                "fnmr_exp_tail": round(metrics.rates_at(tail(target), gen, np.sort(imp))[1], 4),
            }
        )
    eer, eer_t = metrics.eer(d, s)
    out = {
        "sets": used,
        "n_genuine": int(s.sum()),
        "n_impostor": int((~s).sum()),
        "eer": round(eer, 4),
        "eer_threshold": round(eer_t, 4),
        "impostor_mean": round(fit.mean, 4),
        "impostor_std": round(fit.stdev, 4),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(out))
        return 0
    for u in used:
        print(
            f"{u['set']:<36} pairs {u['pairs']:>5}  failed {u['failed']}  genuine {u['genuine']:>4}  impostor {u['impostor']:>5}"
        )
    print(
        f"pooled: genuine {out['n_genuine']}, impostor {out['n_impostor']}, EER {100 * eer:.2f}% at {eer_t:.3f}; "
        f"impostor distances mean {fit.mean:.3f} sd {fit.stdev:.3f}"
    )
    print(
        f"{'target FMR':>10} {'resolvable':>10} {'empirical t':>12} {'FNMR':>7} {'normal-fit t':>13} {'FNMR':>7}"
        f" {'exp-tail t':>11} {'FNMR':>7}"
    )
    for r in rows:
        print(
            f"{r['target_fmr']:>10g} {r['resolvable']!s:>10} {r['empirical_threshold']:>12.3f} "
            f"{100 * r['fnmr_empirical']:>6.2f}% {r['normal_fit_threshold']:>13.3f} {100 * r['fnmr_normal_fit']:>6.2f}%"
            f" {r['exp_tail_threshold']:>11.3f} {100 * r['fnmr_exp_tail']:>6.2f}%"
        )
    return 0


def _exponential_tail(imp_sorted: np.ndarray):  # type: ignore[no-untyped-def]
    """Fit log(FMR) = a + b * distance over the impostors with empirical FMR <= 1e-2."""
    n = len(imp_sorted)
    k = max(3, int(0.01 * n))
    fmr = np.arange(1, k + 1) / n
    b, a = np.polyfit(imp_sorted[:k], np.log(fmr), 1)
    return lambda target: float((np.log(target) - a) / b)


if __name__ == "__main__":
    sys.exit(main())
