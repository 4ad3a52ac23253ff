"""All presentation-attack and injection checks over one session (what the session's ``finish()`` calls)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.pad.blink_smile import blink_smile_performed
from openidv.liveness.pad.common import check_result
from openidv.liveness.pad.image_cues import collect_image_cues
from openidv.liveness.pad.injection import injection_replay
from openidv.liveness.pad.planarity import planarity
from openidv.liveness.pad.print_attack import print_attack
from openidv.liveness.pad.rppg import rppg
from openidv.liveness.pad.screen_light import screen_light_response
from openidv.liveness.pad.screen_replay import screen_replay
from openidv.liveness.types import ChallengeStep, FrameAnalysis, LightRecord

_CheckFn = Callable[[], CheckResult]


def sequence_checks(
    frames: list[np.ndarray],
    analyses: list[FrameAnalysis],
    steps: list[ChallengeStep],
    *,
    nonce: str,
    timeline: list[FrameAnalysis] | None = None,
    light: LightRecord | None = None,
) -> list[CheckResult]:
    """Run every presentation-attack and injection check over one session.

    ``frames`` are the session's RGB frames in order, ``analyses`` the matching
    :class:`FrameAnalysis`, ``steps`` the issued challenges with the client time each
    was met (or None), ``nonce`` the session nonce. ``timeline``, when the session kept
    the pixels of only some frames, is the analysis of *every* frame received, in order:
    the timing, duplicate, challenge and blink/smile checks then use it (a thinned
    sequence would hide duplicated frames and short blinks). A check that raises on
    malformed input becomes ``inconclusive`` with reason ``check_error``. ``light``, for a
    session started with the screen-light step, adds :func:`screen_light_response`
    (mandatory); without it that check is absent.
    """
    full = list(timeline) if timeline is not None and len(timeline) >= len(analyses) else list(analyses)
    pixels_for_all = len(full) == len(frames)
    cue_cache: dict[str, dict[str, list[float]]] = {}

    def cues() -> dict[str, list[float]]:
        if "c" not in cue_cache:
            cue_cache["c"] = collect_image_cues(frames, analyses)
        return cue_cache["c"]

    checks: list[tuple[str, _CheckFn]] = [
        ("planarity", lambda: planarity(full, frames if pixels_for_all else None)),
        ("blink_smile", lambda: blink_smile_performed(full, steps)),
        ("screen_replay", lambda: screen_replay(frames, analyses, cues=cues())),
        ("print_attack", lambda: print_attack(frames, analyses, cues=cues())),
        ("rppg", lambda: rppg(frames, analyses)),
        (
            "injection_replay",
            lambda: injection_replay(
                frames if pixels_for_all else [], full, steps, nonce=nonce, frozen_from=(frames, analyses)
            ),
        ),
    ]
    if light is not None:
        record = light
        checks.append(("screen_light_response", lambda: screen_light_response(record)))
    out = []
    for name, fn in checks:
        try:
            out.append(fn())
        except (ValueError, TypeError, IndexError, cv2.error, np.linalg.LinAlgError, FloatingPointError) as exc:
            out.append(check_result(name, Status.INCONCLUSIVE, "check_error", None, f"{type(exc).__name__}: {exc}"))
    return out
