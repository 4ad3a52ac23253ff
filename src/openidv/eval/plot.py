"""Plots for verification results: DET curve and distance histograms (matplotlib, PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openidv.eval import metrics


def plot_verification(distances: np.ndarray, same: np.ndarray, threshold: float, out: Path, title: str = "") -> None:
    """Write a two-panel PNG: DET curve (log-log FMR vs FNMR) and genuine/impostor histograms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, fmr, fnmr = metrics.det_curve(distances, same)
    fig, (ax_det, ax_hist) = plt.subplots(1, 2, figsize=(11, 4.5))
    floor = 1e-4
    ax_det.plot(np.maximum(fmr, floor), np.maximum(fnmr, floor), drawstyle="steps-post")
    ax_det.set_xscale("log")
    ax_det.set_yscale("log")
    ax_det.set_xlim(floor, 1)
    ax_det.set_ylim(floor, 1)
    ax_det.set_xlabel("false match rate (FMR)")
    ax_det.set_ylabel("false non-match rate (FNMR)")
    ax_det.set_title("DET curve (rates of 0 drawn at 1e-4)")
    ax_det.grid(True, which="both", alpha=0.3)

    bins = np.linspace(0, max(1.2, float(distances.max(initial=0)) + 0.05), 60)
    ax_hist.hist(distances[same], bins=bins, alpha=0.6, label=f"same person (n={int(same.sum())})")
    ax_hist.hist(distances[~same], bins=bins, alpha=0.6, label=f"different people (n={int((~same).sum())})")
    ax_hist.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.3f}")
    ax_hist.set_xlabel("descriptor distance")
    ax_hist.set_ylabel("pairs")
    ax_hist.legend()
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
