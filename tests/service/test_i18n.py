"""Spanish: catalogs complete, language from Accept-Language and the switcher, remembered for emails."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from openidv.service import i18n, notify, page_texts
from openidv.service.cases import create_case
from openidv.service.i18n import Language, negotiate
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Case
from openidv.service.transitions import transition
from tests.service.conftest import Applicant

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "src" / "openidv" / "service"
# the same mapping as babel.cfg: the service's Python and the applicant's templates (not review/)
METHOD_MAP = [("**.py", "python"), ("templates/*.html", "jinja2")]
OPTIONS = {"templates/*.html": {"extensions": "jinja2.ext.i18n"}}
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def _extracted() -> set[str]:
    found = {m[2] for m in extract_from_dir(str(SERVICE), METHOD_MAP, OPTIONS) if isinstance(m[2], str)}
    assert len(found) > 100, f"extraction found only {len(found)} messages"
    return found | set(page_texts.engine_texts())


def _missing(catalog: Catalog) -> list[str]:
    """Extracted messages without a non-empty, non-fuzzy msgstr keeping the msgid's placeholders."""
    missing = []
    for msgid in sorted(_extracted()):
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(msgid)
        elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(str(message.string))):
            missing.append(f"{msgid} (placeholders differ)")
    return missing


def _spanish() -> Catalog:
    with i18n.po_path(Language.ES).open("rb") as f:
        return read_po(f)


def test_every_message_has_a_spanish_translation_with_the_same_placeholders() -> None:
    missing = _missing(_spanish())
    assert not missing, "messages without a Spanish translation:\n" + "\n".join(missing)


def test_a_catalog_lacking_a_message_is_caught() -> None:
    catalog = _spanish()
    catalog.delete("Take photo")
    empty = catalog.get("Start face check")
    assert empty is not None
    empty.string = ""
    wrong = catalog.get("Photograph the front of your {document}")
    assert wrong is not None
    wrong.string = "Fotografíe el anverso de su documento"
    assert _missing(catalog) == [
        "Photograph the front of your {document} (placeholders differ)",
        "Start face check",
        "Take photo",
    ]
    # what the service loads is the same catalog, compiled; unknown text stays as it is
    assert i18n.gettext(Language.ES, "Take photo") == "Tomar foto"
    assert i18n.gettext(Language.ES, "a sentence no catalog has") == "a sentence no catalog has"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es", Language.ES),
        ("es-MX,es;q=0.9,en;q=0.8", Language.ES),
        ("en-US,en;q=0.9,es;q=0.8", Language.EN),
        ("fr-FR,es;q=0.5", Language.ES),
        ("es;q=0,en", Language.EN),
        ("de", Language.EN),
        ("", Language.EN),
        ("es;q=abc, en;q=0.1", Language.EN),
    ],
)
def test_accept_language_negotiation(header: str, expected: Language) -> None:
    assert negotiate(header) is expected


@given(st.text(max_size=60))
def test_negotiation_never_fails(header: str) -> None:
    assert negotiate(header) in Language


def test_home_page_answers_in_spanish_to_accept_language_es(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert "Verifique su identidad para empezar a vender" in page.text and "Start verification" not in page.text
    # the switcher: a labelled control on the page
    assert '<label for="language-select">Idioma</label>' in page.text and 'id="language-select"' in page.text
    english = client.get("/", headers={"Accept-Language": "en-US"})
    assert '<html lang="en">' in english.text and "Start verification" in english.text


def test_switcher_changes_the_language_and_the_case_remembers_it(client: TestClient) -> None:
    a = Applicant(client)
    a.start("drivers_license")
    r = client.post("/language", data={"language": "es", "next": "/capture"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/capture"
    page = client.get("/capture", headers={"Accept-Language": "en"})  # the choice beats the browser's
    assert '<html lang="es">' in page.text and "Tomar foto" in page.text
    flow = json.loads(re.search(r'<script id="flow" type="application/json">(.*?)</script>', page.text, re.S)[1])
    assert flow["texts"]["title_document_front"] == "Fotografíe el anverso de su {document}"
    assert flow["document"] == "licencia de conducir de EE. UU."
    assert flow["server_texts"]["blink"] == "parpadee"
    with client.app.state.services.sessions() as db:  # type: ignore[attr-defined]
        case = db.get(Case, a.case_id)
        assert case is not None and case.language == "es"
    # an address off this site is never a target; an unknown language is refused
    off_site = client.post("/language", data={"language": "en", "next": "//evil.example/"}, follow_redirects=False)
    assert off_site.headers["location"] == "/"
    assert client.post("/language", data={"language": "xx"}).status_code == 422


def test_case_starts_in_the_browser_language_and_error_pages_follow_it(client: TestClient) -> None:
    client.headers["Accept-Language"] = "es"
    assert client.post("/start", follow_redirects=False).status_code == 303
    r = client.post(
        "/eligibility",
        data={"us_resident": "no", "adult": "yes", "document_type": "passport", "method": "online", "email": "a@b.co"},
    )
    assert r.status_code == 422 and "solo está disponible para residentes en EE. UU." in r.text
    client.cookies.clear()
    missing = client.get("/capture")
    assert missing.status_code == 404 and "No encontrado" in missing.text and "inicie una desde" in missing.text


def test_decision_email_is_in_the_case_language(client: TestClient) -> None:
    svc = client.app.state.services  # type: ignore[attr-defined]
    subjects = {}
    for language in ("es", None):
        with svc.sessions() as db:
            case, _ = create_case(svc, db, channel="web", actor="applicant", language=language)
            case.contact_email = "vendedora@example.org"
            for state in (CaseState.CAPTURING, CaseState.SUBMITTED, CaseState.IN_REVIEW, CaseState.APPROVED):
                transition(svc, db, case, state, "reviewer:ann")
            (message,) = notify.enqueue_decision(svc, db, case)
            subjects[language] = message.payload
            db.commit()
    spanish = subjects["es"]
    assert spanish["subject"] == "Su verificación de identidad: su identidad está verificada"
    assert spanish["text"].startswith("Hola:") and "Su referencia:" in spanish["text"]
    assert subjects[None]["subject"] == "Your identity verification: you are verified"


def test_api_errors_reach_the_applicants_browser_in_its_language(client: TestClient) -> None:
    a = Applicant(client)
    a.start("drivers_license")
    english = client.post(f"{a.api}/liveness/finish")
    assert english.status_code == 409 and english.json()["error"] == {
        "code": "no_liveness_session",
        "message": "no liveness session is running; start one first",
    }
    client.post("/language", data={"language": "es", "next": "/capture"})
    spanish = client.post(f"{a.api}/liveness/finish").json()["error"]
    assert spanish["code"] == "no_liveness_session"  # the code stays: integrators and scripts read it
    assert spanish["message"] == "no hay ninguna comprobación del rostro en curso; inicie una primero"


def test_default_decision_messages_are_rebuilt_in_spanish(client: TestClient) -> None:
    """The reviewer's default rejection / retake texts are stored in English and shown from translated parts."""
    from openidv.service.messages import localized_seller_message, rejection_message, retake_message

    def es(text: str) -> str:
        return i18n.gettext(Language.ES, text)

    reasons = ["document_expired", "face_mismatch"]
    assert localized_seller_message(rejection_message(reasons), reasons, None, es) == (
        "El documento está vencido. El rostro no coincide con la foto del documento."
    )
    retake = localized_seller_message(retake_message("document_back"), [], "document_back", es)
    assert retake == "Repita este paso: reverso de su documento."
    own_words = "Su foto salió oscura."
    assert localized_seller_message(own_words, reasons, None, es) == own_words  # a reviewer's own words stay


def test_video_call_times_are_written_in_the_page_language(client: TestClient) -> None:
    from datetime import datetime

    from openidv.service.orm import VideoSlot

    svc = client.app.state.services  # type: ignore[attr-defined]
    client.headers["Accept-Language"] = "es"
    client.post("/start")
    client.post("/video-call", data={"email": "vendedora@example.org"})
    with svc.sessions() as db:
        db.add(VideoSlot(starts_at=datetime(2030, 12, 2, 15, 30), duration_min=20, created_by="ada"))
        db.commit()
    page = client.get("/video-call").text
    assert "2 dic 2030, 15:30" in page and "20 min" in page and "Verifique su identidad en una videollamada" in page


def test_messages_with_values_are_translated_before_the_values_go_in(client: TestClient) -> None:
    """A refusal naming a step: the message and the step's label in Spanish, the code unchanged."""
    a = Applicant(client)
    a.start("drivers_license")
    client.post("/language", data={"language": "es"})
    error = a.capture("document_back", b"\xff\xd8\xff").json()["error"]
    assert error == {"code": "out_of_order", "message": "primero complete «Anverso de su documento»"}
    client.post("/language", data={"language": "en"})
    error = a.capture("document_back", b"\xff\xd8\xff").json()["error"]
    assert error["message"] == "complete 'Front of your document' first"


def test_switcher_on_a_page_answering_a_form_returns_to_the_form(client: TestClient) -> None:
    client.post("/start")
    refused = client.post(
        "/eligibility",
        data={"us_resident": "no", "adult": "yes", "document_type": "passport", "method": "online", "email": "a@b.co"},
        headers={"Referer": "http://testserver/eligibility"},
    )
    assert '<input type="hidden" name="next" value="/eligibility">' in refused.text
    elsewhere = client.post(
        "/eligibility",
        data={"us_resident": "no", "adult": "yes", "document_type": "passport", "method": "online", "email": "a@b.co"},
        headers={"Referer": "https://other.example/eligibility"},
    )
    assert elsewhere.status_code == 422 and '<input type="hidden" name="next" value="/">' in elsewhere.text
