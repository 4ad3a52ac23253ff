"""The session's state (:class:`LivenessSession`) and the transitions between its steps."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from openidv.liveness.frame import FrameAnalyzer
from openidv.liveness.session.config import (
    DEFAULT_SESSION_CONFIG,
    INSTRUCTION_DONE,
    INSTRUCTION_FRONTAL,
    SessionConfig,
)
from openidv.liveness.types import Challenge, ChallengeStep, FrameAnalysis, LightRecord, LightSample, LivenessReport


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
class StepState:
    """The current step's progress (times in seconds; widths as fractions of the frame width)."""

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
class PinnedFrame:
    """A decoded frame kept for ``finish`` (first and last frontal frame, the selfie) and its sharpness."""

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
    _step: StepState | None = field(default=None, repr=False)
    _baseline_frames: list[FrameAnalysis] = field(default_factory=list, repr=False)
    _ears_before_baseline: deque[float] = field(default_factory=lambda: deque(maxlen=15), repr=False)
    _recent_widths: deque[float] = field(default_factory=lambda: deque(maxlen=5), repr=False)
    _stored: list[bytes | np.ndarray] = field(default_factory=list, repr=False)  #: parallel to ``analyses``
    stored_bytes: int = 0  #: bytes held by ``_stored`` (encoded frames and arrays)
    _last_ts: float = -math.inf
    _first_frontal: PinnedFrame | None = field(default=None, repr=False)
    _last_frontal: PinnedFrame | None = field(default=None, repr=False)
    _selfie: PinnedFrame | None = field(default=None, repr=False)
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


def step_met(session: LivenessSession, st: StepState, current: Challenge, now: float, ts: float) -> tuple[bool, str]:
    """Record the current step as met (client time ``ts`` s; a blink at its most closed frame) and make
    the next one current (server time ``now`` s). Returns (True, the instruction to show)."""
    i = session.step_index
    # a blink is confirmed when the eyes reopen, but it happened at the most closed frame
    met_at = st.closed_ts if current is Challenge.BLINK and st.closed_ts is not None else ts
    session.steps[i] = replace(session.steps[i], met_at=met_at)
    session.step_index += 1
    if session.step_index < len(session.steps):
        start_step(session, now, ts, need_frontal=True)
        return True, INSTRUCTION_FRONTAL
    session._step = None
    return True, INSTRUCTION_DONE


def start_step(session: LivenessSession, now: float, ts: float, *, need_frontal: bool) -> None:
    """Make the step at ``session.step_index`` current from server time ``now`` (its window starts) and
    client time ``ts`` (s); ``need_frontal``: the head must come back to frontal before it counts."""
    widths = session._recent_widths
    ref = float(np.median(widths)) if widths else (session.baseline.face_width_frac if session.baseline else 0.0)
    session._step = StepState(started_at=now, started_ts=ts, need_frontal=need_frontal, ref_width=ref)
