"""Seller-facing text: labels, status lines, default decision messages and email wording.

Everything the seller (or the integrator passing it on) reads in plain language lives here,
so wording changes in one place, with the parts of error messages that name a case's state or a
photo's problem. Reviewer-facing and other error texts stay with their use cases.
Each text is marked with ``N_`` for the Spanish catalog (``service/locale``) and translated where
it is shown: pages with ``tr()``, emails in the case's language (:mod:`.notify`). The API keeps English.
"""

from __future__ import annotations

from collections.abc import Callable

from openidv.service.i18n import N_
from openidv.service.lifecycle import CaseState

DOCUMENT_LABELS: dict[str, str] = {
    "drivers_license": N_("US driver's licence"),
    "id_card": N_("US state ID card"),
    "passport": N_("US passport (book)"),
    "passport_card": N_("US passport card"),
}
STEP_LABELS: dict[str, str] = {
    "document_front": N_("Front of your document"),
    "document_back": N_("Back of your document"),
    "passport_page": N_("Passport photo page"),
    "liveness": N_("Your face"),
}
#: per state: the seller-facing status code and its sentence
SELLER_STATUS: dict[CaseState, tuple[str, str]] = {
    CaseState.STARTED: ("not_submitted", N_("You have not finished the verification yet.")),
    CaseState.CAPTURING: ("not_submitted", N_("You have not finished the verification yet.")),
    CaseState.SUBMITTED: ("pending", N_("We are checking your documents. This usually takes less than a day.")),
    CaseState.IN_REVIEW: ("pending", N_("We are checking your documents. This usually takes less than a day.")),
    CaseState.APPROVED: ("approved", N_("You are verified. Thank you!")),
    CaseState.REJECTED: ("rejected", N_("We could not verify your identity.")),
    CaseState.RESUBMISSION_REQUESTED: ("resubmission_requested", N_("We need you to retake part of the verification.")),
    CaseState.VIDEO_CALL_REQUESTED: ("pending", N_("You asked for a video call. We will contact you to book it.")),
    CaseState.EXPIRED: ("expired", N_("This verification expired before it was submitted. Please start again.")),
    CaseState.ERASED: ("erased", N_("This verification and its data were deleted.")),
}

#: per state: how a refusal names it ("this verification is {state}"); open states take photos, never refused
STATE_WORDS: dict[CaseState, str] = {
    CaseState.STARTED: N_("waiting for the eligibility answers"),
    CaseState.SUBMITTED: N_("submitted"),
    CaseState.IN_REVIEW: N_("being reviewed"),
    CaseState.APPROVED: N_("approved"),
    CaseState.REJECTED: N_("rejected"),
    CaseState.VIDEO_CALL_REQUESTED: N_("waiting for a video call"),
    CaseState.EXPIRED: N_("expired"),
    CaseState.ERASED: N_("erased"),
}
#: a photo the engines cannot decode, by :class:`openidv.errors.ImageError` code (their own messages are
#: technical); :data:`UNUSABLE_PHOTO` for the others
PHOTO_ERRORS: dict[str, str] = {
    "empty_image": N_("the photo is empty; please take it again"),
    "corrupt_image": N_("the photo arrived damaged; please take it again"),
    "image_too_large": N_("the photo has too many pixels; please take it again with the camera"),
    "image_too_small": N_("the photo is too small to read; please take it again"),
}
UNUSABLE_PHOTO = N_("this photo cannot be read; please take it again with the camera")


#: reason codes a reviewer can give for a rejection, with the seller's plain-language text
REJECT_REASONS: dict[str, str] = {
    "document_not_genuine": N_("The document does not appear to be genuine."),
    "document_expired": N_("The document has expired."),
    "document_unreadable": N_("We could not read the document."),
    "face_mismatch": N_("The face does not match the photo on the document."),
    "not_live": N_("We could not confirm that a live person took part."),
    "under_18": N_("Sellers must be 18 or older."),
    "not_us": N_("Online verification is for US residents with US documents."),
    "suspected_fraud": N_("We could not verify your identity."),
}
LIVENESS_TOO_BRIGHT = N_(
    "The light around you is too bright for the face check. Move away from windows and bright lamps "
    "(or turn your back to them), keep your face close to the screen, and try again."
)
LIVENESS_RETRY = N_(
    "We could not complete the face check. Please try again in good light, "
    "with your whole face in view, and follow each instruction when it appears."
)
VIDEO_CALL_NOT_VERIFIED = N_("We could not verify your identity in the video call.")
EMAIL_SUBJECTS: dict[CaseState, str] = {
    CaseState.APPROVED: N_("Your identity verification: you are verified"),
    CaseState.REJECTED: N_("Your identity verification: we could not verify your identity"),
    CaseState.RESUBMISSION_REQUESTED: N_("Your identity verification: please retake a step"),
}


RETAKE: str = N_("Please retake: {step}.")


def retake_message(step: str) -> str:
    """The default message when a reviewer asks the seller to redo ``step``."""
    return RETAKE.format(step=STEP_LABELS[step].lower())


def rejection_message(reason_codes: list[str]) -> str:
    """The default message of a rejection: the plain-language text of each reason, in order."""
    return " ".join(REJECT_REASONS[r] for r in reason_codes)


def localized_seller_message(
    message: str, reason_codes: list[str], resubmit_step: str | None, gettext: Callable[[str], str]
) -> str:
    """``message`` (stored in English) through ``gettext``; the defaults composed above are rebuilt from
    their translated parts. A reviewer's own words are shown as written."""
    if reason_codes and all(r in REJECT_REASONS for r in reason_codes) and message == rejection_message(reason_codes):
        return " ".join(gettext(REJECT_REASONS[r]) for r in reason_codes)
    if resubmit_step in STEP_LABELS and message == retake_message(resubmit_step):
        return gettext(RETAKE).format(step=gettext(STEP_LABELS[resubmit_step]).lower())
    return gettext(message)
