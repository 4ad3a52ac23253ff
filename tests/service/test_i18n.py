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
from httpx import Response
from hypothesis import given
from hypothesis import strategies as st

from openidv.service import i18n, notify, page_texts
from openidv.service.cases import create_case
from openidv.service.i18n import Language, negotiate
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Case
from openidv.service.transitions import transition
from openidv.service.web import FORM_COOKIE
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


def _switch(client: TestClient, language: str, next_path: str | None = None) -> Response:
    """Post the switcher's form as the page has it: with this browser's form token."""
    token = client.cookies.get(FORM_COOKIE) or _form_token(client.get("/").text)
    form = {"language": language, "form_token": token} | ({"next": next_path} if next_path else {})
    return client.post("/language", data=form, follow_redirects=False)


def _form_token(page: str) -> str:
    found = re.search(r'name="form_token" value="([A-Za-z0-9_-]+)"', page)
    assert found is not None, page
    return found.group(1)


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
    r = _switch(client, "es", "/capture")
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
    off_site = _switch(client, "en", "//evil.example/")
    assert off_site.headers["location"] == "/"
    assert _switch(client, "xx").status_code == 422


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
    _switch(client, "es", "/capture")
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
    _switch(client, "es")
    error = a.capture("document_back", b"\xff\xd8\xff").json()["error"]
    assert error == {"code": "out_of_order", "message": "primero complete «Anverso de su documento»"}
    _switch(client, "en")
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


def test_the_switcher_refuses_a_form_without_this_browsers_token(client: TestClient) -> None:
    """CSRF: another site's form can post to /language but cannot send (or read) the form cookie."""
    a = Applicant(client)
    a.start("drivers_license")
    token = client.cookies.get(FORM_COOKIE)
    assert token and _form_token(client.get("/capture").text) == token  # the page repeats its cookie
    forged = [
        client.post("/language", data={"language": "es"}, follow_redirects=False),  # no field
        client.post("/language", data={"language": "es", "form_token": token[::-1]}, follow_redirects=False),
        TestClient(client.app).post("/language", data={"language": "es", "form_token": token}),  # no cookie
    ]
    assert [r.status_code for r in forged] == [403, 403, 403]
    assert all('data-code="csrf_failed"' in r.text for r in forged) and "reload the page" in forged[0].text
    assert all(i18n.LANGUAGE_COOKIE not in r.cookies for r in forged)
    with client.app.state.services.sessions() as db:  # type: ignore[attr-defined]
        case = db.get(Case, a.case_id)
        assert case is not None and case.language == "en"  # the case's language did not change
    assert _switch(client, "es").status_code == 303


def test_errors_with_values_reach_the_applicant_in_spanish(client: TestClient) -> None:
    """The refusals that name steps, a state or a file type: Spanish text, Spanish labels, codes unchanged."""
    import io

    from PIL import Image

    a = Applicant(client)
    a.start("drivers_license")
    english = client.post(f"{a.api}/submit").json()["error"]
    assert english == {
        "code": "incomplete",
        "message": "complete these steps first: Front of your document, Back of your document, Your face",
    }
    _switch(client, "es")
    incomplete = client.post(f"{a.api}/submit").json()["error"]
    assert incomplete == {
        "code": "incomplete",
        "message": "primero complete estos pasos: Anverso de su documento, Reverso de su documento, Su rostro",
    }
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    mislabelled = a.capture("document_front", png.getvalue(), "image/jpeg")
    assert mislabelled.status_code == 415
    assert mislabelled.json()["error"]["message"] == "el contenido es image/png, pero se declaró como image/jpeg"
    assert client.post(f"{a.api}/video-call", json={}).status_code == 200
    closed = a.capture("document_front", b"\xff\xd8\xff").json()["error"]
    assert closed == {
        "code": "not_capturing",
        "message": "esta verificación está a la espera de una videollamada; ya no admite más fotos",
    }
