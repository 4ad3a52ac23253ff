"""Face engine: detection, quality, alignment, embedding and selfie-to-document matching.

Pure functions over images (see :mod:`openidv.imaging` for conventions). Nothing in
this package writes to disk; embeddings live only in memory.
"""

from openidv.face.detection import DetectorConfig, detect
from openidv.face.embedding import embed
from openidv.face.matching import MatchConfig, analyse_side, match
from openidv.face.operating_points import DEFAULT_OPERATING_POINT, OPERATING_POINTS
from openidv.face.portrait import EnhanceConfig, prepare_face
from openidv.face.types import Box, DetectedFace, FaceEmbedding, FaceQuality, MatchResult, Reason

__all__ = [
    "DEFAULT_OPERATING_POINT",
    "OPERATING_POINTS",
    "Box",
    "DetectedFace",
    "DetectorConfig",
    "EnhanceConfig",
    "FaceEmbedding",
    "FaceQuality",
    "MatchConfig",
    "MatchResult",
    "Reason",
    "analyse_side",
    "detect",
    "embed",
    "match",
    "prepare_face",
]
