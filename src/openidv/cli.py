"""The ``openidv`` command: one entry point, one subcommand per task.

Every subcommand takes ``--json`` and then prints exactly one JSON object on stdout.
Exit status: 0 on success, 2 on bad input (unreadable image, malformed data file,
missing model), with the error as ``{"error": {"code", "message"}}`` under ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeAlias

from openidv.errors import OpenIDVError

Handler = Callable[[argparse.Namespace], tuple[dict[str, Any], str]]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  #: ``add_subparsers``'s type


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        payload, text = handler(args)
    except OpenIDVError as exc:
        if args.json:
            print(json.dumps({"error": exc.to_dict()}))
        else:
            print(f"openidv: error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(payload, indent=None, sort_keys=False))
    else:
        print(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    parser = argparse.ArgumentParser(prog="openidv", description="Open-source identity verification engines.")
    parser.add_argument("--version", action="version", version=f"openidv {_version()}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_engine_commands(sub, common)
    _add_eval_commands(sub, common)

    from openidv.service.commands import add_commands  # the service's commands load FastAPI: only here

    add_commands(sub, common)
    return parser


def _add_engine_commands(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """``match``, ``detect``, ``models``, ``demo``, ``doc`` and ``liveness``: the engines on files."""
    p = sub.add_parser("match", parents=[common], help="match a selfie to the portrait on an ID document")
    p.add_argument("selfie", type=Path)
    p.add_argument("document", type=Path)
    p.add_argument("--operating-point", default=None, help="target FMR: 1e-2, 1e-3 (default) or 1e-4")
    p.set_defaults(handler=_cmd_match)

    p = sub.add_parser("detect", parents=[common], help="detect faces and measure their quality")
    p.add_argument("image", type=Path)
    p.set_defaults(handler=_cmd_detect)

    p = sub.add_parser("models", parents=[common], help="list the models and whether their packages are installed")
    p.add_argument("--load", action="store_true", help="also load every model (checks the files are usable)")
    p.set_defaults(handler=_cmd_models)

    p = sub.add_parser("demo", parents=[common], help="match a generated ID card against a selfie (no data needed)")
    p.add_argument("--out", type=Path, default=None, help="folder to write the demo's images to")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("doc", parents=[common], help="read and check an ID document (front, and back for licences)")
    p.add_argument("front", type=Path)
    p.add_argument("back", type=Path, nargs="?", default=None)
    p.add_argument("--today", type=_iso_date, default=None, help="reference date for expiry and age (YYYY-MM-DD)")
    p.add_argument("--portrait-out", type=Path, default=None, help="write the portrait crop (PNG)")
    p.set_defaults(handler=_cmd_doc)

    p = sub.add_parser("liveness", parents=[common], help="run a liveness session over a video or a frames folder")
    p.add_argument("path", type=Path, help="a video file, or a folder of frames (sorted by name)")
    p.add_argument("--challenges", required=True, help="comma-separated: left,right,up,blink,smile,closer")
    p.add_argument("--fps", type=float, default=None, help="frame rate of a frames folder (default 15)")
    p.add_argument("--seed", type=int, default=None, help="seed for the session id and nonce (tests only)")
    p.set_defaults(handler=_cmd_liveness)


def _add_eval_commands(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """``openidv eval WHAT``: each engine on labelled or generated data."""
    ev = sub.add_parser("eval", help="evaluate an engine on labelled data")
    evsub = ev.add_subparsers(title="evaluations", metavar="WHAT")
    p = evsub.add_parser("faces", parents=[common], help="face verification on a PAIRS.tsv file")
    p.add_argument("pairs", type=Path, help="TSV with file_a, file_b, same_person (1/0)")
    p.add_argument(
        "--root", type=Path, default=None, help="folder the paths are relative to (default: the TSV's folder)"
    )
    p.add_argument("--plot", type=Path, default=None, help="write a DET curve and score histograms (PNG)")
    p.add_argument("--operating-point", default=None, help="operating point for false accepts/rejects")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(handler=_cmd_eval_faces)

    p = evsub.add_parser("mrz", parents=[common], help="MRZ location, reading and check digits on labelled images")
    p.add_argument("labels", type=Path, nargs="+", help="mrz_expected.tsv file(s)")
    p.add_argument("--root", type=Path, default=None, help="folder the paths are relative to (default: each file's)")
    p.set_defaults(handler=_cmd_eval_mrz)

    p = evsub.add_parser("liveness", parents=[common], help="APCER per attack type and BPCER (ISO/IEC 30107-3)")
    p.add_argument("--n-live", type=int, default=20, help="generated live sessions")
    p.add_argument("--n-per-attack", type=int, default=10, help="generated sessions per attack type")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fps", type=float, default=10.0, help="frame rate of the generated sequences")
    p.add_argument("--plot", type=Path, default=None, help="write a bar chart of APCER and BPCER (PNG)")
    p.add_argument(
        "--no-screen-light", action="store_true", help="sessions without the screen-light step (for comparison)"
    )
    p.set_defaults(handler=_cmd_eval_liveness)

    p = evsub.add_parser("pdf417", parents=[common], help="PDF417 decoding: a labelled manifest and/or generated backs")
    p.add_argument("manifest", type=Path, nargs="?", default=None, help="MANIFEST.tsv with expected_text=... labels")
    p.add_argument("--root", type=Path, default=None, help="folder the paths are relative to (default: the file's)")
    p.add_argument("--engine", choices=["openidv", "zxing", "both"], default="both")
    p.add_argument("--budget-ms", type=float, default=400.0, help="time budget of the fallback chain per image")
    p.add_argument("--generated", type=int, default=0, help="also decode N generated licence backs")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--max-tilt", type=float, default=30.0, help="largest camera tilt of generated backs (degrees)")
    p.set_defaults(handler=_cmd_eval_pdf417)

    p = evsub.add_parser("forgery", parents=[common], help="generated genuine and forged documents through the engine")
    p.add_argument("--n", type=int, default=200, help="genuine documents (and forged ones per type, unless --n-forged)")
    p.add_argument("--n-forged", type=int, default=None, help="forged documents per type")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--today", type=_iso_date, default=date(2026, 6, 1), help="reference date of the checks")
    p.add_argument("--faces", type=Path, default=None, help="folder of real face photos to print as portraits")
    p.add_argument("--workers", type=int, default=1, help="processes to run in parallel")
    p.add_argument("--types", default=None, help="comma-separated forgery types (the same documents as in a full run)")
    p.add_argument("--details", action="store_true", help="JSON: every document with its seed and failed checks")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=_cmd_eval_forgery)

    p = evsub.add_parser("fields", parents=[common], help="printed fields and issuer on labelled real document fronts")
    p.add_argument("labels", type=Path, help="LABELS.tsv: file, state, document_number, names, dates, sex")
    p.add_argument("--root", type=Path, default=None, help="folder the paths are relative to (default: the TSV's)")
    p.add_argument("--today", type=_iso_date, default=None, help="reference date of the checks (YYYY-MM-DD)")
    p.add_argument("--details", action="store_true", help="JSON: every document with its fields and failed checks")
    p.set_defaults(handler=_cmd_eval_fields)

    p = evsub.add_parser("aamva", parents=[common], help="AAMVA barcode payload parsing on a labelled JSONL file")
    p.add_argument("labels", type=Path, help="JSONL with file, derived_elements / upstream_expected labels")
    p.add_argument("--root", type=Path, default=None, help="folder the paths are relative to (default: the file's)")
    p.add_argument("--today", type=_iso_date, default=None, help="reference date of the checks (YYYY-MM-DD)")
    p.set_defaults(handler=_cmd_eval_aamva)


# --------------------------------------------------------------------------- handlers


def _cmd_match(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.face.matching import match

    config = _match_config(args.operating_point)
    result = match(_read(args.selfie), _read(args.document), config)
    payload = result.to_dict()
    verdict = {True: "SAME PERSON", False: "DIFFERENT PEOPLE", None: "UNDECIDED"}[result.same_person]
    lines = [f"{verdict}"]
    if result.distance is not None:
        lines.append(
            f"  score {result.score:.3f}  distance {result.distance:.3f}  threshold {result.threshold:.3f}"
            f"  (FMR {result.operating_point})"
        )
    lines += [f"  {r.side}: {r.code} - {r.detail}" for r in result.reasons]
    lines.append(f"  time {result.timings_ms['total']:.0f} ms")
    return payload, "\n".join(lines)


def _cmd_detect(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.config import get_settings
    from openidv.face.detection import detect

    faces = detect(_read(args.image), max_pixels=get_settings().max_image_pixels)
    payload = {"n_faces": len(faces), "faces": [f.to_dict() for f in faces]}
    lines = [f"{len(faces)} face(s)"]
    for i, f in enumerate(faces, 1):
        q = f.quality
        lines.append(
            f"  {i}: box {f.box.width:.0f}x{f.box.height:.0f} at ({f.box.x:.0f},{f.box.y:.0f}) score {f.score:.3f}"
            f" eyes {q.interocular_px:.0f}px sharpness {q.sharpness:.0f} brightness {q.brightness:.0f}"
            f" yaw {q.yaw_deg:.0f} pitch {q.pitch_deg:.0f} roll {q.roll_deg:.0f}"
        )
    return payload, "\n".join(lines)


def _cmd_models(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.models import REGISTRY

    # the face descriptor's backend (ONNX, or dlib when the conversion fails) is known only once it is loaded
    for name in REGISTRY.names() if args.load else [s.name for s in REGISTRY.check(["dlib_resnet"]) if s.available]:
        REGISTRY.get(name)
    statuses = REGISTRY.check()
    payload = {"models": [vars(s) for s in statuses], "all_available": all(s.available for s in statuses)}
    lines = [
        f"{'ok ' if s.available else 'MISSING'} {s.name:<12} {s.package}  {s.problem}"
        + (f"\n    runs as: {s.note}" if s.note else "")
        for s in statuses
    ]
    return payload, "\n".join(lines)


def _cmd_demo(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.demo import run_demo

    return run_demo(args.out)


def _cmd_eval_faces(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.eval.faces import evaluate_pairs, format_report, openidv_embedder, read_pairs

    config = _match_config(args.operating_point)
    pairs = read_pairs(args.pairs)
    root = args.root or args.pairs.parent
    result = evaluate_pairs(
        pairs,
        root,
        openidv_embedder(config),
        operating_point=config.operating_point,
        progress=None if args.no_progress else _progress("images"),
    )
    payload = result.to_dict()
    text = format_report(result, f"face verification: {args.pairs}")
    if args.plot:
        from openidv.eval.plot import plot_verification

        plot_verification(result.distances, result.same, result.threshold, args.plot, title=str(args.pairs.name))
        payload["plot"] = str(args.plot)
        text += f"\n  plot             {args.plot}"
    return payload, text


def _cmd_doc(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.document.engine import analyse_document

    front = _read(args.front)
    back = _read(args.back) if args.back is not None else None
    report = analyse_document(front, back, today=args.today or date.today())
    payload = report.to_dict()
    if args.portrait_out is not None and report.portrait is not None:
        from PIL import Image

        Image.fromarray(report.portrait).save(args.portrait_out)
        payload["portrait_file"] = str(args.portrait_out)
    lines = [f"{report.type.value}  issuer {report.issuer or '?'}  status {report.status.value.upper()}"]
    lines += [f"  {name:<22} {v['value']:<28} ({v['source']})" for name, v in payload["fields"].items()]
    lines += [f"  {c.status.value:<12} {c.name:<34} {c.reason:<28} {c.detail}" for c in report.checks]
    lines += [f"  note: {n}" for n in report.notes]
    lines.append(f"  time {report.timings_ms.get('total', 0):.0f} ms")
    return payload, "\n".join(lines)


def _cmd_eval_forgery(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.eval.forgery import evaluate_forgery, format_report

    if args.n < 1 or (args.n_forged is not None and args.n_forged < 1):
        raise _UsageError("--n and --n-forged must be at least 1")
    types = [t.strip() for t in args.types.split(",") if t.strip()] if args.types else None
    try:
        result = evaluate_forgery(
            args.n,
            n_per_type=args.n_forged,
            seed=args.seed,
            today=args.today,
            faces_dir=args.faces,
            types=types,
            workers=max(1, args.workers),
            progress=None if args.no_progress else _progress("documents"),
        )
    except ValueError as exc:
        raise _UsageError(str(exc)) from exc
    return result.to_dict(details=args.details), format_report(result)


def _cmd_liveness(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.liveness.offline import iter_frames, parse_challenges, run_offline

    try:
        challenges = parse_challenges(args.challenges)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    if not args.path.exists():
        raise _UsageError(f"no such file or folder: {args.path}")
    report = run_offline(iter_frames(args.path, args.fps), challenges, seed=args.seed)
    lines = [f"{report.decision.value.upper()}  score {report.score:.3f}  ({report.n_frames} frames)"]
    lines += [
        f"  {c.status.value:<12} {c.name:<24} {c.reason:<26} {'' if c.score is None else f'{c.score:.3f}'}  {c.detail}"
        for c in report.checks
    ]
    return report.to_dict(), "\n".join(lines)


def _cmd_eval_mrz(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.eval.mrz import evaluate_mrz, format_report, merge

    results = [evaluate_mrz(path, args.root) for path in args.labels]
    result = results[0] if len(results) == 1 else merge(results)
    return result.to_dict(), format_report(result)


def _cmd_eval_liveness(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.eval.liveness import evaluate_liveness, format_report, plot

    if args.n_live < 1 or args.n_per_attack < 1:
        raise _UsageError("--n-live and --n-per-attack must be at least 1")
    result = evaluate_liveness(
        n_live=args.n_live,
        n_per_attack=args.n_per_attack,
        seed=args.seed,
        fps=args.fps,
        screen_light=not args.no_screen_light,
    )
    payload, text = result.to_dict(), format_report(result)
    if args.plot:
        plot(result, args.plot)
        payload["plot"] = str(args.plot)
        text += f"\n  plot: {args.plot}"
    return payload, text


def _cmd_eval_pdf417(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.eval.pdf417 import evaluate_generated_backs, evaluate_pdf417, format_report

    if args.manifest is None and args.generated <= 0:
        raise _UsageError("give a MANIFEST.tsv, --generated N, or both")
    engines = ["openidv", "zxing"] if args.engine == "both" else [args.engine]
    payload: dict[str, Any] = {}
    texts = []
    if args.manifest is not None:
        root = args.root or args.manifest.parent
        for engine in engines:
            result = evaluate_pdf417(args.manifest, root, engine=engine, budget_ms=args.budget_ms)
            if engine == engines[0]:
                payload.update(result.to_dict())  # the first engine's keys (n, decoded, correct) at the top
            else:
                payload[f"baseline_{engine}"] = {k: v for k, v in result.to_dict().items() if k != "items"}
            texts.append(format_report(result))
    if args.generated > 0:
        generated = evaluate_generated_backs(
            args.generated, args.seed, args.max_tilt, engines=tuple(engines), budget_ms=args.budget_ms
        )
        payload["generated"] = generated.to_dict()
        texts.append(format_report(generated))
    return payload, "\n".join(texts)


def _cmd_eval_aamva(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.eval.aamva import evaluate_aamva, format_report

    result = evaluate_aamva(args.labels, args.root, today=args.today)
    return result.to_dict(), format_report(result)


def _cmd_eval_fields(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.eval.fields import evaluate_fields, format_report

    result = evaluate_fields(args.labels, args.root, today=args.today)
    return result.to_dict(details=args.details), format_report(result)


# --------------------------------------------------------------------------- helpers


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _match_config(operating_point: str | None) -> Any:
    from openidv.config import get_settings
    from openidv.face.matching import MatchConfig, QualityGates
    from openidv.face.operating_points import threshold_for

    settings = get_settings()
    op = operating_point or settings.face_operating_point
    try:
        threshold_for(op)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    gates = QualityGates(min_iod_px=settings.face_selfie_min_iod_px)
    return MatchConfig(operating_point=op, max_pixels=settings.max_image_pixels, selfie_gates=gates)


class _UsageError(OpenIDVError):
    code = "bad_argument"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror}") from exc


def _progress(unit: str) -> Callable[[Iterable[str]], Iterable[str]] | None:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def wrap(items: Iterable[str]) -> Iterable[str]:
        bar: Iterable[str] = tqdm(list(items), unit=unit.removesuffix("s"), file=sys.stderr, leave=False)
        return bar

    return wrap


def _version() -> str:
    from openidv import __version__

    return __version__


if __name__ == "__main__":
    sys.exit(main())
