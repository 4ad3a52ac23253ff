"""Languages of the applicant's pages and emails: gettext catalogs made with Babel.

The catalogs' source is ``service/locale/<lang>/LC_MESSAGES/messages.po`` (English is the
msgid itself). Each is compiled in memory with Babel once per process, so a fresh checkout
needs no build step. The page language is, in order: the switcher's cookie, then the
browser's ``Accept-Language``; a case remembers it (``cases.language``) for its emails.
Texts in Python modules are marked with :func:`N_` (extracted, translated when shown).
"""

from __future__ import annotations

import io
from enum import StrEnum
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGE_COOKIE = "openidv_lang"


class Language(StrEnum):
    """A language the applicant can read the service in (ISO 639-1 code)."""

    EN = "en"
    ES = "es"


DEFAULT_LANGUAGE = Language.EN
#: each language's name in itself, for the switcher
LANGUAGE_NAMES: dict[Language, str] = {Language.EN: "English", Language.ES: "Español"}


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional marker name)
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def po_path(language: Language) -> Path:
    return LOCALE_DIR / language.value / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: Language) -> NullTranslations:
    """The catalog of ``language``, compiled from its ``.po`` once per process (English: identity)."""
    if language is DEFAULT_LANGUAGE:
        return NullTranslations()
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language.value, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(language: Language, message: str) -> str:
    """``message`` in ``language``; an empty message stays empty (gettext would return the header)."""
    return translations(language).gettext(message) if message else message


def parse_language(value: str | None) -> Language | None:
    """A supported language from a code such as ``es``, ``es-MX`` or ``ES_es``; None otherwise."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    try:
        return Language(primary)
    except ValueError:
        return None


def negotiate(accept_language: str | None) -> Language:
    """The best supported language of an ``Accept-Language`` header (RFC 9110 q-values); else English."""
    ranked: list[tuple[float, int, Language]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        code, _, params = item.partition(";")
        language = parse_language(code)
        if language is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
