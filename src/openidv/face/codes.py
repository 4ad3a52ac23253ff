"""The names the face engine gives its checks and reasons.

:class:`FaceCheck` names the checks of a :class:`~openidv.face.types.MatchResult`;
:class:`FaceReason` the reason codes of those checks and of ``MatchResult.reasons``. The decision
policy reads the reasons that keep a match from approval from here, and ``tests/test_codes.py``
checks that a match reports only these. The values are the stored strings: they never change.

A leaf module: it imports nothing of the package.
"""

from __future__ import annotations

from enum import StrEnum


class FaceCheck(StrEnum):
    SELFIE_FACE = "selfie_face"
    DOCUMENT_PORTRAIT = "document_portrait"
    FACE_MATCH = "face_match"


class FaceReason(StrEnum):
    OK = "ok"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    LOW_QUALITY = "low_quality"  #: blurred, too dark or bright, low contrast
    POSE = "pose"  #: head turned or tilted beyond the frontal range
    PORTRAIT_ENHANCED = "portrait_enhanced"  #: a small document portrait was enlarged and enhanced
    MATCH = "match"
    NO_MATCH = "no_match"
    UNDECIDABLE = "undecidable"
