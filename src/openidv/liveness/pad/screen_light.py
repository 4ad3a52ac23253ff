"""Active illumination: does the face reflect the colours the capture page flashed, and only the face?

Physics. The user's display lights the face with E = L x A x fill / d^2: a phone
(400-800 nits, 0.007 m^2, 70 % of it coloured, 25-35 cm) gives ~16-63 lux, a laptop
(250-400 nits, 0.05 m^2, 40-60 cm) ~24-88 lux, i.e. ~10-100 % of the face's radiance
in a room of 80-500 lux, and only ~1-9 % above 1000 lux (a window in daylight), in the
displayed colour (:mod:`openidv.synth.liveness` states the distributions simulated).
The face-local response measured is ~0.5-0.6 x that ratio (the boxes sit where the
face turns partly away from the screen; the camera's gains take a little back).
Skin is close to Lambertian,
so the relative change of each colour channel, (E_screen,c / E_room,c) x cos(angle to
the screen), does not depend on the skin's colour: we measure relative changes (logs of
linear light). The background, 1-3 m away, gets (d_face / d_bg)^2 of it (inverse
square): almost nothing. A screen replay shows a face recorded earlier whose light
does not follow the colours; only the replay screen's glass reflects a little of the
flashing display (a specular patch of 0.5-4 % where the mirror geometry puts it, or a
weak uniform veil from a matte screen), and it falls on the shown face and the shown
surroundings alike because they lie on one plane. A recording injected instead of the
camera does not respond at all; a recording of another session responds to that
session's colours, which do not correlate with these.

Camera gains (auto white balance, auto exposure) multiply the whole frame per channel:
in logs they add the same term to face and surround, so the face-local response is the
slope of log(face) - log(surround) against the issued colour (each channel on or off),
pooled over channels, per channel intercepts. ``colour`` of a sample is the colour the
client was asked to show before that frame; a slow camera shows it one frame late, so
lag 0 and lag 1 are both fitted and the one with the more significant response (of the
face-local or of the face as seen, gains included) is kept.

Evidence, not amplitude. The response is fitted after removing each channel's level and
slow drift (linear + quadratic in time: the head settling, exposure creeping) and each
frame's term common to the three channels (the head's small movements brighten or darken
all channels alike; the saturated colours do not), the channels pooled with
inverse-variance weights (:func:`pooled_fit`); its significance is
``t = slope / standard error``. A channel is measured only where it neither clips on the
face nor sinks into black in the surround (:data:`LIGHT_CLIP_LEVEL`,
:data:`LIGHT_DARK_LEVEL`). A live face in an ordinary room answers with t ~ 15-300; in a
bright room the response shrinks towards the noise and only significance can tell it
from nothing.

:func:`screen_light_response` decides from the fit; the fit itself is in
:mod:`openidv.liveness.pad.light_fit`.
"""

from __future__ import annotations

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.pad.common import check_result, sigmoid
from openidv.liveness.pad.light_fit import linear_log, pooled_fit
from openidv.liveness.types import LightRecord, LightSample

NAME = "screen_light_response"

#: Amplitude floor of a pass: face-local response (relative radiance change per unit of a display
#: primary, linear light, face over surround). Physical reason: a flat screen's matte veil (0.05-0.3 %
#: of the capture display's white, added in linear light) raises a dark shown face (linear level
#: ~0.1) by up to ~3 % but its brighter shown surroundings less, leaving up to ~1 % "face-local"
#: that the shared-surround test cannot see when the surround is 3-4 x brighter; a live face lit by
#: a phone at arm's length (16-63 lux) in a room up to ~1500 lux answers with >= ~0.6 %. Above the
#: floor a pass needs significance, not amplitude: :data:`LIGHT_MIN_T`.
LIGHT_PASS = 0.01
#: Below this the response is absent (a face in any room lit by a screen at arm's length answers more).
LIGHT_NONE = 0.004
#: Significance of the response: slope / standard error (nuisance: per-channel level and slow drift).
LIGHT_MIN_T = 5.0
#: Pooled correlation between the face-local log response and the issued colours needed to pass.
LIGHT_MIN_CORR = 0.5
#: A face region "responds" when its own face-local response is at least this fraction of the face's.
LIGHT_REGION_FRACTION = 0.35
#: Fraction of the face regions that must respond (the light reaches the whole face, not a glare patch).
LIGHT_FACE_WIDE = 0.6
#: The surround's raw (gain-affected) response above this fraction of the face's raw response is shared.
LIGHT_SHARED_RATIO = 0.5
#: Samples needed at the chosen lag, and the fraction of issued colours they must cover.
LIGHT_MIN_SAMPLES = 8
LIGHT_MIN_COVER = 0.6
#: A colour channel is measured only between these encoded levels (0-255): above, a face region
#: clips when the screen adds light (a bright red cheek); below, the surround's mean is a few
#: grey levels whose logarithm is mostly quantisation noise (a saturated blue background).
LIGHT_CLIP_LEVEL = 245.0
LIGHT_DARK_LEVEL = 8.0


def hex_rgb(colour: str) -> np.ndarray:
    """ "#rrggbb" -> RGB drive in [0, 1] (float64, (3,))."""
    c = colour.lstrip("#")
    return np.array([int(c[i : i + 2], 16) / 255.0 for i in (0, 2, 4)], dtype=np.float64)


def screen_light_response(light: LightRecord) -> CheckResult:
    """Does the face reflect the colours the capture page flashed, and only the face?

    The physics and the fit are in the module's docstring (:mod:`openidv.liveness.pad.screen_light`).

    Decision (measurements in ``data``):

    * ``light_response_ok`` (pass): face-local response >= :data:`LIGHT_PASS` (the
      physical floor, see there), t >= :data:`LIGHT_MIN_T`, correlation >=
      :data:`LIGHT_MIN_CORR`, the channels agree (none responds significantly negatively,
      at least two of the measurable ones positively), at least :data:`LIGHT_FACE_WIDE` of
      the face regions respond, and the surround's raw response is below
      :data:`LIGHT_SHARED_RATIO` of the face's;
    * ``light_response_not_face_local`` (fail): a significant response that tracks the
      colours but is confined to a patch of the face (glare) or shared by the surround
      (reflection on a flat screen, a photo with its background);
    * ``no_light_response`` (fail): face-local response below :data:`LIGHT_NONE`, or no
      evidence of any response (t < 2): nothing reflects this session's colours (a face that
      answers another session's colours leaves large residuals, so a noisy fit is no excuse);
    * ``weak_light_response`` (inconclusive, never pass): some response, but too weak or too
      noisy to be sure (below the floor, t below :data:`LIGHT_MIN_T`, correlation below
      :data:`LIGHT_MIN_CORR`, or channels that disagree). Almost always a bright room (above
      ~1000 lux a phone's light adds ~1-5 %) or a moving face: the detail tells the user to
      move away from bright light or a window, face the screen, hold still and retry
      (``data["advice"] = "move_away_from_bright_light"``);
    * ``inconsistent_light_response`` (inconclusive): a significant response whose channels
      disagree (one darkens under its own light): not light on skin, but no proof of an attack;
    * ``too_few_light_frames`` / ``light_step_missing`` (inconclusive): not enough frames
      under the colours, or the step was never completed.

    Lag consistency is not required: with 3 frames per colour the lag-0 and lag-1 schedules
    share 2/3 of their frames, so the wrong lag also correlates and cannot confirm the right one.

    A printed photo is paper: it reflects the screen's light diffusely like skin, so its
    face responds; where the print's own surroundings (margin, printed background) are
    measured as the surround the response is shared and it fails, otherwise it passes this
    check, and the print checks (sheet edges, halftone, blink/smile, planarity) stop it.
    """
    n_col = len(light.colours)
    data: dict[str, object] = {"n_colours": n_col, "n_samples": len(light.samples), "step_met": light.step_met}
    if not light.samples or n_col < 2:
        detail = "the screen-light step produced no measurable frame"
        return check_result(NAME, Status.INCONCLUSIVE, "light_step_missing", None, detail, **data)
    best = _best_lag(light)
    if best is None:
        detail = "too few frames with the face and its surroundings under the issued colours"
        reason = "too_few_light_frames" if light.step_met else "light_step_missing"
        return check_result(NAME, Status.INCONCLUSIVE, reason, None, detail, **data)
    data.update(best)
    return _judge(best, data)


def _best_lag(light: LightRecord) -> dict[str, object] | None:
    """The measurements of the lag (0: the colour asked for before the frame, 1: the one before that,
    for a camera one frame late) whose face responds the more significantly; None when neither lag
    has enough frames."""
    by_index = {smp.index: smp.colour for smp in light.samples}
    palette = [hex_rgb(c) for c in light.colours]
    best: dict[str, object] | None = None
    best_key = -np.inf
    for lag in (0, 1):
        found = _lag_candidate(light, by_index, palette, lag)
        if found is None:
            continue
        cand, key = found
        if best is None or key > best_key:
            best, best_key = cand, key
    return best


def _lag_rows(light: LightRecord, by_index: dict[int, int], lag: int) -> list[tuple[LightSample, int]]:
    """(sample, index of the colour that lit it) for the samples whose colour at ``lag`` was issued."""
    rows = []
    for smp in light.samples:
        eff = smp.colour if lag == 0 else by_index.get(smp.index - 1, -1)
        if 0 <= eff < len(light.colours):
            rows.append((smp, eff))
    return rows


def _lag_candidate(
    light: LightRecord, by_index: dict[int, int], palette: list[np.ndarray], lag: int
) -> tuple[dict[str, object], float] | None:
    """The fits at one ``lag`` (frames) and the key that ranks lags (the larger t of the face-local
    and of the raw face response); None when too few frames, colours or measurable regions."""
    n_col = len(light.colours)
    rows = _lag_rows(light, by_index, lag)
    if len(rows) < LIGHT_MIN_SAMPLES or len({e for _, e in rows}) < LIGHT_MIN_COVER * n_col:
        return None
    face = np.stack([r[0].face for r in rows])  # (n, 5, 3)
    sur = np.stack([r[0].surround for r in rows])  # (n, k, 3)
    face_ok = ~np.isnan(face).any(axis=(0, 2))
    sur_ok = ~np.isnan(sur).any(axis=(0, 2))
    if face_ok.sum() < 3 or not sur_ok.any():
        return None
    lights = np.stack([palette[e] for _, e in rows])
    times = np.array([r[0].timestamp for r in rows], dtype=np.float64)
    lf = linear_log(face[:, face_ok])  # (n, r, 3)
    ls = linear_log(sur[:, sur_ok])
    face_log = np.log(np.exp(lf).mean(axis=1))
    sur_log = np.log(np.exp(ls).mean(axis=1))
    sur_mean = np.mean(sur[:, sur_ok], axis=1)  # (n, 3) encoded levels, box means averaged
    channels = (np.max(face[:, face_ok], axis=(0, 1)) <= LIGHT_CLIP_LEVEL) & (
        np.min(sur_mean, axis=0) >= LIGHT_DARK_LEVEL
    )
    fit = pooled_fit(face_log - sur_log, lights, times, channels)
    beta = fit.slope
    regions = [pooled_fit(lf[:, k] - sur_log, lights, times, channels).slope for k in range(lf.shape[1])]
    raw_fit = pooled_fit(face_log, lights, times, channels)
    face_raw = raw_fit.slope
    sur_fit = pooled_fit(sur_log, lights, times, channels)
    measurable = [k for k in range(3) if np.isfinite(fit.channel_se[k])]
    positive = sum(1 for k in measurable if fit.channel_slopes[k] > 0)
    negative = sum(1 for k in measurable if fit.channel_slopes[k] < -2.0 * fit.channel_se[k])
    cand: dict[str, object] = {
        "lag": lag,
        "face_local_response": beta,
        "correlation": fit.corr,
        "response_se": fit.se,
        "response_t": fit.t,
        "channel_responses": [round(float(v), 4) for v in fit.channel_slopes],
        "channels_agree": len(measurable) >= 2 and negative == 0 and positive >= 2,
        "face_raw_response": face_raw,
        "surround_raw_response": sur_fit.slope,
        "surround_correlation": sur_fit.corr,
        "surround_t": sur_fit.t,
        "region_responses": [round(float(r), 4) for r in regions],
        "face_wide_fraction": float(np.mean([r >= LIGHT_REGION_FRACTION * beta for r in regions])) if beta > 0 else 0.0,
        "n_used": len(rows),
        "channels_measured": "".join(c for c, ok in zip("RGB", channels, strict=True) if ok),
        "colours_covered": len({e for _, e in rows}),
    }
    # the camera's lag shows in whatever responds: the face as the camera sees it (gains included)
    return cand, max(fit.t, raw_fit.t)


def _judge(best: dict[str, object], data: dict[str, object]) -> CheckResult:
    """The decision of :func:`screen_light_response` from the chosen lag's measurements ``best``;
    ``data`` (what is reported) gets the advice when the response is weak."""
    beta = float(best["face_local_response"])  # type: ignore[arg-type]
    corr = float(best["correlation"])  # type: ignore[arg-type]
    t = float(best["response_t"])  # type: ignore[arg-type]
    wide = float(best["face_wide_fraction"])  # type: ignore[arg-type]
    face_raw = float(best["face_raw_response"])  # type: ignore[arg-type]
    sur_raw = float(best["surround_raw_response"])  # type: ignore[arg-type]
    sur_corr = float(best["surround_correlation"])  # type: ignore[arg-type]
    sur_t = float(best["surround_t"])  # type: ignore[arg-type]
    agree = bool(best["channels_agree"])
    shared = face_raw > LIGHT_NONE and sur_raw >= LIGHT_SHARED_RATIO * face_raw
    score = (
        sigmoid((t - LIGHT_MIN_T) / 1.5)
        * sigmoid((beta - LIGHT_PASS) / (0.25 * LIGHT_PASS))
        * float(np.clip(corr / LIGHT_MIN_CORR, 0, 1))
    )
    significant = t >= LIGHT_MIN_T and corr >= LIGHT_MIN_CORR and agree
    if significant and beta >= LIGHT_PASS:
        if wide >= LIGHT_FACE_WIDE and not shared:
            detail = f"the face reflects the issued colours ({100 * beta:.1f} %, t = {t:.0f}), its surroundings do not"
            return check_result(NAME, Status.PASS, "light_response_ok", max(score, 0.5), detail, **data)
        why = "shared by the surroundings" if shared else f"confined to {wide:.0%} of the face"
        detail = f"a response to the colours ({100 * beta:.1f} %) {why}: a reflection on a flat surface"
        return check_result(NAME, Status.FAIL, "light_response_not_face_local", min(score, 0.2), detail, **data)
    if shared and sur_raw >= LIGHT_PASS and sur_corr >= LIGHT_MIN_CORR and sur_t >= LIGHT_MIN_T:
        detail = "the face and its surroundings respond alike: a reflection on a flat surface"
        return check_result(NAME, Status.FAIL, "light_response_not_face_local", min(score, 0.2), detail, **data)
    if t >= LIGHT_MIN_T and corr >= LIGHT_MIN_CORR and beta >= LIGHT_PASS and not agree:
        detail = "the colour channels answer the screen inconsistently (one against its own light): hold still, retry"
        return check_result(NAME, Status.INCONCLUSIVE, "inconsistent_light_response", min(score, 0.3), detail, **data)
    if beta >= LIGHT_NONE and t >= 2.0 and corr > 0:
        data["advice"] = "move_away_from_bright_light"
        detail = (
            f"the screen's light on the face is too weak to judge ({100 * beta:.1f} %, t = {t:.1f}): "
            "the room is probably too bright; move away from bright light or a window, face the screen, "
            "hold still and try again"
        )
        return check_result(NAME, Status.INCONCLUSIVE, "weak_light_response", min(score, 0.49), detail, **data)
    detail = f"the face does not reflect the issued colours (response {100 * beta:.1f} %, t = {t:.1f})"
    return check_result(NAME, Status.FAIL, "no_light_response", min(score, 0.2), detail, **data)
