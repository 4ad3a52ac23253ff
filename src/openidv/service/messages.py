"""Seller-facing text: labels, status lines, default decision messages and email wording.

Everything the seller (or the integrator passing it on) reads in plain language lives here,
so wording changes in one place. Reviewer-facing and error texts stay with their use cases.
"""

from __future__ import annotations

from openidv.service.lifecycle import CaseState

DOCUMENT_LABELS: dict[str, str] = {
    "drivers_license": "US driver's licence",
    "id_card": "US state ID card",
    "passport": "US passport (book)",
    "passport_card": "US passport card",
}
STEP_LABELS: dict[str, str] = {
    "document_front": "Front of your document",
    "document_back": "Back of your document",
    "passport_page": "Passport photo page",
    "liveness": "Your face",
}
#: per state: the seller-facing status code and its sentence
SELLER_STATUS: dict[CaseState, tuple[str, str]] = {
    CaseState.STARTED: ("not_submitted", "You have not finished the verification yet."),
    CaseState.CAPTURING: ("not_submitted", "You have not finished the verification yet."),
    CaseState.SUBMITTED: ("pending", "We are checking your documents. This usually takes less than a day."),
    CaseState.IN_REVIEW: ("pending", "We are checking your documents. This usually takes less than a day."),
    CaseState.APPROVED: ("approved", "You are verified. Thank you!"),
    CaseState.REJECTED: ("rejected", "We could not verify your identity."),
    CaseState.RESUBMISSION_REQUESTED: ("resubmission_requested", "We need you to retake part of the verification."),
    CaseState.VIDEO_CALL_REQUESTED: ("pending", "You asked for a video call. We will contact you to book it."),
    CaseState.EXPIRED: ("expired", "This verification expired before it was submitted. Please start again."),
    CaseState.ERASED: ("erased", "This verification and its data were deleted."),
}


#: reason codes a reviewer can give for a rejection, with the seller's plain-language text
REJECT_REASONS: dict[str, str] = {
    "document_not_genuine": "The document does not appear to be genuine.",
    "document_expired": "The document has expired.",
    "document_unreadable": "We could not read the document.",
    "face_mismatch": "The face does not match the photo on the document.",
    "not_live": "We could not confirm that a live person took part.",
    "under_18": "Sellers must be 18 or older.",
    "not_us": "Online verification is for US residents with US documents.",
    "suspected_fraud": "We could not verify your identity.",
}
LIVENESS_TOO_BRIGHT = (
    "The light around you is too bright for the face check. Move away from windows and bright lamps "
    "(or turn your back to them), keep your face close to the screen, and try again."
)
LIVENESS_RETRY = (
    "We could not complete the face check. Please try again in good light, "
    "with your whole face in view, and follow each instruction when it appears."
)
VIDEO_CALL_NOT_VERIFIED = "We could not verify your identity in the video call."
EMAIL_SUBJECTS: dict[CaseState, str] = {
    CaseState.APPROVED: "Your identity verification: you are verified",
    CaseState.REJECTED: "Your identity verification: we could not verify your identity",
    CaseState.RESUBMISSION_REQUESTED: "Your identity verification: please retake a step",
}


def retake_message(step: str) -> str:
    """The default message when a reviewer asks the seller to redo ``step``."""
    return f"Please retake: {STEP_LABELS[step].lower()}."


def rejection_message(reason_codes: list[str]) -> str:
    """The default message of a rejection: the plain-language text of each reason, in order."""
    return " ".join(REJECT_REASONS[r] for r in reason_codes)
