"""Blink and smile performed when requested: a photo cannot close its eyes or widen its mouth."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.pad.common import check_result, step_windows, usable_indices
from openidv.liveness.types import Challenge, ChallengeStep, FrameAnalysis

#: Relative EAR dip for a blink (EAR < (1 - BLINK_DIP) x open EAR) and recovery level.
BLINK_DIP = 0.35
BLINK_RECOVER = 0.85
#: Relative mouth-width increase that counts as a smile.
SMILE_GAIN = 0.08
#: Frames within this many degrees (yaw and pitch) of the neutral pose give the open-eye
#: and resting-mouth references of the blink/smile check.
FRONTAL_DEG = 10.0
#: The first frames with a face, whose median pose is the session's neutral (frontal) pose.
NEUTRAL_FRAMES = 5


def blink_smile_performed(analyses: Sequence[FrameAnalysis], steps: Sequence[ChallengeStep]) -> CheckResult:
    """Blink and smile performed when requested.

    Physics: a printed photo or a still image cannot close its eyes or widen its mouth.
    A blink is an eye-aspect-ratio (EAR) dip below ``(1 - BLINK_DIP)`` of the open-eye EAR
    (the 75th percentile over the near-frontal frames, within :data:`FRONTAL_DEG` of the
    neutral pose of the first :data:`NEUTRAL_FRAMES` frames: turned frames read a higher EAR)
    within the step's time window, followed by a recovery above ``BLINK_RECOVER`` of it
    within 1.5 s; a smile is a mouth width / inter-ocular distance ratio at least
    ``SMILE_GAIN`` above the 25th percentile of the near-frontal frames within the window.
    ``not_requested`` (inconclusive) when neither was issued.
    """
    name = "blink_smile"
    wanted = [s for s in steps if s.challenge in (Challenge.BLINK, Challenge.SMILE)]
    if not wanted:
        return check_result(name, Status.INCONCLUSIVE, "not_requested", None, "no blink or smile was requested")
    idx = usable_indices(analyses)
    if len(idx) < 5:
        return check_result(name, Status.INCONCLUSIVE, "no_face_track", None, "too few frames with a face")
    ts = np.array([analyses[i].timestamp for i in idx])
    ear = np.array([analyses[i].ear for i in idx])
    smile = np.array([analyses[i].smile for i in idx])
    # references from near-frontal frames only: a turned head foreshortens the eye's width, which
    # raises its EAR by 15-30 %, and a 75th percentile over a session with long turns would then
    # stand for a turned open eye, above what the frontal eye ever reaches when it reopens
    yaw = np.array([analyses[i].yaw for i in idx])
    pitch = np.array([analyses[i].pitch for i in idx])
    # the neutral pose: the session's first frames (the protocol takes its frontal baseline there)
    yaw0, pitch0 = float(np.median(yaw[:NEUTRAL_FRAMES])), float(np.median(pitch[:NEUTRAL_FRAMES]))
    frontal = (np.abs(yaw - yaw0) <= FRONTAL_DEG) & (np.abs(pitch - pitch0) <= FRONTAL_DEG)
    ref = frontal if frontal.sum() >= 3 else np.ones(len(idx), bool)
    ear_open = float(np.percentile(ear[ref], 75))
    smile_rest = float(np.percentile(smile[ref], 25))
    results: dict[str, bool] = {}
    for step, start, end in step_windows(steps, float(ts[0])):
        if step.challenge not in (Challenge.BLINK, Challenge.SMILE):
            continue
        inside = (ts >= start - 1e-6) & (ts <= end + 0.25)
        key = f"{step.challenge.value}_{len(results)}"
        if step.challenge is Challenge.BLINK:
            ok = False
            for j in np.flatnonzero(inside & (ear < (1 - BLINK_DIP) * ear_open)):
                after = (ts > ts[j]) & (ts <= ts[j] + 1.5)
                if np.any(ear[after] > BLINK_RECOVER * ear_open):
                    ok = True
                    break
        else:
            ok = bool(np.any(smile[inside] > smile_rest * (1 + SMILE_GAIN)))
        results[key] = ok
    done = sum(results.values())
    score = done / len(results)
    data = {"performed": results, "ear_open": ear_open, "smile_rest": smile_rest}
    if done < len(results):
        missing = [k.rsplit("_", 1)[0] for k, v in results.items() if not v]
        return check_result(
            name, Status.FAIL, f"{missing[0]}_not_performed", score, "requested action not seen", **data
        )
    return check_result(name, Status.PASS, "performed", score, "requested blink/smile seen in its window", **data)
