"""Liveness evaluation per ISO/IEC 30107-3: APCER per attack type, BPCER on live sequences.

Every sequence runs through a full session (``start_session`` / ``add_frame`` /
``finish`` of :mod:`openidv.liveness.session`): the session draws its challenges, the
generator makes a live or attack sequence for them, the frames are fed with their client
timestamps (server time advancing with them), and the report's decision is counted:

* APCER(type) = attack sessions of that type decided ``live`` / attack sessions of that type;
* BPCER = live sessions not decided ``live`` (``not_live`` or ``inconclusive``) / live sessions.

**All active-challenge live sequences are synthetic** (real photos re-posed in 3-D by
:mod:`openidv.synth.liveness`: there is no real video of a head turning on request), and so
are all attacks (:mod:`openidv.synth.attacks`). The real Hamilton clip (a person
talking, no challenges) is a passive smoke input for the checks that do not depend on
challenges, and the three Silent-Face stills a smoke input for the per-image cues.
This module reads files (the shared photos and clip) and is not part of the engine.

Screen replays are also counted per stratum of their simulated setup
(:attr:`openidv.synth.attacks.ScreenSetup.visible_cues`: a sub-pixel lattice that reaches
the sensor, PWM flicker bands, the bezel in frame, or none of these). A screen with none of
them (fine pitch, DC backlight, filling the view) differs from a live capture only by its
tone curve, glare and a second pass through a camera, which the photos' own variety of
tone and sharpness covers: passive image cues cannot separate that stratum here, and its
APCER is reported apart so that it is not hidden in the total.

Photos in which the frame analyser finds a second face are not used as live subjects (a
session with two people is refused by ``single_face`` by design, not a false reject).

Screen light (on by default, ``screen_light=False`` / ``--no-screen-light`` to compare):
sessions start with the active-illumination step and the frames are made when fed
(closed loop, :class:`openidv.synth.liveness.LitSequence`): each frame is lit by the colour
the previous :class:`~openidv.liveness.types.Progress` asked for. Live sessions and screen
replays are also counted per light stratum (``light_strata``): live by the room light on
the face (:data:`ROOM_BANDS`: 80-200, 200-500, 500-1000, 1000-1500 lux; the screen's share of
the light falls as the room brightens, so the cost in bright rooms stays visible), screen
replays by the reflection on their glass (specular patch or matte veil), static photos by
variant (injected / photo on a stand).

The screen-cue and planarity thresholds of :mod:`openidv.liveness.pad` were set on sequences
generated from the seed streams ``[s, 99]``, s = 1000-1029; report figures with ``--seed``
values whose streams ``[seed, kind, i]`` do not overlap them (any small seed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.offline import iter_frames
from openidv.liveness.types import Decision, LivenessReport
from openidv.synth import attacks
from openidv.synth import liveness as synth

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
HAMILTON = SHARED / "video" / "short_hamilton_clip.mp4"
SILENT_FACE = SHARED / "silent_face_anti_spoofing" / "images" / "sample"
SYNTHETIC_NOTE = (
    "All live sequences with challenges and all attacks are SYNTHETIC (real photos re-posed in 3-D, "
    "printed/screen/replay attacks simulated); only the Hamilton clip and the Silent-Face stills are real."
)


@dataclass
class SessionOutcome:
    kind: str  #: "live" or an attack type
    decision: Decision
    checks: dict[str, tuple[str, str]]  #: check name -> (status, reason)
    n_frames: int
    analyse_ms: float  #: median per-frame analysis time of the session
    pad_ms_per_frame: float  #: presentation-attack checks' time / frames
    stats: dict[str, float] = field(default_factory=dict)  #: "check.statistic" -> value (see STAT_KEYS)
    stratum: str = ""  #: screen replay: "+"-joined visible cues of its setup, or "no_visible_cue"
    light_stratum: str = ""  #: live: a ROOM_BANDS name; screen replay: "specular" / "matte"; static photo: variant


#: The numeric check measurements gathered per session to show each cue's distribution per kind.
STAT_KEYS: dict[str, tuple[str, ...]] = {
    "planarity": ("nose_residual_iod", "yaw_range"),
    "screen_replay": ("lattice_peak_median", "banding_median", "border_fraction", "frame_black_median"),
    "print_attack": ("sheet_fraction", "flat_tone_fraction", "halftone_fraction"),
    "rppg": ("snr_db",),
    "screen_light_response": ("face_local_response", "correlation", "face_wide_fraction", "surround_raw_response"),
}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (95 % by default) for ``k`` successes in ``n`` trials; (nan, nan) when n = 0."""
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


@dataclass
class LivenessEvalResult:
    n_live: int
    bpcer: float
    live_rejected: int
    apcer: dict[str, float]
    n_attack: dict[str, int]
    attack_accepted: dict[str, int]
    ms_per_frame: float  #: median per-frame analysis time over all sessions
    pad_ms_per_frame: float  #: median time of the sequence checks per frame
    check_fail_rates: dict[str, dict[str, float]]  #: kind -> check -> fraction of sessions where it failed
    check_reasons: dict[str, dict[str, dict[str, int]]]  #: kind -> check -> reason -> count
    decisions: dict[str, dict[str, int]]  #: kind -> decision -> count
    smoke: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)  #: "live" / attack -> 95 % Wilson
    check_stats: dict[str, dict[str, list[float]]] = field(default_factory=dict)  #: kind -> stat -> [min, median, max]
    #: screen replay by the physical cues its setup shows: stratum -> (accepted as live, sessions)
    screen_strata: dict[str, tuple[int, int]] = field(default_factory=dict)
    n_photos_skipped: int = 0  #: photos not used as subjects (no face, or more than one face)
    screen_light: bool = False  #: sessions had the screen-light step
    #: "kind:light stratum" -> (decided live, sessions)
    light_strata: dict[str, tuple[int, int]] = field(default_factory=dict)
    note: str = SYNTHETIC_NOTE

    def to_dict(self) -> dict[str, Any]:
        return {
            "bpcer": round(self.bpcer, 4),
            "apcer": {k: round(v, 4) for k, v in self.apcer.items()},
            "n_live": self.n_live,
            "n_attack": dict(self.n_attack),
            "live_rejected": self.live_rejected,
            "attack_accepted": dict(self.attack_accepted),
            "ms_per_frame": round(self.ms_per_frame, 2),
            "pad_ms_per_frame": round(self.pad_ms_per_frame, 2),
            "check_fail_rates": {k: {c: round(r, 4) for c, r in v.items()} for k, v in self.check_fail_rates.items()},
            "check_reasons": self.check_reasons,
            "decisions": self.decisions,
            "intervals_95": {k: [round(a, 4), round(b, 4)] for k, (a, b) in self.intervals.items()},
            "check_stats": self.check_stats,
            "screen_strata": {k: {"accepted": a, "n": n} for k, (a, n) in self.screen_strata.items()},
            "n_photos_skipped": self.n_photos_skipped,
            "screen_light": self.screen_light,
            "light_strata": {k: {"live": a, "n": n} for k, (a, n) in self.light_strata.items()},
            "smoke": self.smoke,
            "seed": self.seed,
            "synthetic": True,
            "note": self.note,
        }


def face_photos(limit: int | None = None) -> list[np.ndarray]:
    """Real face photos: scikit-image's astronaut, then the shared deepface photos when present."""
    from skimage import data

    photos = [np.asarray(data.astronaut())]
    root = SHARED / "deepface"
    if root.is_dir():
        for path in sorted(root.rglob("*.jp*g")):
            if limit is not None and len(photos) >= limit:
                break
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if img is not None and min(img.shape[:2]) >= 150:
                photos.append(np.ascontiguousarray(img[:, :, ::-1]))
    return photos if limit is None else photos[:limit]


def run_session(
    frames: list[tuple[np.ndarray, float]], session: Any, *, start: float = 1_000.0
) -> tuple[LivenessReport, float]:
    """Feed (frame, client ts) pairs into ``session`` with server time following the client
    clock (plus 30 ms latency), then finish it. Returns the report and the wall time (s)."""
    from openidv.liveness.session import add_frame, finish

    t0 = time.perf_counter()
    if not frames:
        return finish(session, now=start), 0.0
    ts0 = frames[0][1]
    now = start
    for rgb, ts in frames:
        now = start + (ts - ts0) + 0.03
        add_frame(session, rgb, ts, now=now)
    report = finish(session, now=now + 0.1)
    return report, time.perf_counter() - t0


def run_lit_session(seq: synth.LitSequence, session: Any, *, start: float = 1_000.0) -> tuple[LivenessReport, float]:
    """Closed loop: make each frame of ``seq`` under the screen colour the session asked for with
    the previous frame's :class:`~openidv.liveness.types.Progress`, feed it, then finish.
    Server time follows the client clock plus 30 ms. Returns the report and the wall time (s)."""
    from openidv.liveness.session import add_frame, finish

    t0 = time.perf_counter()
    ts_all = seq.timestamps
    if not ts_all:
        return finish(session, now=start), 0.0
    now = start
    colour: str | None = None
    for i, ts in enumerate(ts_all):
        rgb = seq.shoot(i, colour)
        now = start + (ts - ts_all[0]) + 0.03
        colour = add_frame(session, rgb, ts, now=now).screen_colour
    report = finish(session, now=now + 0.1)
    return report, time.perf_counter() - t0


def _outcome(kind: str, report: LivenessReport) -> SessionOutcome:
    checks = {c.name: (c.status.value, c.reason) for c in report.checks}
    n = max(report.n_frames, 1)
    stats: dict[str, float] = {}
    for c in report.checks:
        for key in STAT_KEYS.get(c.name, ()):
            value = c.data.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                stats[f"{c.name}.{key}"] = float(value)
    return SessionOutcome(
        kind,
        report.decision,
        checks,
        report.n_frames,
        float(report.timings_ms.get("analyse_median", float("nan"))),
        float(report.timings_ms.get("presentation_attack", float("nan"))) / n,
        stats,
    )


def _subjects(rng: np.random.Generator, n: int) -> tuple[list[synth.Subject], int]:
    """Up to ``n`` subjects and the number of photos skipped.

    A photo is skipped when the mesh finds no face, or when the frame analyser finds a
    second face in the placed frame (a group photo or a bystander): a live session with two
    people is rightly refused (``single_face``), so it is not a bona fide presentation of one
    subject and would only measure the photo collection.
    """
    from openidv.liveness.frame import FrameAnalyzer

    subjects: list[synth.Subject] = []
    skipped = 0
    analyzer = FrameAnalyzer()
    try:
        for photo in face_photos():
            if len(subjects) >= n:
                break
            try:
                subject = synth.prepare_subject(photo, rng)
            except synth.NoFaceInPhotoError:
                skipped += 1
                continue
            analyzer.close()  # a fresh tracker per photo: no state carried over
            first = analyzer.analyse(subject.base, 0.0)
            if first.n_faces > 1 or first.n_smaller_faces > 0:  # one person per subject photo
                skipped += 1
                continue
            subjects.append(subject)
    finally:
        analyzer.close()
    return subjects, skipped


#: Room-light bands (lux at the face) for live sessions: the screen light's share falls as the room brightens.
ROOM_BANDS: tuple[tuple[float, str], ...] = (
    (200.0, "room_80-200lux"),
    (500.0, "room_200-500lux"),
    (1000.0, "room_500-1000lux"),
    (float("inf"), "room_1000-1500lux"),
)


def room_band(e_room_lux: float) -> str:
    """The :data:`ROOM_BANDS` name of a room light level (lux); "room_unknown" when it is not a number."""
    if not np.isfinite(e_room_lux):
        return "room_unknown"
    return next(name for top, name in ROOM_BANDS if e_room_lux < top)


def evaluate_liveness(
    *,
    n_live: int,
    n_per_attack: int,
    seed: int,
    fps: float = 10.0,
    smoke: bool = True,
    screen_light: bool = True,
) -> LivenessEvalResult:
    """Run ``n_live`` live sessions and ``n_per_attack`` sessions of each attack type.

    Sequences are generated at ``fps`` frames per second (10 keeps the run short; the
    checks accept 5-60). Subjects cycle over the real photos available (astronaut, plus
    the shared deepface photos when present). ``screen_light`` starts every session with
    the active-illumination step and feeds the frames in closed loop.
    """
    from openidv.liveness.session import start_session

    rng = np.random.default_rng(seed)
    subjects, skipped = _subjects(rng, max(n_live, n_per_attack, 1))
    if not subjects:
        raise RuntimeError("no usable face photo to generate sequences from")
    outcomes: list[SessionOutcome] = []
    plan = [("live", i) for i in range(n_live)] + [(k, i) for k in attacks.ATTACKS for i in range(n_per_attack)]
    for kind, i in plan:
        sub_rng = np.random.default_rng([seed, list(attacks.ATTACKS).index(kind) + 1 if kind != "live" else 0, i])
        subject = subjects[i % len(subjects)]
        session = start_session(now=1_000.0, rng=sub_rng, screen_light=screen_light)
        challenges = [s.challenge for s in session.steps]
        if kind == "live":
            seq = synth.live_scene(subject, challenges, sub_rng, fps)
        else:
            seq = attacks.SCENES[kind](subject, challenges, sub_rng, fps)
        report, _ = run_lit_session(seq, session)
        outcome = _outcome(kind, report)
        outcome.stratum = str(seq.info.get("cues", ""))  # screen replays: the visible cues
        if kind == "live":
            outcome.light_stratum = room_band(float(seq.info.get("e_room_lux", float("nan"))))
        elif kind in ("screen_replay", "static_photo"):
            outcome.light_stratum = str(seq.info.get("reflection", seq.info.get("variant", "")))
        outcomes.append(outcome)
    result = _summarise(outcomes, seed, _smoke_tests() if smoke else {})
    result.n_photos_skipped = skipped
    result.screen_light = screen_light
    return result


def _summarise(outcomes: list[SessionOutcome], seed: int, smoke: dict[str, Any]) -> LivenessEvalResult:
    kinds = ["live", *attacks.ATTACKS]
    by_kind = {k: [o for o in outcomes if o.kind == k] for k in kinds}
    live = by_kind["live"]
    rejected = sum(1 for o in live if o.decision is not Decision.LIVE)
    apcer, n_attack, accepted = {}, {}, {}
    for k in attacks.ATTACKS:
        rows = by_kind[k]
        n_attack[k] = len(rows)
        accepted[k] = sum(1 for o in rows if o.decision is Decision.LIVE)
        apcer[k] = accepted[k] / len(rows) if rows else float("nan")
    fail_rates: dict[str, dict[str, float]] = {}
    reasons: dict[str, dict[str, dict[str, int]]] = {}
    decisions: dict[str, dict[str, int]] = {}
    for k, rows in by_kind.items():
        names = sorted({c for o in rows for c in o.checks})
        fail_rates[k] = {
            c: float(np.mean([o.checks.get(c, ("", ""))[0] == Status.FAIL.value for o in rows])) for c in names
        }
        reasons[k] = {}
        for c in names:
            counts: dict[str, int] = {}
            for o in rows:
                if c in o.checks:
                    key = f"{o.checks[c][0]}:{o.checks[c][1]}"
                    counts[key] = counts.get(key, 0) + 1
            reasons[k][c] = counts
        decisions[k] = {d.value: sum(1 for o in rows if o.decision is d) for d in Decision}
    intervals = {"live": wilson(rejected, len(live))}
    intervals.update({k: wilson(accepted[k], n_attack[k]) for k in attacks.ATTACKS})
    check_stats: dict[str, dict[str, list[float]]] = {}
    for k, rows in by_kind.items():
        keys = sorted({key for o in rows for key in o.stats})
        check_stats[k] = {}
        for key in keys:
            vals = np.array([o.stats[key] for o in rows if key in o.stats])
            check_stats[k][key] = [round(float(v), 4) for v in (vals.min(), np.median(vals), vals.max())]
    strata: dict[str, tuple[int, int]] = {}
    for o in by_kind.get("screen_replay", []):
        if o.stratum:
            acc, cnt = strata.get(o.stratum, (0, 0))
            strata[o.stratum] = (acc + int(o.decision is Decision.LIVE), cnt + 1)
    light_strata: dict[str, tuple[int, int]] = {}
    for o in outcomes:
        if o.light_stratum:
            key = f"{o.kind}:{o.light_stratum}"
            acc, cnt = light_strata.get(key, (0, 0))
            light_strata[key] = (acc + int(o.decision is Decision.LIVE), cnt + 1)
    ms = [o.analyse_ms for o in outcomes if np.isfinite(o.analyse_ms)]
    pad = [o.pad_ms_per_frame for o in outcomes if np.isfinite(o.pad_ms_per_frame)]
    return LivenessEvalResult(
        n_live=len(live),
        bpcer=rejected / len(live) if live else float("nan"),
        live_rejected=rejected,
        apcer=apcer,
        n_attack=n_attack,
        attack_accepted=accepted,
        ms_per_frame=float(np.median(ms)) if ms else float("nan"),
        pad_ms_per_frame=float(np.median(pad)) if pad else float("nan"),
        check_fail_rates=fail_rates,
        check_reasons=reasons,
        decisions=decisions,
        smoke=smoke,
        seed=seed,
        intervals=intervals,
        check_stats=check_stats,
        screen_strata=dict(sorted(strata.items())),
        light_strata=dict(sorted(light_strata.items())),
    )


# ----------------------------------------------------------------------------- real-data smoke tests


def _smoke_tests() -> dict[str, Any]:
    out: dict[str, Any] = {}
    if HAMILTON.is_file():
        out["hamilton"] = hamilton_smoke(HAMILTON)
    if SILENT_FACE.is_dir():
        out["silent_face"] = silent_face_smoke(SILENT_FACE)
    return out


def _analyse(frames: list[tuple[np.ndarray, float]]) -> list[Any]:
    from openidv.liveness.frame import FrameAnalyzer

    with FrameAnalyzer() as analyzer:
        return [analyzer.analyse(rgb, ts) for rgb, ts in frames]


def _brief(c: CheckResult) -> dict[str, Any]:
    return {
        "status": c.status.value,
        "reason": c.reason,
        "score": None if c.score is None else round(c.score, 3),
        **c.data,
    }


def hamilton_smoke(path: Path, max_frames: int = 150) -> dict[str, Any]:
    """The real clip (a person talking, no challenges) through the challenge-independent checks:
    screen and print cues, rPPG, and the timing/duplicate part of the injection check (a
    session with no steps, so that check can at best be inconclusive ``no_challenges``)."""
    from openidv.liveness import pad

    frames = list(islice(iter_frames(path), max_frames))
    if not frames:
        return {"error": "no frames decoded"}
    analyses = _analyse(frames)
    imgs = [f for f, _ in frames]
    checks = [
        pad.screen_replay(imgs, analyses),
        pad.print_attack(imgs, analyses),
        pad.rppg(imgs, analyses),
        pad.injection_replay(imgs, analyses, [], nonce="smoke-test-nonce-0000"),
    ]
    return {
        "frames": len(frames),
        "fps": round(1.0 / frames[1][1], 2) if len(frames) > 1 and frames[1][1] > 0 else None,
        "with_face": sum(a.face_found for a in analyses),
        "checks": {c.name: _brief(c) for c in checks},
    }


def silent_face_smoke(folder: Path) -> dict[str, Any]:
    """The three Silent-Face stills (F1 print, F2 screen, T1 live) through the per-image cues
    (each still is used as a two-frame sequence of itself: only image cues apply)."""
    from openidv.liveness import pad
    from openidv.liveness.frame import FrameAnalyzer

    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.jpg")):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        with FrameAnalyzer() as analyzer:
            a = analyzer.analyse(rgb, 0.0)
        if not a.face_found:
            out[path.name] = {"face_found": False}
            continue
        frames, analyses = [rgb, rgb], [a, a]
        out[path.name] = {
            "label": "live" if "_T" in path.name else "spoof",
            "screen_replay": _brief(pad.screen_replay(frames, analyses)),
            "print_attack": _brief(pad.print_attack(frames, analyses)),
        }
    return out


# ----------------------------------------------------------------------------- report and plot


def format_report(result: LivenessEvalResult) -> str:
    lines = [
        "Liveness evaluation (ISO/IEC 30107-3 style)",
        f"NOTE: {result.note}",
        f"seed {result.seed}",
        "",
        f"{'kind':<20}{'n':>5}{'errors':>8}{'rate':>9}{'95% Wilson':>18} (attacks accepted / live rejected)",
        f"{'live (BPCER)':<20}{result.n_live:>5}{result.live_rejected:>8}{result.bpcer:>9.1%}{_ci(result, 'live'):>18}",
    ]
    for k, rate in result.apcer.items():
        lines.append(f"{k:<20}{result.n_attack[k]:>5}{result.attack_accepted[k]:>8}{rate:>9.1%}{_ci(result, k):>18}")
    if result.screen_strata:
        lines += ["", "screen replay by the physical cues its simulated setup shows (accepted as live / sessions):"]
        for stratum, (acc, cnt) in result.screen_strata.items():
            lo, hi = wilson(acc, cnt)
            lines.append(f"  {stratum:<28}{acc:>3} / {cnt:<3} [{lo:.1%}, {hi:.1%}]")
    if result.light_strata:
        lines += ["", "by light stratum (decided live / sessions):"]
        for stratum, (acc, cnt) in result.light_strata.items():
            lo, hi = wilson(acc, cnt)
            lines.append(f"  {stratum:<28}{acc:>3} / {cnt:<3} [{lo:.1%}, {hi:.1%}]")
    lines += [
        "",
        f"screen light: {'on' if result.screen_light else 'off'}",
        f"median frame analysis: {result.ms_per_frame:.1f} ms/frame; "
        f"sequence checks: {result.pad_ms_per_frame:.1f} ms/frame",
        "",
        "fraction of sessions each check failed (live: false fails; attacks: catches)",
    ]
    checks = sorted({c for v in result.check_fail_rates.values() for c in v})
    kinds = list(result.check_fail_rates)
    lines.append(f"{'check':<22}" + "".join(f"{k[:12]:>13}" for k in kinds))
    for c in checks:
        lines.append(f"{c:<22}" + "".join(f"{result.check_fail_rates[k].get(c, float('nan')):>13.0%}" for k in kinds))
    lines += ["", "decisions: " + "; ".join(f"{k}: {v}" for k, v in result.decisions.items())]
    if result.check_stats:
        lines += ["", "check measurements per kind: min / median / max"]
        for k, stats in result.check_stats.items():
            for key, (lo, med, hi) in stats.items():
                lines.append(f"  {k:<18}{key:<40}{lo:>9.3f}{med:>9.3f}{hi:>9.3f}")
    if result.smoke:
        lines += ["", "real-data smoke tests:"]
        ham = result.smoke.get("hamilton")
        if ham:
            lines.append(
                f"  Hamilton clip (real, passive): {ham.get('frames')} frames, {ham.get('with_face')} with a face"
            )
            for name, c in ham.get("checks", {}).items():
                lines.append(f"    {name}: {c['status']} ({c['reason']})")
        for name, res in result.smoke.get("silent_face", {}).items():
            if "screen_replay" in res:
                scr, prn = res["screen_replay"], res["print_attack"]
                lines.append(
                    f"  {name} [{res['label']}]: screen_replay {scr['status']} ({scr['reason']}),"
                    f" print_attack {prn['status']} ({prn['reason']})"
                )
            else:
                lines.append(f"  {name}: no face found")
    return "\n".join(lines)


def _ci(result: LivenessEvalResult, kind: str) -> str:
    lo, hi = result.intervals.get(kind, (float("nan"), float("nan")))
    return f"[{lo:.1%}, {hi:.1%}]"


def plot(result: LivenessEvalResult, path: str | Path) -> None:
    """Bar chart of APCER per attack type and BPCER (PNG, matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["BPCER (live)", *[f"APCER {k}" for k in result.apcer]]
    values = [result.bpcer, *result.apcer.values()]
    counts = [result.n_live, *result.n_attack.values()]
    fig, ax = plt.subplots(figsize=(8, 4))
    colours = ["tab:blue"] + ["tab:red"] * len(result.apcer)
    bars = ax.bar(range(len(values)), [100 * v for v in values], color=colours)
    for bar, v, n in zip(bars, values, counts, strict=True):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height() + 0.5,
            f"{100 * v:.1f}% (n={n})",
            ha="center",
            fontsize=8,
        )
    ax.set_xticks(range(len(values)), names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("error rate (%)")
    ax.set_ylim(0, max(10.0, 100 * max(values) + 5))
    ax.set_title("Liveness: APCER per attack type, BPCER (synthetic sequences)", fontsize=10)
    fig.tight_layout()
    fig.savefig(str(path), dpi=120)
    plt.close(fig)
