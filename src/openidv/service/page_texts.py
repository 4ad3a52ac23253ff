"""Texts the applicant's scripts show (``static/capture.js``, ``static/handoff.js``), translated on the server.

The page passes them in its JSON island: ``texts`` (the scripts' own wording, by name; ``{name}``
placeholders filled in by the script) and ``server_texts`` (English -> page language for the
engines' capture verdicts and liveness guidance, which the JSON API sends in English).
"""

from __future__ import annotations

from openidv.document.capture import MESSAGES as CAPTURE_VERDICTS
from openidv.liveness import frame, session
from openidv.service import i18n, messages
from openidv.service.i18n import N_

CAPTURE_TEXTS: dict[str, str] = {
    "title_document_front": N_("Photograph the front of your {document}"),
    "title_document_back": N_("Photograph the back of your {document}"),
    "title_passport_page": N_("Photograph your passport's photo page"),
    "title_liveness": N_("Face check"),
    "hint_document_front": N_("Place the front inside the frame, flat and without glare, then take the photo."),
    "hint_document_back": N_("Show the back with the barcode inside the frame, then take the photo."),
    "hint_passport_page": N_("Open your passport at the photo page; keep the lines at the bottom visible."),
    "hint_liveness": N_("Put your face in the oval. Follow each instruction as it appears."),
    "too_dark": N_("It is too dark: find more light."),
    "washed_out": N_("The picture is washed out: move away from direct light."),
    "glare": N_("Glare on the document: tilt it slightly."),
    "focus": N_("Hold still and let the camera focus."),
    "all_done": N_("All done"),
    "captured": N_("Everything is captured."),
    "no_camera": N_(
        "We cannot use your camera ({error}). Allow camera access for this site and reload, or ask for a video call."
    ),
    "checking_photo": N_("Checking the photo…"),
    "got_it": N_("Got it."),
    "attempts_left": N_("({count} attempt(s) left)"),
    "look_straight": N_("Look straight at the camera"),
    "checking": N_("Checking…"),
    "thank_you": N_("Thank you."),
    "face_again": N_("Try the face check again"),
    "submitting": N_("Submitting…"),
    "went_wrong": N_("Something went wrong ({status})."),
}
HANDOFF_TEXTS: dict[str, str] = {
    "progress": N_("Your phone has done {done} of {total} steps."),
    "waiting": N_("Waiting for your phone…"),
}
#: the liveness session's own guidance strings (besides the per-frame and per-challenge ones)
SESSION_GUIDANCE: tuple[str, ...] = (
    "please try again",
    "the session is over",
    "time is up, please start again",
    "too many frames, please finish",
    "the frame could not be read",
    "unsupported camera frame",
    "the service cannot analyse frames now",
)


def engine_texts() -> list[str]:
    """Every English text the capture API passes on from the engines and the liveness use case."""
    guidance = [value for name, value in vars(frame).items() if name.startswith("GUIDANCE_")]
    instructions = [*session.INSTRUCTIONS.values(), session.INSTRUCTION_FRONTAL]
    liveness = [messages.LIVENESS_TOO_BRIGHT, messages.LIVENESS_RETRY]
    return [*CAPTURE_VERDICTS.values(), *guidance, *instructions, *SESSION_GUIDANCE, *liveness]


def translated(texts: dict[str, str], language: i18n.Language) -> dict[str, str]:
    return {name: i18n.gettext(language, text) for name, text in texts.items()}


def server_texts(language: i18n.Language) -> dict[str, str]:
    """English -> ``language`` for :func:`engine_texts` (empty for English: the script shows them as sent)."""
    if language is i18n.DEFAULT_LANGUAGE:
        return {}
    return {text: i18n.gettext(language, text) for text in engine_texts()}
