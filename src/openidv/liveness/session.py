"""The challenge-response liveness session: protocol state and decision, no I/O.

A session is a plain object the caller keeps (in memory) between requests::

    session = start_session(now=time.time())            # id, nonce, 3-4 random challenges
    progress = add_frame(session, jpeg_bytes, client_ts, now=time.time())   # per frame
    report = finish(session, now=time.time())            # decision, checks, selfie

Time (``now``, server seconds; ``client_ts``, the client's capture time in seconds) and
randomness are passed in; nothing here reads a clock, a file or a global. One session
must not be driven from two threads at once.

Protocol
--------
* **Baseline.** The first ``baseline_frames`` frames with one roughly frontal face
  (|yaw|, |pitch| <= 20 degrees, eyes open: EAR >= 0.10 and >= 0.8 x the median of the
  last 15 frames, so narrow eyes qualify and a blink does not) give the subject's neutral yaw, pitch, eye
  aspect ratio, smile ratio, mouth-corner lift and face width (medians). Every challenge
  is measured against this baseline, so a camera that looks at the face from slightly
  off-axis, a small face, narrow eyes or a wide mouth do not matter.
* **Challenges**, in the issued order, each within its window (``window_s``, default 8 s
  of server time from the moment the step becomes current; the first starts when the
  baseline is complete). A challenge counts only while it is the current one:

  ==============  =====================================================================
  turn_left       yaw - baseline >= +15 degrees (the subject turns to their left, the
                  image's right) in ``hold_frames`` (2) consecutive frames
  turn_right      yaw - baseline <= -15 degrees, 2 consecutive frames
  look_up         pitch - baseline >= +12 degrees (and |yaw - baseline| < 15), 2 frames
  blink           eye aspect ratio below 0.6 x the eyes just before (the median of the
                  step's last 3 near-frontal open frames; the baseline until there are 2)
                  in at least one frame, then back above 0.85 x it, head near frontal;
                  ``met_at`` is the time of the most closed frame
  smile           mouth width / inter-ocular distance >= 1.15 x baseline, or >= 1.08 x
                  baseline with the mouth corners lifted by >= 0.05 inter-ocular
                  distances over baseline; head near frontal; 2 frames
  move_closer     face width >= 1.25 x its width when the step began, head near frontal,
                  2 frames
  ==============  =====================================================================

* **Screen light** (``start_session(screen_light=True)``; the service's default, not the
  offline runs'): the first step after the baseline, ``screen_light``, not drawn at random.
  While it is current every :class:`Progress` carries ``screen_colour``, the colour
  ("#rrggbb") the client must fill its screen with before capturing its *next* frame; a
  frame counts for the colour sent before it, and the step is met once each of the
  ``light_colours`` (6) colours has had ``light_frames_per_colour`` (3) frames with one
  usable face (the step's window applies as for other challenges). For each of its frames
  and the frame after it (a camera one frame late) the session keeps the mean colours of
  five face regions and three boxes around the face (:func:`~openidv.liveness.frame.light_regions`,
  ~1 ms); :func:`openidv.liveness.pad.screen_light_response` judges them at ``finish``
  (the physics is in its docstring). Without the step that check is absent.

  Before every challenge after the first the head must come back to frontal
  (|yaw - baseline| and |pitch - baseline| <= 10 degrees), so "turn left" then
  "turn right" is a left turn, a return, then a right turn. Issued sequences hold 3-4
  distinct challenges with at least one head turn (the 3-D parallax check needs one) and
  at least one of blink / smile (a non-rigid change a rigid photo cannot make).
* **Expiry.** A step whose window passes unmet ends the session (``challenge_timeout``);
  the session itself ends ``ttl_s`` after it started (``session_expired``). Frames after
  either are refused with ``expired=True``.

Why these thresholds: natural head sway while holding still is +-2-5 degrees and the
mesh-based angle noise ~1-2 degrees; a deliberate turn is 30-45 degrees. The mesh reads
turns short: on rendered turns of known angle (``openidv.synth.liveness``) a 30 degree
turn reads 20-25 degrees and a 22 degree one 15-18, so 15 degrees on the estimate (3x the
sway) stands for a real turn of about 20 degrees. Looking up reads closer to the truth
(a 20 degree tilt reads ~17), and people look up less far than they turn: 12 degrees.
The eye aspect ratio of a closed eye is 25-50 % of the open one, and it rarely drops
below 60 % without a blink. Talking widens the mouth by up to ~10 %, a smile by 15-40 %.
Moving closer must grow the face by a quarter, more than hand shake or leaning.

Decision (``finish``)
---------------------
Checks: ``challenges_completed``, ``single_face``, ``same_person``, ``frame_quality``
(here) and the presentation-attack checks of :func:`openidv.liveness.pad.sequence_checks`.
A check whose severity is ``advisory`` (:mod:`openidv.decision.severity`: rPPG) is reported but never decides.
Among the others (the mandatory ones): any ``fail`` -> ``not_live``; all ``pass`` ->
``live``; otherwise ``inconclusive``. Without the presentation-attack checks the
decision can never be ``live``. The score is the lowest score among the mandatory checks.

Memory: at most ``max_frames`` frames are accepted (600: 40 s at 15 fps). Each keeps its
:class:`FrameAnalysis` and its pixels: a JPEG stripped of comments, unknown application
segments and trailing bytes (the same pixels; ~30-60 kB at 640 x 480), another format
re-encoded as PNG, or a reference to the caller's array; ``stored_bytes`` counts them. Three decoded frames are
pinned (first and last frontal frame, the selfie). At ``finish`` the presentation-attack
checks get the frames as a lazy sequence that decodes on access (a small cache), so the
decoded sequence is never held in memory at once.
"""

from __future__ import annotations

import base64
import logging
import math
import random
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import cast, overload

import cv2
import numpy as np

from openidv.checks import CheckResult, Severity, Status
from openidv.decision.severity import severity_of
from openidv.errors import CorruptImageError, EmptyImageError, ImageError, NotAnImageError, OpenIDVError
from openidv.imaging import as_rgb, compact_encoding
from openidv.liveness.codes import LivenessCheck
from openidv.liveness.frame import (
    DEFAULT_FRAME_CONFIG,
    GUIDANCE_BACK,
    GUIDANCE_CLOSER,
    GUIDANCE_STILL,
    FrameAnalyzer,
    FrameConfig,
    decode_frame,
    light_regions,
    mouth_corner_lift,
)
from openidv.liveness.pad import hex_rgb
from openidv.liveness.types import (
    DRAWABLE_CHALLENGES,
    Challenge,
    ChallengeStep,
    Decision,
    FrameAnalysis,
    LightRecord,
    LightSample,
    LivenessReport,
    Progress,
)

log = logging.getLogger(__name__)

HEAD_TURNS = frozenset({Challenge.TURN_LEFT, Challenge.TURN_RIGHT})
POSE_CHALLENGES = frozenset({Challenge.TURN_LEFT, Challenge.TURN_RIGHT, Challenge.LOOK_UP})
EXPRESSIONS = frozenset({Challenge.BLINK, Challenge.SMILE})

#: What to tell the user for each challenge.
INSTRUCTIONS: dict[Challenge, str] = {
    Challenge.TURN_LEFT: "turn your head to your left",
    Challenge.TURN_RIGHT: "turn your head to your right",
    Challenge.LOOK_UP: "look up",
    Challenge.BLINK: "blink",
    Challenge.SMILE: "smile",
    Challenge.MOVE_CLOSER: "bring your face closer to the camera",
    Challenge.SCREEN_LIGHT: "hold still while the screen changes colour",
}

#: Saturated colours the screen-light step draws from ("#rrggbb"): each drives one or two of the
#: display's primaries fully and the others not at all, so every colour channel is switched on
#: and off across a sequence and the face's response can be regressed per channel.
LIGHT_PALETTE: tuple[str, ...] = ("#ff0000", "#00ff00", "#0000ff", "#ffff00", "#ff00ff", "#00ffff")
INSTRUCTION_FRONTAL = "look straight at the camera"
INSTRUCTION_DONE = "all done"

CHECK_CHALLENGES = LivenessCheck.CHALLENGES_COMPLETED
CHECK_SINGLE_FACE = LivenessCheck.SINGLE_FACE
CHECK_SAME_PERSON = LivenessCheck.SAME_PERSON
CHECK_QUALITY = LivenessCheck.FRAME_QUALITY
CHECK_PAD = LivenessCheck.PRESENTATION_ATTACK


@dataclass(frozen=True)
class SessionConfig:
    """Protocol parameters. Angles in degrees, times in seconds, ratios relative to the baseline."""

    window_s: float = 8.0  #: time allowed per challenge, from the moment it becomes current
    min_challenges: int = 3
    max_challenges: int = 4
    baseline_frames: int = 3  #: frontal frames that make the neutral baseline
    baseline_max_deg: float = 20.0  #: |yaw| and |pitch| of a baseline frame (absolute)
    min_open_ear: float = 0.10  #: eye aspect ratio of a baseline frame: at least this (eyes not shut) ...
    #: ... and at least this fraction of the median of the last frames before the baseline (not
    #: mid-blink). Relative, because narrow eyes read 0.12-0.18 open: an absolute 0.15 kept such users
    #: waiting for a baseline while the simulated ones went on with their challenges
    baseline_open_fraction: float = 0.8
    frontal_deg: float = 10.0  #: "back to frontal" before the next challenge, relative to the baseline
    expression_max_deg: float = 15.0  #: blink, smile and move closer count only this close to frontal
    yaw_deg: float = 15.0  #: head turn: yaw change from the baseline (estimate; ~20 degrees real)
    pitch_up_deg: float = 12.0  #: look up: pitch change from the baseline
    blink_closed_ratio: float = 0.60  #: eyes closed: EAR below this fraction of the baseline
    blink_open_ratio: float = 0.85  #: eyes open again: EAR above this fraction
    smile_ratio: float = 1.15  #: smile: mouth width ratio over the baseline
    smile_lift_ratio: float = 1.08  #: ... or this ratio together with
    smile_lift: float = 0.05  #: ... this rise of the mouth corners (inter-ocular distances)
    closer_ratio: float = 1.25  #: move closer: face width over its width when the step began
    hold_frames: int = 2  #: consecutive frames a sustained action (turn, look up, smile, closer) must hold
    selfie_max_deg: float = 12.0  #: selfie candidates: |yaw|, |pitch| relative to the baseline
    selfie_min_ear_ratio: float = 0.75  #: selfie candidates: eyes open
    max_multi_face_frames: int = 1  #: more frames than this with several faces fail ``single_face``
    min_selfie_face_frac: float = 0.12  #: selfie face narrower than this fraction of the frame: low quality
    max_frames: int = 600  #: frames accepted per session (40 s at 15 fps); later ones are refused
    max_frame_side: int = 1280  #: larger frames are downscaled before anything else
    operating_point: str = "1e-3"  #: face-match operating point of the ``same_person`` check
    light_colours: int = 6  #: colours shown in the screen-light step (drawn from LIGHT_PALETTE)
    light_frames_per_colour: int = 3  #: frames with a usable face captured under each colour
    frame: FrameConfig = DEFAULT_FRAME_CONFIG


DEFAULT_SESSION_CONFIG = SessionConfig()


@dataclass(frozen=True)
class Baseline:
    """The subject's neutral measures (medians over the baseline frames)."""

    yaw: float
    pitch: float
    ear: float
    smile: float
    lift: float
    face_width_frac: float
    n_frames: int


@dataclass
class _StepState:
    started_at: float  #: server time the step became current
    started_ts: float  #: client time of the frame that made it current
    need_frontal: bool
    ref_width: float
    hold: int = 0
    closed_ts: float | None = None  #: blink: client time of the most closed frame so far
    closed_ear: float = math.inf
    #: blink: eye aspect ratios of the last near-frontal open-eye frames of this step (the local reference)
    open_ears: deque[float] = field(default_factory=lambda: deque(maxlen=3))


@dataclass(frozen=True, eq=False)
class _Pinned:
    index: int
    rgb: np.ndarray = field(repr=False)
    score: float = 0.0


@dataclass(eq=False)
class LivenessSession:
    """The state of one liveness session. Create it with :func:`start_session`."""

    session_id: str
    nonce: str
    created_at: float  #: server time, s
    expires_at: float  #: server time, s
    steps: list[ChallengeStep]
    config: SessionConfig = DEFAULT_SESSION_CONFIG
    analyzer: FrameAnalyzer | None = field(default=None, repr=False)
    baseline: Baseline | None = None
    step_index: int = 0
    ended_reason: str = ""  #: "", "challenge_timeout", "session_expired"
    analyses: list[FrameAnalysis] = field(default_factory=list, repr=False)
    analyse_ms: list[float] = field(default_factory=list, repr=False)
    rejected: dict[str, int] = field(default_factory=dict)  #: refused frames by reason
    off_challenge: dict[str, int] = field(default_factory=dict)  #: frames showing a challenge not asked for
    report: LivenessReport | None = field(default=None, repr=False)
    _step: _StepState | None = field(default=None, repr=False)
    _baseline_frames: list[FrameAnalysis] = field(default_factory=list, repr=False)
    _ears_before_baseline: deque[float] = field(default_factory=lambda: deque(maxlen=15), repr=False)
    _recent_widths: deque[float] = field(default_factory=lambda: deque(maxlen=5), repr=False)
    _stored: list[bytes | np.ndarray] = field(default_factory=list, repr=False)  #: parallel to ``analyses``
    stored_bytes: int = 0  #: bytes held by ``_stored`` (encoded frames and arrays)
    _last_ts: float = -math.inf
    _first_frontal: _Pinned | None = field(default=None, repr=False)
    _last_frontal: _Pinned | None = field(default=None, repr=False)
    _selfie: _Pinned | None = field(default=None, repr=False)
    light_colours: list[str] = field(default_factory=list)  #: "#rrggbb" in the issued order
    light_samples: list[LightSample] = field(default_factory=list, repr=False)
    _light_pos: int = 0  #: index of the colour being captured now
    _light_count: int = 0  #: usable frames captured under it so far
    _light_told: int = -1  #: colour index sent with the last Progress (-1: none)
    _light_after: bool = False  #: measure the next frame too (a camera one frame late still shows the last colour)

    @property
    def current(self) -> Challenge | None:
        """The challenge to perform now, or None when all are met or the session ended."""
        if self.ended_reason or self.report is not None or self.step_index >= len(self.steps):
            return None
        return self.steps[self.step_index].challenge

    @property
    def completed(self) -> list[Challenge]:
        return [s.challenge for s in self.steps if s.met_at is not None]

    @property
    def n_stored(self) -> int:
        return len(self._stored)

    @property
    def screen_light(self) -> bool:
        """The session has the screen-light step (it was issued colours)."""
        return bool(self.light_colours)

    @property
    def light_active(self) -> bool:
        """The screen-light step is under way (the baseline is done and it is the current step)."""
        return self.baseline is not None and self.current is Challenge.SCREEN_LIGHT

    @property
    def screen_colour(self) -> str | None:
        """The colour the client must show before its next frame (None outside the screen-light step)."""
        if self.light_active and self._light_pos < len(self.light_colours):
            return self.light_colours[self._light_pos]
        return None

    def light_record(self) -> LightRecord | None:
        """The screen-light step's colours and measurements; None when the session has no such step."""
        if not self.screen_light:
            return None
        met = any(s.challenge is Challenge.SCREEN_LIGHT and s.met_at is not None for s in self.steps)
        return LightRecord(tuple(self.light_colours), tuple(self.light_samples), met)

    def close(self) -> None:
        """Release the face tracker (``finish`` does this)."""
        if self.analyzer is not None:
            self.analyzer.close()


# --------------------------------------------------------------------------- start


def _random_source(rng: np.random.Generator | random.Random | None) -> tuple[bytes, bytes, list[float]]:
    """Two 16-byte tokens and 64 uniform numbers from ``rng`` (the OS's CSPRNG when None)."""
    if rng is None:
        tokens = secrets.token_bytes(16), secrets.token_bytes(16)
    elif isinstance(rng, np.random.Generator):
        tokens = rng.bytes(16), rng.bytes(16)
    else:
        tokens = rng.randbytes(16), rng.randbytes(16)
    return tokens[0], tokens[1], _uniforms(rng, 64)


def _uniforms(rng: np.random.Generator | random.Random | None, n: int) -> list[float]:
    """``n`` uniform numbers in [0, 1) from ``rng`` (the OS's CSPRNG when None)."""
    if rng is None:
        sysrand = secrets.SystemRandom()
        return [sysrand.random() for _ in range(n)]
    if isinstance(rng, np.random.Generator):
        return [float(v) for v in rng.random(n)]
    return [rng.random() for _ in range(n)]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def draw_challenges(uniform: list[float], n: int) -> list[Challenge]:
    """``n`` distinct challenges in random order, with at least one head turn and one of blink / smile.

    ``uniform`` supplies the randomness (numbers in [0, 1)); rejection sampling over random
    permutations, so every acceptable sequence is equally likely.
    """
    pool = list(DRAWABLE_CHALLENGES)
    it = iter(uniform)
    while True:
        order = pool.copy()
        try:
            for i in range(len(order) - 1, 0, -1):  # Fisher-Yates
                j = min(i, int(next(it) * (i + 1)))
                order[i], order[j] = order[j], order[i]
        except StopIteration:
            # cannot happen with 64 numbers in practice (acceptance is ~70 %); fall back deterministically
            return [Challenge.TURN_LEFT, Challenge.BLINK, Challenge.TURN_RIGHT, Challenge.SMILE][:n]
        chosen = order[:n]
        if HEAD_TURNS & set(chosen) and EXPRESSIONS & set(chosen):
            return chosen


def _reachable(lit: list[bool], on: list[int], off: list[int], need: int, left: int) -> bool:
    """After a colour lighting channels ``lit``, can ``left`` more colours still bring every channel
    to ``need`` colours on and ``need`` off?"""
    return all(max(0, need - on[c] - lit[c]) + max(0, need - off[c] - (not lit[c])) <= left for c in range(3))


def draw_colours(
    uniform: list[float], n: int, palette: Sequence[str] = LIGHT_PALETTE, *, min_each: int = 2
) -> list[str]:
    """``n`` colours from ``palette``, uniformly at random among the schedules in which
    consecutive colours differ and, where ``n`` allows, each of R, G and B is on in at least
    ``min_each`` colours and off in at least ``min_each`` (so every channel's response can be
    measured: a schedule that never lights blue leaves one channel where clipping may take
    another; drawn freely that happened in ~5 % of sessions).

    ``uniform`` supplies the randomness (at least ``n`` numbers in [0, 1)); the draw is
    sequential, each colour among those that keep the constraint reachable.
    """
    if len(palette) < 2 or n < 1 or len(uniform) < n:
        raise ValueError("need a palette of 2 or more colours and n >= 1 random numbers")
    drive = {c: [bool(v >= 0.5) for v in hex_rgb(c)] for c in palette}
    need = min_each if n >= 2 * min_each else 0
    on, off = [0, 0, 0], [0, 0, 0]
    out: list[str] = []
    for k, u in enumerate(uniform[:n]):
        left = n - k - 1  # colours still to draw after this one
        choices = [c for c in palette if not out or c != out[-1]]
        choices = [c for c in choices if _reachable(drive[c], on, off, need, left)] or choices
        pick = choices[min(len(choices) - 1, int(u * len(choices)))]
        for ch in range(3):
            on[ch] += drive[pick][ch]
            off[ch] += not drive[pick][ch]
        out.append(pick)
    return out


def start_session(
    *,
    now: float,
    rng: np.random.Generator | random.Random | None = None,
    n_challenges: int | None = None,
    ttl_s: float = 120.0,
    challenges: list[Challenge] | None = None,
    config: SessionConfig = DEFAULT_SESSION_CONFIG,
    analyzer: FrameAnalyzer | None = None,
    screen_light: bool = False,
) -> LivenessSession:
    """A new session: unguessable id and nonce, 3-4 random challenges, expiry ``now + ttl_s``.

    ``rng`` None uses the operating system's CSPRNG (:mod:`secrets`); pass a seeded
    ``numpy.random.Generator`` only in tests. ``challenges`` fixes the sequence (offline
    runs over pre-recorded video); otherwise ``n_challenges`` (3-4, random when None)
    are drawn. ``analyzer`` is made on the first frame when not given.

    ``screen_light`` adds the active-illumination step (:data:`Challenge.SCREEN_LIGHT`)
    right after the baseline, before the other challenges: ``config.light_colours``
    colours drawn from :data:`LIGHT_PALETTE` (after the challenges, from the same random
    source; consecutive colours differ), each held for ``config.light_frames_per_colour``
    frames with a usable face. The client shows :attr:`Progress.screen_colour` before
    capturing its next frame. Off by default: a recorded video cannot show colours.
    """
    tok_id, tok_nonce, uniform = _random_source(rng)
    if challenges is not None:
        chosen = [Challenge(c) for c in challenges]
        if not chosen or len(set(chosen)) != len(chosen):
            raise ValueError("challenges must be a non-empty list of distinct challenges")
        if Challenge.SCREEN_LIGHT in chosen:
            raise ValueError("screen_light is not a drawable challenge: pass screen_light=True")
    else:
        n = n_challenges
        if n is None:
            n = config.min_challenges + min(
                int(uniform.pop() * (config.max_challenges - config.min_challenges + 1)),
                config.max_challenges - config.min_challenges,
            )
        if not 2 <= n <= len(DRAWABLE_CHALLENGES):
            raise ValueError(f"n_challenges must be between 2 and {len(DRAWABLE_CHALLENGES)}, got {n}")
        chosen = draw_challenges(uniform, n)
    colours: list[str] = []
    if screen_light:
        if config.light_colours < 2 or config.light_frames_per_colour < 1:
            raise ValueError("the screen-light step needs at least 2 colours and 1 frame per colour")
        colours = draw_colours(_uniforms(rng, config.light_colours), config.light_colours)
        chosen = [Challenge.SCREEN_LIGHT, *chosen]
    steps = [ChallengeStep(c, config.window_s) for c in chosen]
    return LivenessSession(
        light_colours=colours,
        session_id=_b64(tok_id),
        nonce=_b64(tok_nonce),
        created_at=float(now),
        expires_at=float(now) + float(ttl_s),
        steps=steps,
        config=config,
        analyzer=analyzer,
    )


# --------------------------------------------------------------------------- frames


def add_frame(
    session: LivenessSession,
    frame: bytes | bytearray | memoryview | np.ndarray,
    client_ts: float,
    *,
    now: float,
) -> Progress:
    """Analyse one frame (JPEG/PNG bytes or an RGB array) and advance the session.

    ``client_ts`` is the client's capture time (s); ``now`` the server's time (s), which
    governs windows and expiry. Never raises: unusable input comes back as a
    :class:`Progress` with ``failed_reason`` (``corrupt_frame``, ``unsupported_frame``,
    ``bad_timestamp``, ``timestamp_not_increasing``, ``too_many_frames``,
    ``session_finished``, ``session_expired``, ``challenge_timeout``,
    ``model_unavailable``, ``analysis_error``) and guidance for the user.

    ``Progress.current`` is the challenge to perform after this frame; ``met`` is true
    when this frame completed a challenge (the last one in ``completed``).
    """
    try:
        return _add_frame(session, frame, client_ts, now)
    except Exception as exc:  # last resort: the engine must answer every frame
        log.exception("liveness add_frame failed")
        return _progress(session, guidance="please try again", failed_reason="analysis_error", detail=str(exc))


def _progress(
    session: LivenessSession,
    *,
    met: bool = False,
    guidance: str = "",
    expired: bool = False,
    failed_reason: str = "",
    detail: str = "",
) -> Progress:
    if failed_reason:
        session.rejected[failed_reason] = session.rejected.get(failed_reason, 0) + 1
        if detail:
            log.debug("frame refused (%s): %s", failed_reason, detail)
    colour = session.screen_colour
    session._light_told = session._light_pos if colour is not None else -1
    return Progress(
        session_id=session.session_id,
        current=session.current,
        step_index=session.step_index,
        met=met,
        completed=session.completed,
        guidance=guidance,
        expired=expired,
        failed_reason=failed_reason,
        screen_colour=colour,
    )


def _add_frame(
    session: LivenessSession, frame: bytes | bytearray | memoryview | np.ndarray, client_ts: float, now: float
) -> Progress:
    cfg = session.config
    if session.report is not None:
        return _progress(session, guidance="the session is over", failed_reason="session_finished")
    if now >= session.expires_at and not session.ended_reason:
        session.ended_reason = "session_expired"
    step = session._step
    if (
        not session.ended_reason
        and step is not None
        and session.current is not None
        and now - step.started_at > session.steps[session.step_index].window_s
    ):
        session.ended_reason = "challenge_timeout"
    if session.ended_reason:
        return _progress(
            session, guidance="time is up, please start again", expired=True, failed_reason=session.ended_reason
        )
    if len(session.analyses) >= cfg.max_frames:
        return _progress(session, guidance="too many frames, please finish", failed_reason="too_many_frames")
    try:
        ts = float(client_ts)
    except (TypeError, ValueError):
        ts = math.nan
    if not math.isfinite(ts):
        return _progress(session, guidance="please try again", failed_reason="bad_timestamp")

    raw: bytes | None = None
    try:
        if isinstance(frame, np.ndarray):
            rgb = as_rgb(frame)  # kept by reference: the caller must not modify it afterwards
        else:
            raw = bytes(frame)
            rgb = decode_frame(raw)
    except (CorruptImageError, NotAnImageError, EmptyImageError) as exc:
        return _progress(
            session, guidance="the frame could not be read", failed_reason="corrupt_frame", detail=str(exc)
        )
    except ImageError as exc:
        return _progress(
            session, guidance="unsupported camera frame", failed_reason="unsupported_frame", detail=str(exc)
        )
    longest = max(rgb.shape[:2])
    if longest > cfg.max_frame_side:
        s = cfg.max_frame_side / longest
        size = (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        raw = None  # keep the pixels that were analysed

    if session.analyzer is None:
        session.analyzer = FrameAnalyzer(config=cfg.frame)
    t0 = time.perf_counter()
    try:
        analysis = session.analyzer.analyse(rgb, ts)
    except OpenIDVError as exc:
        reason = "model_unavailable" if exc.code == "model_unavailable" else "analysis_error"
        return _progress(
            session, guidance="the service cannot analyse frames now", failed_reason=reason, detail=str(exc)
        )
    session.analyse_ms.append((time.perf_counter() - t0) * 1000.0)

    index = len(session.analyses)
    session.analyses.append(analysis)
    kept = compact_encoding(raw, rgb) if raw is not None else rgb
    session._stored.append(kept)
    session.stored_bytes += len(kept) if isinstance(kept, bytes) else kept.nbytes

    if ts <= session._last_ts:
        return _progress(session, guidance="please try again", failed_reason="timestamp_not_increasing")
    session._last_ts = ts

    measure = session.light_active or session._light_after
    if measure and analysis.landmarks is not None and analysis.face_found:
        face, surround = light_regions(rgb, analysis.landmarks)
        session.light_samples.append(LightSample(index, ts, session._light_told, face, surround))
    session._light_after = False

    met, instruction = _advance(session, analysis, rgb, index, now, ts)
    return _progress(session, met=met, guidance=_merge_guidance(session, analysis.guidance, instruction))


def _merge_guidance(session: LivenessSession, frame_guidance: str, instruction: str) -> str:
    """Frame guidance first, except what the current challenge itself causes."""
    current = session.current
    if frame_guidance in (GUIDANCE_CLOSER, GUIDANCE_BACK) and current is Challenge.MOVE_CLOSER:
        return instruction
    if frame_guidance == GUIDANCE_STILL and current in POSE_CHALLENGES:
        return instruction  # motion blur is expected while turning
    return frame_guidance or instruction


def _advance(
    session: LivenessSession, a: FrameAnalysis, rgb: np.ndarray, index: int, now: float, ts: float
) -> tuple[bool, str]:
    """Update the state machine with one analysed frame; return (challenge met, instruction)."""
    cfg = session.config
    usable = a.face_found and a.n_faces == 1 and a.landmarks is not None
    if not usable:
        if session._step is not None:
            session._step.hold = 0
        current = session.current
        return False, INSTRUCTIONS[current] if current is not None else INSTRUCTION_FRONTAL
    assert a.landmarks is not None
    lift = mouth_corner_lift(a.landmarks)
    b = session.baseline
    if b is None:
        session._ears_before_baseline.append(a.ear)
        typical = float(np.median(session._ears_before_baseline))
        open_eyes = a.ear >= max(cfg.min_open_ear, cfg.baseline_open_fraction * typical)
        if abs(a.yaw) <= cfg.baseline_max_deg and abs(a.pitch) <= cfg.baseline_max_deg and open_eyes:
            session._baseline_frames.append(a)
            session._recent_widths.append(a.face_width_frac)
            _pin_frontal(session, a, rgb, index)
            if len(session._baseline_frames) >= cfg.baseline_frames:
                fr = session._baseline_frames
                session.baseline = b = Baseline(
                    yaw=float(np.median([f.yaw for f in fr])),
                    pitch=float(np.median([f.pitch for f in fr])),
                    ear=float(np.median([f.ear for f in fr])),
                    smile=float(np.median([f.smile for f in fr])),
                    lift=float(np.median([mouth_corner_lift(f.landmarks) for f in fr if f.landmarks is not None])),
                    face_width_frac=float(np.median([f.face_width_frac for f in fr])),
                    n_frames=len(fr),
                )
                session._baseline_frames = []
                _start_step(session, now, ts, need_frontal=False)
                return False, INSTRUCTIONS[session.steps[0].challenge]
        return False, INSTRUCTION_FRONTAL

    dyaw, dpitch = a.yaw - b.yaw, a.pitch - b.pitch
    frontal = abs(dyaw) <= cfg.frontal_deg and abs(dpitch) <= cfg.frontal_deg
    near_frontal = abs(dyaw) <= cfg.expression_max_deg and abs(dpitch) <= cfg.expression_max_deg
    ear_ratio = a.ear / b.ear if b.ear > 0 else 1.0
    smile_r = a.smile / b.smile if b.smile > 0 else 1.0
    smiling = near_frontal and (
        smile_r >= cfg.smile_ratio or (smile_r >= cfg.smile_lift_ratio and lift - b.lift >= cfg.smile_lift)
    )
    if frontal:
        session._recent_widths.append(a.face_width_frac)
    _pin_frontal(session, a, rgb, index)

    current = session.current
    seen = {
        Challenge.TURN_LEFT: dyaw >= cfg.yaw_deg,
        Challenge.TURN_RIGHT: dyaw <= -cfg.yaw_deg,
        Challenge.LOOK_UP: dpitch >= cfg.pitch_up_deg and abs(dyaw) < cfg.yaw_deg,
        Challenge.BLINK: near_frontal and ear_ratio < cfg.blink_closed_ratio,
        Challenge.SMILE: smiling,
    }
    for ch, on in seen.items():
        if on and ch is not current:
            session.off_challenge[ch.value] = session.off_challenge.get(ch.value, 0) + 1
    st = session._step
    if current is None or st is None:
        return False, INSTRUCTION_DONE if session.step_index >= len(session.steps) else INSTRUCTION_FRONTAL
    if current is Challenge.SCREEN_LIGHT:
        # a frame counts for the colour that was requested before it (sent with the last Progress)
        if session._light_told == session._light_pos:
            session._light_count += 1
            if session._light_count >= cfg.light_frames_per_colour:
                session._light_pos += 1
                session._light_count = 0
        if session._light_pos < len(session.light_colours):
            return False, INSTRUCTIONS[current]
        session._light_after = True
        return _step_met(session, st, current, now, ts)
    if st.need_frontal:
        if not frontal:
            return False, INSTRUCTION_FRONTAL
        st.need_frontal = False
        st.ref_width = float(np.median(session._recent_widths)) if session._recent_widths else a.face_width_frac

    met = False
    if current is Challenge.BLINK:
        if near_frontal:
            # Closed and open again are judged against the eyes just before the blink (median of the
            # last 3 near-frontal open frames of this step), not the session baseline: after a head
            # turn the mesh can read a narrow eye's open aperture ~0.75 of baseline for a while.
            ref = float(np.median(st.open_ears)) if len(st.open_ears) >= 2 else b.ear
            local = a.ear / ref if ref > 0 else 1.0
            if local < cfg.blink_closed_ratio:
                if a.ear < st.closed_ear:
                    st.closed_ear, st.closed_ts = a.ear, ts
            elif st.closed_ts is not None and local >= cfg.blink_open_ratio:
                met = True
            elif st.closed_ts is None:
                st.open_ears.append(a.ear)
    else:
        if current is Challenge.MOVE_CLOSER:
            on = near_frontal and a.face_width_frac >= cfg.closer_ratio * st.ref_width
        else:
            on = seen[current]
        st.hold = st.hold + 1 if on else 0
        met = st.hold >= cfg.hold_frames
    if not met:
        return False, INSTRUCTIONS[current]
    return _step_met(session, st, current, now, ts)


def _step_met(session: LivenessSession, st: _StepState, current: Challenge, now: float, ts: float) -> tuple[bool, str]:
    i = session.step_index
    # a blink is confirmed when the eyes reopen, but it happened at the most closed frame
    met_at = st.closed_ts if current is Challenge.BLINK and st.closed_ts is not None else ts
    session.steps[i] = replace(session.steps[i], met_at=met_at)
    session.step_index += 1
    if session.step_index < len(session.steps):
        _start_step(session, now, ts, need_frontal=True)
        return True, INSTRUCTION_FRONTAL
    session._step = None
    return True, INSTRUCTION_DONE


def _start_step(session: LivenessSession, now: float, ts: float, *, need_frontal: bool) -> None:
    widths = session._recent_widths
    ref = float(np.median(widths)) if widths else (session.baseline.face_width_frac if session.baseline else 0.0)
    session._step = _StepState(started_at=now, started_ts=ts, need_frontal=need_frontal, ref_width=ref)


def _pin_frontal(session: LivenessSession, a: FrameAnalysis, rgb: np.ndarray, index: int) -> None:
    """Keep the first and last frontal frames and the sharpest frontal frame (the selfie)."""
    cfg = session.config
    b = session.baseline
    yaw0, pitch0 = (b.yaw, b.pitch) if b is not None else (0.0, 0.0)
    max_deg = cfg.selfie_max_deg if b is not None else cfg.baseline_max_deg
    if abs(a.yaw - yaw0) > max_deg or abs(a.pitch - pitch0) > max_deg:
        return
    if b is not None and a.ear < cfg.selfie_min_ear_ratio * b.ear:
        return
    fc = cfg.frame
    if not fc.min_brightness <= a.brightness <= fc.max_brightness:
        return
    pinned = _Pinned(index, rgb, a.sharpness)
    if session._first_frontal is None:
        session._first_frontal = pinned
    session._last_frontal = pinned
    if session._selfie is None or a.sharpness > session._selfie.score:
        session._selfie = pinned


# --------------------------------------------------------------------------- finish


def decide(checks: list[CheckResult]) -> tuple[Decision, float]:
    """The session decision and score from its checks (see the module docstring).

    Checks whose severity is ``advisory`` are ignored. Any mandatory fail -> not_live;
    every mandatory check passes -> live; otherwise (or no mandatory check) inconclusive.
    The score is the lowest score among the mandatory checks (0 when none has one).
    """
    mandatory = [c for c in checks if severity_of(c.name, c.reason) is not Severity.ADVISORY]
    scores = [float(c.score) for c in mandatory if c.score is not None]
    score = float(np.clip(min(scores), 0.0, 1.0)) if scores else 0.0
    if any(c.status is Status.FAIL for c in mandatory):
        return Decision.NOT_LIVE, score
    if mandatory and all(c.status is Status.PASS for c in mandatory):
        return Decision.LIVE, score
    return Decision.INCONCLUSIVE, score


def evidence_frames(session: LivenessSession, limit: int = 6) -> list[tuple[int, float, bytes | np.ndarray]]:
    """Frames worth keeping for a human reviewer: the first one with a face, then the frame at
    which each challenge was met, then evenly spaced others, up to ``limit``.

    Returns ``(index, client timestamp s, frame)`` with the frame as it came (JPEG bytes or
    an RGB array). Call before :func:`finish`, which releases the pixels.
    """
    n = len(session._stored)
    if n == 0 or limit <= 0:
        return []
    chosen: list[int] = []
    first = next((i for i, a in enumerate(session.analyses) if a.face_found), 0)
    chosen.append(first)
    by_ts = {a.timestamp: i for i, a in enumerate(session.analyses)}
    for step in session.steps:
        if step.met_at is not None and (i := by_ts.get(step.met_at)) is not None and i not in chosen:
            chosen.append(i)
    for i in np.linspace(0, n - 1, num=limit).round().astype(int).tolist():
        if len(chosen) >= limit:
            break
        if i not in chosen:
            chosen.append(i)
    chosen = sorted(chosen[:limit])
    return [(i, session.analyses[i].timestamp, session._stored[i]) for i in chosen]


def finish(session: LivenessSession, *, now: float) -> LivenessReport:
    """Close the session and decide. Never raises; calling it again returns the same report."""
    if session.report is not None:
        return session.report
    t0 = time.perf_counter()
    try:
        report = _finish(session, now)
    except Exception as exc:  # last resort: the engine must always answer
        log.exception("liveness finish failed")
        check = CheckResult("liveness_engine", Status.INCONCLUSIVE, "internal_error", detail=str(exc))
        report = LivenessReport(session.session_id, Decision.INCONCLUSIVE, 0.0, [check], n_frames=len(session.analyses))
    finally:
        session.close()
    report.timings_ms["finish"] = (time.perf_counter() - t0) * 1000.0
    session.report = report
    session._stored = []  # the pixels are no longer needed
    session.stored_bytes = 0
    return report


def _finish(session: LivenessSession, now: float) -> LivenessReport:
    timings: dict[str, float] = {}
    if session.analyse_ms:
        ms = np.asarray(session.analyse_ms)
        timings.update(
            analyse_median=float(np.median(ms)), analyse_p95=float(np.percentile(ms, 95)), analyse_max=float(ms.max())
        )
    checks = [_check_challenges(session, now), _check_single_face(session)]
    t = time.perf_counter()
    checks.append(_check_same_person(session))
    timings["same_person"] = (time.perf_counter() - t) * 1000.0
    checks.append(_check_quality(session))
    t = time.perf_counter()
    checks.extend(_pad_checks(session))
    timings["presentation_attack"] = (time.perf_counter() - t) * 1000.0
    decision, score = decide(checks)
    selfie = session._selfie
    return LivenessReport(
        session_id=session.session_id,
        decision=decision,
        score=score,
        checks=checks,
        selfie=None if selfie is None else selfie.rgb,
        selfie_index=None if selfie is None else selfie.index,
        timings_ms=timings,
        n_frames=len(session.analyses),
    )


def _check_challenges(session: LivenessSession, now: float) -> CheckResult:
    steps = session.steps
    n_met = sum(1 for s in steps if s.met_at is not None)
    data: dict[str, object] = {
        "issued": [s.challenge.value for s in steps],
        "met_at": [s.met_at for s in steps],
        "off_challenge_frames": dict(session.off_challenge),
        "refused_frames": dict(session.rejected),
    }
    score = n_met / len(steps) if steps else 0.0
    if steps and n_met == len(steps):
        return CheckResult(
            CHECK_CHALLENGES,
            Status.PASS,
            "all_met",
            score,
            f"{n_met} challenges met in order within their windows",
            data,
        )
    if not any(a.face_found for a in session.analyses):
        return CheckResult(CHECK_CHALLENGES, Status.INCONCLUSIVE, "no_face", None, "no face was seen", data)
    if session.ended_reason == "challenge_timeout" or (
        session._step is not None
        and session.current is not None
        and now - session._step.started_at > session.config.window_s
    ):
        reason = "challenge_timeout"
    elif session.ended_reason == "session_expired" or now >= session.expires_at:
        reason = "session_expired"
    else:
        reason = "incomplete"
    pending = session.current.value if session.current is not None else steps[n_met].challenge.value
    detail = f"{n_met} of {len(steps)} challenges met; '{pending}' was not"
    if session.baseline is None:
        detail = "no steady frontal face to start from; no challenge met"
    return CheckResult(CHECK_CHALLENGES, Status.FAIL, reason, score, detail, data)


def _check_single_face(session: LivenessSession) -> CheckResult:
    """Fail when another face of about the user's size shows in several frames (another person, or a
    life-size face shown); inconclusive when only clearly smaller ones do (``FrameAnalysis.n_smaller_faces``:
    a bystander behind the user looks the same as a small face held up, so a reviewer decides)."""
    with_face = [a for a in session.analyses if a.face_found]
    multi = sum(1 for a in with_face if a.n_faces > 1)
    smaller = sum(1 for a in with_face if a.n_faces == 1 and a.n_smaller_faces > 0)
    data = {
        "frames_with_face": len(with_face),
        "frames_with_several_faces": multi,
        "frames_with_smaller_faces": smaller,
        "frames": len(session.analyses),
    }
    if not with_face:
        return CheckResult(CHECK_SINGLE_FACE, Status.INCONCLUSIVE, "no_face", None, "no face was seen", data)
    score = 1.0 - multi / len(with_face)
    limit = session.config.max_multi_face_frames
    if multi > limit:
        detail = f"{multi} frames show more than one face"
        return CheckResult(CHECK_SINGLE_FACE, Status.FAIL, "multiple_faces", score, detail, data)
    if multi + smaller > limit:
        detail = f"{smaller} frames show a smaller face beside or behind the user's"
        return CheckResult(CHECK_SINGLE_FACE, Status.INCONCLUSIVE, "smaller_face", score, detail, data)
    return CheckResult(CHECK_SINGLE_FACE, Status.PASS, "one_face", score, "one face throughout", data)


def _check_same_person(session: LivenessSession) -> CheckResult:
    """Face-match distance between the first and last frontal frames and the selfie."""
    from openidv.face.detection import detect
    from openidv.face.embedding import embed
    from openidv.face.operating_points import SCORE_SCALE, threshold_for

    frames: dict[int, np.ndarray] = {}
    for p in (session._first_frontal, session._selfie, session._last_frontal):
        if p is not None:
            frames.setdefault(p.index, p.rgb)
    if len(frames) < 2:
        detail = "fewer than two distinct frontal frames to compare"
        return CheckResult(CHECK_SAME_PERSON, Status.INCONCLUSIVE, "too_few_frames", None, detail)
    threshold = threshold_for(session.config.operating_point).distance
    vectors: dict[int, np.ndarray] = {}
    try:
        for index, rgb in frames.items():
            faces = detect(rgb)
            if faces:
                vectors[index] = embed(rgb, faces[0], mirror=False).vector
    except OpenIDVError as exc:
        return CheckResult(CHECK_SAME_PERSON, Status.INCONCLUSIVE, exc.code, None, exc.message)
    if len(vectors) < 2:
        detail = "the face detector found no face in the frontal frames"
        return CheckResult(CHECK_SAME_PERSON, Status.INCONCLUSIVE, "face_not_detected", None, detail)
    keys = sorted(vectors)
    dists = [float(np.linalg.norm(vectors[i] - vectors[j])) for n, i in enumerate(keys) for j in keys[n + 1 :]]
    worst = max(dists)
    score = 1.0 / (1.0 + math.exp((worst - threshold) / SCORE_SCALE))
    data = {"frames": keys, "max_distance": round(worst, 4), "threshold": threshold}
    if worst <= threshold:
        detail = f"largest descriptor distance {worst:.3f} <= {threshold}"
        return CheckResult(CHECK_SAME_PERSON, Status.PASS, "same_person", score, detail, data)
    detail = f"largest descriptor distance {worst:.3f} > {threshold}: the face changed during the session"
    return CheckResult(CHECK_SAME_PERSON, Status.FAIL, "different_person", score, detail, data)


def _check_quality(session: LivenessSession) -> CheckResult:
    fc = session.config.frame
    frames = session.analyses
    good = [
        a
        for a in frames
        if a.face_found
        and a.n_faces == 1
        and fc.min_brightness <= a.brightness <= fc.max_brightness
        and a.sharpness >= fc.min_sharpness
    ]
    score = len(good) / len(frames) if frames else 0.0
    data: dict[str, object] = {"usable_frames": len(good), "frames": len(frames)}
    selfie = session._selfie
    if selfie is None:
        return CheckResult(CHECK_QUALITY, Status.INCONCLUSIVE, "no_selfie", score, "no usable frontal frame", data)
    a = frames[selfie.index]
    data.update(selfie_sharpness=round(a.sharpness, 1), selfie_brightness=round(a.brightness, 1))
    problems = []
    if a.sharpness < fc.min_sharpness:
        problems.append(f"blurred (sharpness {a.sharpness:.1f} < {fc.min_sharpness})")
    if a.face_width_frac < session.config.min_selfie_face_frac:
        problems.append(f"face too small ({a.face_width_frac:.2f} of the frame width)")
    if problems:
        return CheckResult(
            CHECK_QUALITY, Status.INCONCLUSIVE, "low_quality", score, "selfie " + ", ".join(problems), data
        )
    return CheckResult(CHECK_QUALITY, Status.PASS, "good_quality", score, "sharp, well-exposed frontal selfie", data)


class FrameSequence(Sequence[np.ndarray]):
    """The session's frames, decoded on access (JPEG bytes) with a small cache; slices stay lazy."""

    def __init__(self, items: list[bytes | np.ndarray], cache_size: int = 8) -> None:
        self._items = items
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...

    @overload
    def __getitem__(self, index: slice) -> FrameSequence: ...

    def __getitem__(self, index: int | slice) -> np.ndarray | FrameSequence:
        if isinstance(index, slice):
            return FrameSequence(self._items[index], self._cache_size)
        i = range(len(self._items))[index]  # IndexError as for a list
        item = self._items[i]
        if isinstance(item, np.ndarray):
            return item
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        rgb = decode_frame(item)  # decoded once already when the frame arrived
        self._cache[i] = rgb
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return rgb


def _pad_checks(session: LivenessSession) -> list[CheckResult]:
    """The presentation-attack checks over the kept frames (openidv.liveness.pad)."""
    try:
        from openidv.liveness.pad import sequence_checks
    except ImportError as exc:
        detail = f"the presentation-attack checks are not available: {exc}"
        return [CheckResult(CHECK_PAD, Status.INCONCLUSIVE, "not_available", None, detail)]
    if not session.analyses:
        return [CheckResult(CHECK_PAD, Status.INCONCLUSIVE, "no_frames", None, "no frame to examine")]
    frames = FrameSequence(session._stored)
    try:
        # the checks index and slice ``frames`` like a list; FrameSequence decodes lazily
        results = list(
            sequence_checks(
                cast(list[np.ndarray], frames),
                list(session.analyses),
                list(session.steps),
                nonce=session.nonce,
                light=session.light_record(),
            )
        )
    except Exception as exc:  # a failing check module must not take the report down
        log.exception("presentation-attack checks failed")
        return [CheckResult(CHECK_PAD, Status.INCONCLUSIVE, "check_error", None, f"{type(exc).__name__}: {exc}")]
    if not results:
        return [CheckResult(CHECK_PAD, Status.INCONCLUSIVE, "not_available", None, "no presentation-attack check ran")]
    return results
