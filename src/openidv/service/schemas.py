"""Request and response bodies of the JSON API (``/api/v1``), as they appear in ``/openapi.json``.

Every operation declares its 2xx response model here, with an example; the use cases in
:mod:`openidv.service.cases` return plain dicts that these models validate and document.
Times are ISO 8601 strings in UTC; durations are named with their unit (``_s``, ``_ms``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from openidv.service import integrator

_SELLER_EXAMPLE: dict[str, Any] = {
    "case_id": "3f1c9a0e5b7d4c2e8a6f1b3d5c7e9a0b",
    "state": "in_review",
    "status": "pending",
    "message": "We are checking your documents. This usually takes less than a day.",
    "pending": True,
    "document_type": "drivers_license",
    "resubmit_step": None,
    "submitted_at": "2026-12-06T20:15:00+00:00",
    "decided_at": None,
}


class CreateCase(BaseModel):
    reference: str | None = Field(
        None, max_length=200, description="your opaque reference for this seller (returned in status and webhooks)"
    )
    external_ref: str | None = Field(
        None, max_length=200, description="older name of `reference`", json_schema_extra={"deprecated": True}
    )
    return_url: str | None = Field(
        None,
        max_length=integrator.MAX_URL_LENGTH,
        description="where the applicant is sent after submitting or declining for a video call, with `case_id` "
        "and `state` added to the query; must fall under one of your API key's return URLs "
        "(`openidv apikey return-urls`), otherwise 422 `return_url_not_allowed`",
    )

    @model_validator(mode="after")
    def _one_reference(self) -> CreateCase:
        if self.reference and self.external_ref and self.reference != self.external_ref:
            raise ValueError("reference and external_ref differ; send reference only")
        self.reference = self.reference or self.external_ref
        return self


class CaseCreated(BaseModel):
    """A new case: hand ``applicant_url`` (or ``token``) to the applicant's browser only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "3f1c9a0e5b7d4c2e8a6f1b3d5c7e9a0b",
                    "token": "q8N1tW3...",
                    "applicant_url": "https://verify.example/resume/q8N1tW3...",
                    "status_url": "https://verify.example/status/Hc72pL...",
                    "reference": "seller-1042",
                }
            ]
        }
    )

    case_id: str
    token: str = Field(
        description="bearer token of this case: give it to the applicant's browser only; it expires with the case"
    )
    applicant_url: str
    status_url: str = Field(description="read-only status link (its own token: it opens nothing else)")
    reference: str | None = None


class StepProgress(BaseModel):
    step: str
    label: str
    done: bool
    attempts: int
    attempts_left: int


class SellerView(BaseModel):
    """What the seller and the integrator may see of a case: never scores, checks or reviewer notes."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SELLER_EXAMPLE]})

    case_id: str
    state: str = Field(description="started, capturing, submitted, in_review, approved, rejected, ...")
    status: str = Field(description="not_submitted, pending, approved, rejected, resubmission_requested, expired")
    message: str
    pending: bool
    document_type: str | None
    resubmit_step: str | None
    submitted_at: str | None = Field(description="ISO 8601, UTC")
    decided_at: str | None = Field(description="ISO 8601, UTC")


class SellerStatus(SellerView):
    """The seller's view with the integrator's reference and where to send the applicant back."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_SELLER_EXAMPLE | {"reference": "seller-1042", "return_to": None}]}
    )

    reference: str | None = Field(None, description="the `reference` given when the case was created")
    return_to: str | None = Field(
        None, description="the case's return URL with case_id and state added: send the applicant's browser there"
    )


class CaseStatus(SellerStatus):
    """The seller's status and the steps: what is done, what is next."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _SELLER_EXAMPLE
                | {
                    "state": "capturing",
                    "status": "not_submitted",
                    "pending": False,
                    "submitted_at": None,
                    "reference": "seller-1042",
                    "return_to": None,
                    "steps": [
                        {
                            "step": "document_front",
                            "label": "Front of your document",
                            "done": True,
                            "attempts": 1,
                            "attempts_left": 2,
                        }
                    ],
                    "next_step": "document_back",
                }
            ]
        }
    )

    steps: list[StepProgress]
    next_step: str | None


class Submitted(SellerStatus):
    """The case after submit (pending, or decided at once in ``auto`` mode)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [_SELLER_EXAMPLE | {"reference": "seller-1042", "return_to": None, "processing_ms": 1840.5}]
        }
    )

    processing_ms: float


class CaseErased(BaseModel):
    """The case after erasure: its images, data key and personal fields are gone."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "3f1c9a0e5b7d4c2e8a6f1b3d5c7e9a0b",
                    "state": "erased",
                    "images_deleted": 3,
                    "already_erased": False,
                }
            ]
        }
    )

    case_id: str
    state: str
    images_deleted: int
    already_erased: bool


class Eligibility(BaseModel):
    us_resident: bool
    adult: bool
    document_type: str = Field(description="drivers_license, id_card, passport or passport_card")
    biometric: bool = Field(True, description="false: the seller prefers an in-person video call")
    email: str | None = Field(None, max_length=320, description="where the seller is told of the decision")


class Consent(BaseModel):
    accepted: bool
    version: str


class VideoCall(BaseModel):
    email: str | None = Field(None, max_length=320)


class EligibilityAnswer(SellerView):
    """The case after the eligibility answers, and the consent text version to accept next."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_SELLER_EXAMPLE | {"state": "started", "consent_version": "2026-01"}]}
    )

    consent_version: str


class ConsentAnswer(SellerView):
    """The case after consent (``capturing`` when accepted) and the first step to do."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_SELLER_EXAMPLE | {"state": "capturing", "next_step": "document_front"}]}
    )

    next_step: str | None


class CaptureResult(BaseModel):
    """The verdict on one document photo: accepted, or a retake with reasons and what to do."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "step": "document_front",
                    "accepted": False,
                    "reasons": ["blurry"],
                    "messages": ["The photo is blurry. Hold the document still and let the camera focus."],
                    "kind": "id1",
                    "metrics": {"sharpness": 17.2},
                    "attempt": 1,
                    "attempts_left": 2,
                    "next_step": "document_front",
                }
            ]
        }
    )

    step: str
    accepted: bool
    reasons: list[str] = Field(description="reason codes, empty when accepted")
    messages: list[str] = Field(description="what to do, one sentence per reason")
    kind: str = Field(description="the document format seen: id1, td2, td3, ...")
    metrics: dict[str, float] = Field(description="the capture measurements the verdict used")
    attempt: int
    attempts_left: int
    document_report_ms: float | None = Field(
        None, description="present once every document photo is in: time to build the document report"
    )
    next_step: str | None


class LivenessStarted(BaseModel):
    """A new liveness session: the challenges to show, one at a time, in this order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "b8e0c1d2",
                    "nonce": "Zk3q9x",
                    "challenges": ["turn_left", "blink"],
                    "instructions": {"turn_left": "turn your head to your left", "blink": "blink"},
                    "window_s": 8.0,
                    "expires_in_s": 120.0,
                    "attempt": 1,
                    "attempts_left": 2,
                }
            ]
        }
    )

    session_id: str
    nonce: str
    challenges: list[str]
    instructions: dict[str, str] = Field(description="per challenge, the sentence to show")
    window_s: float = Field(description="seconds allowed for the first challenge")
    expires_in_s: float = Field(description="seconds before the session expires")
    attempt: int
    attempts_left: int


class LivenessProgress(BaseModel):
    """After one frame: the challenge to show now, guidance, and whether the sequence is done."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current": "blink",
                    "instruction": "blink",
                    "step_index": 1,
                    "met": False,
                    "completed": ["turn_left"],
                    "guidance": "",
                    "expired": False,
                    "failed_reason": "",
                    "screen_colour": None,
                    "done": False,
                }
            ]
        }
    )

    current: str | None = Field(description="the challenge to show now; null when none is left")
    instruction: str
    step_index: int
    met: bool
    completed: list[str]
    guidance: str
    expired: bool
    failed_reason: str = Field(description="why the sequence failed; empty while it has not")
    screen_colour: str | None = Field(description='while current is screen_light: "#rrggbb" to fill the screen with')
    done: bool


class LivenessFinished(BaseModel):
    """Whether the face step is done; never the checks' details."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"accepted": True, "retry": False, "attempts_left": 2, "message": "", "next_step": None}]
        }
    )

    accepted: bool
    retry: bool = Field(description="true: start a new liveness session and try again")
    attempts_left: int
    message: str = Field(description="what to do before trying again (empty when accepted)")
    next_step: str | None
