"""The names the liveness engine gives its checks and their reasons.

Every :class:`~openidv.checks.CheckResult` of a :class:`~openidv.liveness.types.LivenessReport`
is named by a :class:`LivenessCheck` and gives a :class:`LivenessReason`. The severity table
(:mod:`openidv.decision.severity`) is keyed by them, and ``tests/test_codes.py`` runs live and
attack sessions and checks that every name and reason they report is listed here. The values
are the strings stored in recorded reports: they never change.

A leaf module: it imports nothing of the package.
"""

from __future__ import annotations

from enum import StrEnum


class LivenessCheck(StrEnum):
    """Check names: the session's own checks, then the presentation-attack (PAD) checks."""

    CHALLENGES_COMPLETED = "challenges_completed"
    SINGLE_FACE = "single_face"
    SAME_PERSON = "same_person"
    FRAME_QUALITY = "frame_quality"
    PRESENTATION_ATTACK = "presentation_attack"  #: the PAD checks could not run (no frames, error)
    LIVENESS_ENGINE = "liveness_engine"  #: the engine failed on the session
    INJECTION_REPLAY = "injection_replay"
    PLANARITY = "planarity"
    PRINT_ATTACK = "print_attack"
    SCREEN_REPLAY = "screen_replay"
    BLINK_SMILE = "blink_smile"
    SCREEN_LIGHT_RESPONSE = "screen_light_response"
    RPPG = "rppg"


class LivenessReason(StrEnum):
    """Reason codes, whatever the check."""

    ALL_MET = "all_met"
    INCOMPLETE = "incomplete"
    CHALLENGE_TIMEOUT = "challenge_timeout"
    SESSION_EXPIRED = "session_expired"
    NO_FACE = "no_face"
    ONE_FACE = "one_face"
    MULTIPLE_FACES = "multiple_faces"
    SMALLER_FACE = "smaller_face"
    SAME_PERSON = "same_person"
    DIFFERENT_PERSON = "different_person"
    FACE_NOT_DETECTED = "face_not_detected"
    TOO_FEW_FRAMES = "too_few_frames"
    MODEL_UNAVAILABLE = "model_unavailable"  #: an :class:`~openidv.errors.OpenIDVError` code
    BAD_IMAGE = "bad_image"
    EMPTY_IMAGE = "empty_image"
    NOT_AN_IMAGE = "not_an_image"
    CORRUPT_IMAGE = "corrupt_image"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_TOO_SMALL = "image_too_small"
    UNSUPPORTED_IMAGE = "unsupported_image"
    GOOD_QUALITY = "good_quality"
    LOW_QUALITY = "low_quality"
    NO_SELFIE = "no_selfie"
    NO_FRAMES = "no_frames"
    NOT_AVAILABLE = "not_available"
    CHECK_ERROR = "check_error"
    INTERNAL_ERROR = "internal_error"
    # injection / replay
    CONSISTENT = "consistent"
    BAD_NONCE = "bad_nonce"
    CHALLENGE_NOT_MET = "challenge_not_met"
    CHALLENGE_NOT_SHOWN = "challenge_not_shown"
    CHALLENGE_ORDER = "challenge_order"
    CHALLENGE_OUT_OF_WINDOW = "challenge_out_of_window"
    DUPLICATE_FRAMES = "duplicate_frames"
    FROZEN_FRAMES = "frozen_frames"
    IMPLAUSIBLE_FRAME_RATE = "implausible_frame_rate"
    NO_CHALLENGES = "no_challenges"
    TIMESTAMPS_NOT_MONOTONIC = "timestamps_not_monotonic"
    # planarity, print, screen
    NO_FACE_TRACK = "no_face_track"
    NO_HEAD_TURN = "no_head_turn"
    PARALLAX = "parallax"
    PLANAR_MOTION = "planar_motion"
    FLAT_TONE = "flat_tone"
    HALFTONE = "halftone"
    NO_PRINT_CUES = "no_print_cues"
    SHEET_EDGES = "sheet_edges"
    DEVICE_BORDER = "device_border"
    FLICKER_BANDS = "flicker_bands"
    MOIRE = "moire"
    NO_SCREEN_CUES = "no_screen_cues"
    # blink / smile
    PERFORMED = "performed"
    NOT_REQUESTED = "not_requested"
    BLINK_NOT_PERFORMED = "blink_not_performed"
    SMILE_NOT_PERFORMED = "smile_not_performed"
    # screen light
    LIGHT_RESPONSE_OK = "light_response_ok"
    NO_LIGHT_RESPONSE = "no_light_response"
    WEAK_LIGHT_RESPONSE = "weak_light_response"
    INCONSISTENT_LIGHT_RESPONSE = "inconsistent_light_response"
    LIGHT_RESPONSE_NOT_FACE_LOCAL = "light_response_not_face_local"
    LIGHT_STEP_MISSING = "light_step_missing"
    TOO_FEW_LIGHT_FRAMES = "too_few_light_frames"
    # rPPG
    PULSE = "pulse"
    WEAK_PULSE = "weak_pulse"
    TOO_SHORT = "too_short"
