"""Starting a session: its id and nonce, the random challenges and the screen-light colours."""

from __future__ import annotations

import base64
import random
import secrets
from collections.abc import Sequence

import numpy as np

from openidv.liveness.frame import FrameAnalyzer
from openidv.liveness.pad.screen_light import hex_rgb
from openidv.liveness.session.config import (
    DEFAULT_SESSION_CONFIG,
    EXPRESSIONS,
    HEAD_TURNS,
    LIGHT_PALETTE,
    SessionConfig,
)
from openidv.liveness.session.state import LivenessSession
from openidv.liveness.types import DRAWABLE_CHALLENGES, Challenge, ChallengeStep


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
