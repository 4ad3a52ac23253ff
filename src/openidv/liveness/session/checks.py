"""The session's own checks at ``finish``: challenges completed, one face, the same person, frame quality."""

from __future__ import annotations

import math

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.errors import OpenIDVError
from openidv.liveness.session.config import CHECK_CHALLENGES, CHECK_QUALITY, CHECK_SAME_PERSON, CHECK_SINGLE_FACE
from openidv.liveness.session.state import LivenessSession


def check_challenges(session: LivenessSession, now: float) -> CheckResult:
    """Every issued challenge met, in order, within its window (server time ``now`` s decides a pending
    step's timeout or the session's expiry)."""
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


def check_single_face(session: LivenessSession) -> CheckResult:
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


def check_same_person(session: LivenessSession) -> CheckResult:
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


def check_quality(session: LivenessSession) -> CheckResult:
    """Usable frames and a sharp, large enough frontal selfie; never fails (inconclusive at worst)."""
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
