"""Write generated deviation payloads as a labelled suite for ``openidv eval aamva``.

``python -m openidv.eval.aamva_suite OUT [--n 20] [--seed 1]`` writes ``OUT/<deviation>-<i>.txt``
(one payload each, see :mod:`openidv.synth.aamva_variants`) and ``OUT/labels.jsonl`` with
every element (``derived_elements``) and the header values the payload carries
(``derived_header``), then ``openidv eval aamva OUT/labels.jsonl`` measures them. All
payloads are genuine: none is expected invalid.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from openidv.synth.aamva_variants import Deviation, Sample, generate


def label_for(sample: Sample, file: str) -> dict[str, Any]:
    """The JSONL label of one sample (values as the parser should return them: padding stripped)."""
    header: dict[str, Any] = {"iin": sample.iin, "aamva_version": sample.version}
    if sample.deviation is not Deviation.NO_JURISDICTION_VERSION:
        header["jurisdiction_version"] = sample.jurisdiction_version
    return {
        "file": file,
        "deviation": sample.deviation.value,
        "upstream_expect": "parses without error",
        "derived_elements": {k: v.strip() for k, v in sample.elements.items()},
        "derived_header": header,
    }


def write_suite(out: Path, n_per_deviation: int, seed: int) -> Path:
    """Write the payloads and ``labels.jsonl`` under ``out``; returns the label file's path."""
    out.mkdir(parents=True, exist_ok=True)
    labels = []
    counts: dict[Deviation, int] = {}
    for sample in generate(n_per_deviation, seed):
        i = counts[sample.deviation] = counts.get(sample.deviation, 0) + 1
        name = f"{sample.deviation.value}-{i:03d}.txt"
        (out / name).write_bytes(sample.text.encode("ascii"))
        labels.append(label_for(sample, name))
    path = out / "labels.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in labels), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=20, help="payloads per deviation")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(write_suite(args.out, args.n, args.seed))


if __name__ == "__main__":
    main()
