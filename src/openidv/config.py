"""Process settings, read from ``OPENIDV_*`` environment variables (pydantic-settings).

The engines take explicit parameters; only the shell (CLI, service) reads settings
and passes them in.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from openidv.face.operating_points import DEFAULT_OPERATING_POINT
from openidv.imaging import DEFAULT_MAX_PIXELS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENIDV_", extra="ignore")

    #: largest accepted image, in pixels (width x height)
    max_image_pixels: int = Field(DEFAULT_MAX_PIXELS, gt=0)
    #: face-match operating point: target false-match rate "1e-2", "1e-3" or "1e-4"
    face_operating_point: str = DEFAULT_OPERATING_POINT
    #: selfie gate: a selfie whose eye centres are closer than this (pixels) is refused (face_too_small)
    face_selfie_min_iod_px: float = Field(30.0, gt=0)
    #: inference threads per model (ONNX Runtime intra-op threads, OpenVINO inference threads); 0 lets
    #: the runtime choose
    onnx_threads: int = Field(0, ge=0)
    #: arithmetic of the OCR networks: "auto" (bfloat16 on OpenVINO on CPUs with AVX-512 BF16 or AMX,
    #: else float32 on onnxruntime) or "f32" (onnxruntime everywhere: the same numbers on every CPU)
    inference_precision: Literal["auto", "f32"] = "auto"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
