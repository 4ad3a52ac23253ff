"""False alarms of the image-forensic checks on the real genuine images of ``../shared/data``.

Issue 17 asks each forensic check's false-alarm rate on real genuine documents (a check above
2 % must be advisory). Every image of the chosen folders (default ``real_us_fronts``,
``real_passports``, ``real_us_backs``; folders are searched recursively, e.g. ``passporteye``,
``fastmrz``) goes through ``analyse_document`` alone, as
``openidv doc IMAGE --json`` does. Per check (screen recapture, compression consistency,
portrait border, copy-move, photocopy, editing software, screenshot): how many images it
failed (``fail``: a false alarm), flagged as an advisory review signal (a finding reported
inconclusive, :func:`openidv.document.codes.is_review_signal`), passed, or could not decide; and the images with any forensic failure.
All images are genuine (DMV samples, specimens, demo pages): every failure is a false alarm.

Usage: python bench/forensic_real.py [--root ../shared/data] [--sets real_us_fronts,...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from openidv.document.codes import is_review_signal

FORENSIC = (
    "screen_recapture",
    "compression_consistency",
    "portrait_border",
    "copy_move",
    "photocopy",
    "editing_software",
    "screenshot",
)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def outcome(check: dict[str, Any]) -> str:
    """``fail``, ``advisory`` (a review signal), ``pass`` or ``inconclusive``."""
    if is_review_signal(check["name"], check["status"], check["reason"]):
        return "advisory"
    return str(check["status"])


def evaluate(root: Path, sets: list[str], today: date) -> dict[str, Any]:
    from openidv.document.engine import analyse_document

    per_check: dict[str, Counter[str]] = {name: Counter() for name in FORENSIC}
    failing: dict[str, list[str]] = {}
    flagged: dict[str, list[str]] = {}
    n = 0
    for folder in sets:
        for path in sorted(p for p in (root / folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
            n += 1
            report = analyse_document(path.read_bytes(), today=today).to_dict()
            for c in report["checks"]:
                base = next((f for f in FORENSIC if c["name"].endswith(f)), None)
                if base is None:
                    continue
                per_check[base][outcome(c)] += 1
                if outcome(c) in ("fail", "advisory"):
                    into = failing if c["status"] == "fail" else flagged
                    into.setdefault(str(path.relative_to(root)), []).append(f"{c['name']}.{c['reason']}")
    return {
        "images": n,
        "sets": sets,
        "checks": {name: dict(counts) for name, counts in per_check.items()},
        "images_failing_a_forensic_check": failing,
        "images_flagged_for_review": flagged,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    p.add_argument("--sets", default="real_us_fronts,real_passports,real_us_backs")
    p.add_argument("--today", type=date.fromisoformat, default=date(2026, 6, 1))
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    missing = [s for s in sets if not (args.root / s).is_dir()]
    if missing:
        print(f"not found under {args.root}: {', '.join(missing)}", file=sys.stderr)
        return 2
    result = evaluate(args.root, sets, args.today)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{result['images']} real genuine images ({', '.join(sets)})")
    print(f"  {'check':<26}{'fail':>6}{'advisory':>10}{'pass':>6}{'inconcl.':>10}")
    for name, c in result["checks"].items():
        row = f"{c.get('fail', 0):>6}{c.get('advisory', 0):>10}{c.get('pass', 0):>6}{c.get('inconclusive', 0):>10}"
        print(f"  {name:<26}{row}")
    for image, failed in result["images_failing_a_forensic_check"].items():
        print(f"  fails: {image}: {', '.join(failed)}")
    for image, flags in result["images_flagged_for_review"].items():
        print(f"  review signal: {image}: {', '.join(flags)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
