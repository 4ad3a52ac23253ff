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

Modules: :mod:`~openidv.liveness.session.config` (parameters, instructions),
:mod:`~openidv.liveness.session.state` (the session object and its step transitions),
:mod:`~openidv.liveness.session.start`, :mod:`~openidv.liveness.session.machine` (``add_frame``:
reads each frame and hands it to the current step), one module per step kind
(:mod:`~openidv.liveness.session.baseline`, :mod:`~openidv.liveness.session.light`,
:mod:`~openidv.liveness.session.blink`, :mod:`~openidv.liveness.session.hold`; the frame's pose
against the baseline in :mod:`~openidv.liveness.session.pose`), and
:mod:`~openidv.liveness.session.finish` with the session's own checks
(:mod:`~openidv.liveness.session.checks`) and the lazy frame sequence
(:mod:`~openidv.liveness.session.frames`).
"""

from openidv.liveness.session.config import (
    CHECK_CHALLENGES,
    CHECK_PAD,
    CHECK_QUALITY,
    CHECK_SAME_PERSON,
    CHECK_SINGLE_FACE,
    DEFAULT_SESSION_CONFIG,
    EXPRESSIONS,
    HEAD_TURNS,
    INSTRUCTION_DONE,
    INSTRUCTION_FRONTAL,
    INSTRUCTIONS,
    LIGHT_PALETTE,
    POSE_CHALLENGES,
    SessionConfig,
)
from openidv.liveness.session.finish import decide, evidence_frames, finish
from openidv.liveness.session.frames import FrameSequence
from openidv.liveness.session.machine import add_frame
from openidv.liveness.session.start import draw_challenges, draw_colours, start_session
from openidv.liveness.session.state import Baseline, LivenessSession

__all__ = [
    "CHECK_CHALLENGES",
    "CHECK_PAD",
    "CHECK_QUALITY",
    "CHECK_SAME_PERSON",
    "CHECK_SINGLE_FACE",
    "DEFAULT_SESSION_CONFIG",
    "EXPRESSIONS",
    "HEAD_TURNS",
    "INSTRUCTIONS",
    "INSTRUCTION_DONE",
    "INSTRUCTION_FRONTAL",
    "LIGHT_PALETTE",
    "POSE_CHALLENGES",
    "Baseline",
    "FrameSequence",
    "LivenessSession",
    "SessionConfig",
    "add_frame",
    "decide",
    "draw_challenges",
    "draw_colours",
    "evidence_frames",
    "finish",
    "start_session",
]
