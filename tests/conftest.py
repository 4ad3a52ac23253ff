"""Shared fixtures: images the project generates or that pinned packages ship."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from openidv.face.detection import detect
from openidv.synth import document as synth

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; skips the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's astronaut photograph (Eileen Collins, NASA, public domain), RGB 512x512."""
    return data.astronaut()


@pytest.fixture(scope="session")
def cameraman() -> np.ndarray:
    """scikit-image's cameraman photograph (grayscale 512x512): a second, different person."""
    return data.camera()


@pytest.fixture(scope="session")
def astronaut_portrait(astronaut: np.ndarray) -> np.ndarray:
    b = detect(astronaut)[0].box
    return synth.portrait_crop(astronaut, (b.x, b.y, b.width, b.height))


@pytest.fixture(scope="session")
def card_photo(astronaut_portrait: np.ndarray) -> np.ndarray:
    """A camera photo of a generated ID card carrying the astronaut's portrait."""
    rng = np.random.default_rng(11)
    card = synth.render_id_front(astronaut_portrait, rng)
    return synth.photograph(card, rng, card_fraction=0.7, max_tilt_deg=15)


@pytest.fixture(scope="session")
def blank_card_photo(astronaut_portrait: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(12)
    card = synth.render_id_front(np.full_like(astronaut_portrait, 235), rng, ghost=False)
    return synth.photograph(card, rng, card_fraction=0.7, max_tilt_deg=15)


def encode(image: np.ndarray, fmt: str = "JPEG", **kwargs: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **kwargs)
    return buf.getvalue()
