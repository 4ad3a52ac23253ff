"""Every check name and reason the engines report is a member of their code enums.

Runs representative analyses: generated documents (genuine of each kind, and each forgery
type), liveness sessions (live and each attack) and a face match, and checks every emitted
name and reason against :mod:`openidv.document.codes`, :mod:`openidv.liveness.codes` and
:mod:`openidv.face.codes`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from openidv.checks import CheckResult
from openidv.document.codes import DocumentReason, FieldName, parse_check_name
from openidv.face.codes import FaceCheck, FaceReason
from openidv.liveness.codes import LivenessCheck, LivenessReason

TODAY = date(2026, 12, 6)


def _unknown_document_codes(checks: list[CheckResult]) -> list[str]:
    reasons = {r.value for r in DocumentReason}
    return [f"{c.name}.{c.reason}" for c in checks if parse_check_name(c.name) is None or c.reason not in reasons]


@pytest.fixture(scope="module")
def portraits(astronaut: np.ndarray) -> list[np.ndarray]:
    return [astronaut]


@pytest.mark.parametrize("kind", [None, "passport"])
def test_genuine_documents_report_known_codes(kind: str | None, portraits: list[np.ndarray]) -> None:
    from openidv.document.engine import analyse_document
    from openidv.synth.forgery import generate

    doc = generate("genuine", np.random.default_rng(11), portraits, TODAY, kind=kind)
    report = analyse_document(doc.front, doc.back, today=TODAY)
    assert _unknown_document_codes(report.checks) == []
    fields = {f.value for f in FieldName}
    assert [f.name for f in report.fields if f.name not in fields] == []


def test_forged_documents_report_known_codes(portraits: list[np.ndarray]) -> None:
    from openidv.document.engine import analyse_document
    from openidv.synth.forgery import FORGERY_TYPES, generate

    unknown: list[str] = []
    for i, label in enumerate(FORGERY_TYPES):
        doc = generate(label, np.random.default_rng(100 + i), portraits, TODAY)
        report = analyse_document(doc.front, doc.back, today=TODAY)
        unknown += [f"{label}: {code}" for code in _unknown_document_codes(report.checks)]
    assert unknown == []


def test_liveness_sessions_report_known_codes(astronaut: np.ndarray) -> None:
    from openidv.eval.liveness import run_lit_session
    from openidv.liveness.session import start_session
    from openidv.synth import attacks
    from openidv.synth import liveness as synth

    subject = synth.prepare_subject(astronaut, np.random.default_rng(0))
    names, reasons = {c.value for c in LivenessCheck}, {r.value for r in LivenessReason}
    unknown: list[str] = []
    for i, kind in enumerate(["live", *attacks.ATTACKS]):
        rng = np.random.default_rng([7, i])
        session = start_session(now=1_000.0, rng=rng, screen_light=True)
        challenges = [s.challenge for s in session.steps]
        scene = attacks.SCENES.get(kind, synth.live_scene)
        report, _ = run_lit_session(scene(subject, challenges, rng, 8.0), session)
        unknown += [
            f"{kind}: {c.name}.{c.reason}" for c in report.checks if c.name not in names or c.reason not in reasons
        ]
    assert unknown == []


def test_face_match_reports_known_codes(astronaut: np.ndarray) -> None:
    from openidv.face import match

    result = match(astronaut, astronaut[::2, ::2].copy())
    names, reasons = {c.value for c in FaceCheck}, {r.value for r in FaceReason}
    assert [c.name for c in result.checks if c.name not in names] == []
    assert [c.reason for c in result.checks if c.reason not in reasons] == []
    assert [r for r in result.reason_codes if r not in reasons] == []


def test_both_engines_name_every_image_error_code() -> None:
    """The image-error codes are listed in the document's and the liveness engine's reason enums
    alike (a StrEnum cannot share members): each must hold every :class:`~openidv.errors.ImageError` code."""
    from openidv.errors import ImageError

    def codes(cls: type[ImageError]) -> set[str]:
        return {cls.code}.union(*(codes(sub) for sub in cls.__subclasses__()))

    image_codes = codes(ImageError)
    assert len(image_codes) >= 7, image_codes
    assert image_codes - {r.value for r in DocumentReason} == set()
    assert image_codes - {r.value for r in LivenessReason} == set()
