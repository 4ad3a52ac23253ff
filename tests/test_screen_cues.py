"""The shared-lattice limit of the screen check (`integrity.screen_moire.shared_lattice_limit`): generated
screen recaptures whose lattice is too faint for the fixed limit, genuine generated card photos,
and the real genuine fronts of ../shared/data (skipped when absent)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from openidv.checks import Status
from openidv.document import integrity
from openidv.document.integrity import screen_moire
from tests.conftest import shared_path


def test_limit_follows_the_noise_floor_of_the_tiles_around_and_never_exceeds_the_fixed_one() -> None:
    fixed = integrity.SCREEN_SHARED_THRESHOLD
    limits = [screen_moire.shared_lattice_limit(screen_moire._noise_floor(n), fixed) for n in (0, 4, 16, 36, 64)]
    assert limits[:3] == [fixed] * 3  # few tiles around the document: the fixed limit
    assert limits[3] > limits[4] > screen_moire._noise_floor(64)  # many: lower, still above what noise reaches
    assert screen_moire.shared_lattice_limit(0.0, fixed) == fixed


def _screen_check(label: str, seed: int) -> integrity.CheckResult:
    """A forgery-evaluation licence front (``label``, ``seed``) through the screen check, with the outline
    the engine finds for it."""
    from openidv.document import geometry
    from openidv.eval.forgery import default_portraits
    from openidv.imaging import load_rgb
    from openidv.synth import forgery

    kind = "us_dl" if label == "genuine" else None
    doc = forgery.generate(label, np.random.default_rng(seed), default_portraits(), date(2026, 6, 1), kind=kind)
    rgb = load_rgb(doc.front)
    quad = geometry.locate_document(rgb).quad
    assert quad is not None
    return integrity.screen_recapture(rgb, outline=np.asarray(quad.corners, np.float64))


@pytest.mark.parametrize("seed", [21180785, 21180803])
def test_faint_lattice_on_the_card_and_its_surroundings_fails(seed: int) -> None:
    """Screens of pitch 1.4-1.5 camera pixels behind strong optical blur (seed 211 of the forgery
    evaluation): the lattice is below every fixed limit, but both sides show it at one frequency."""
    r = _screen_check("screen_recapture", seed)
    assert r.data["shared_lattice"] < integrity.SCREEN_SHARED_THRESHOLD, r.to_dict()
    assert r.status is Status.FAIL and r.data["cue"] == "shared_lattice", r.to_dict()
    assert r.data["shared_limit"] < r.data["shared_lattice"]


@pytest.mark.parametrize("seed", [21100633, 21100634, 21100635, 21100636])
def test_genuine_card_photos_stay_under_the_limit(seed: int) -> None:
    r = _screen_check("genuine", seed)
    assert r.status is Status.PASS, r.to_dict()
    assert r.data["outside_tiles"] >= integrity.SCREEN_MIN_OUTSIDE_TILES
    assert r.data["shared_lattice"] < r.data["shared_limit"], r.to_dict()


def test_real_genuine_fronts_show_no_shared_lattice() -> None:
    """The 26 real licence fronts: no lattice shared with the surroundings above the limit, but where the
    spectrum has too few tiles to be calibrated (a review signal: ``_real_print_advisory``)."""
    from openidv.document import geometry
    from openidv.imaging import load_rgb

    folder = shared_path("real_us_fronts")
    for path in sorted(folder.glob("*.jpg")):
        rgb = load_rgb(path.read_bytes())
        quad = geometry.locate_document(rgb).quad
        outline = None if quad is None else np.asarray(quad.corners, np.float64)
        r = integrity.screen_recapture(rgb, outline=outline)
        shared_ok = r.data.get("shared_lattice", 0.0) <= r.data.get("shared_limit", 1.0)
        assert shared_ok or r.data.get("few_tiles"), (path.name, r.to_dict())
