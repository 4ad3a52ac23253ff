"""Genuine and forged synthetic documents, photographed, for the forgery evaluation.

Every document is generated from a random :class:`Person` and real portrait photos,
printed on a synthetic card or passport page and photographed by the camera simulation
(tilt up to 30 degrees, blur 0.5-1.5 px, noise 2-6 grey levels, JPEG quality 40-95,
and half the time a browser re-encode at 85-92). Forgery types:

* ``portrait_swapped``: another person's portrait pasted over the photo's portrait
  (a digital edit with its own JPEG history);
* ``birth_date_altered``: the card's printed birth date differs from the barcode's
  (an altered or fake card whose barcode was left untouched);
* ``barcode_other_person``: the back's barcode belongs to someone else;
* ``pasted_text_patch``: a printed value re-typed and pasted into the photo (digital);
* ``broken_check_digit``: a passport whose MRZ has a wrong check digit;
* ``expired``: a consistent document past its expiry date;
* ``under_18``: a consistent document of a 15-17 year old;
* ``screen_recapture``: the genuine photo shown on a screen and photographed again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from openidv.document.aamva import encode_aamva
from openidv.document.iin import iin_for
from openidv.document.mrz import break_check_digit, generate_mrz
from openidv.imaging import encode_jpeg
from openidv.synth import back as synth_back
from openidv.synth import document as synth
from openidv.synth import tamper

FORGERY_TYPES = (
    "portrait_swapped",
    "birth_date_altered",
    "barcode_other_person",
    "pasted_text_patch",
    "broken_check_digit",
    "expired",
    "under_18",
    "screen_recapture",
)

_FAMILY = (
    "RIVERA",
    "NGUYEN",
    "JOHNSON",
    "PATEL",
    "KOWALSKI",
    "OKAFOR",
    "MARTINEZ",
    "LINDQVIST",
    "HASSAN",
    "BROOKS",
    "TANAKA",
    "OCONNOR",
    "FERREIRA",
    "MORALES",
    "KIMURA",
    "ABERNATHY",
)
_GIVEN = (
    "DANA",
    "MARCUS",
    "PRIYA",
    "ELENA",
    "JAMAL",
    "SOFIA",
    "OWEN",
    "LEILA",
    "VICTOR",
    "HANNAH",
    "TOMAS",
    "GRACE",
    "RAFAEL",
    "NADIA",
    "CALEB",
    "IRIS",
)
_STATES = (
    ("VIRGINIA", "VA", "RICHMOND"),
    ("TEXAS", "TX", "AUSTIN"),
    ("NEW YORK", "NY", "ALBANY"),
    ("FLORIDA", "FL", "MIAMI"),
    ("COLORADO", "CO", "DENVER"),
    ("OREGON", "OR", "SALEM"),
)


@dataclass(frozen=True)
class Person:
    family_name: str
    given_name: str
    middle_name: str
    birth_date: date
    issue_date: date
    expiry_date: date
    number: str
    sex: str  #: "M" or "F"
    state: str  #: full name, e.g. "VIRGINIA"
    state_code: str
    city: str
    street: str
    postal_code: str


@dataclass(frozen=True, eq=False)
class SyntheticDocument:
    label: str  #: "genuine" or one of FORGERY_TYPES
    kind: str  #: "us_dl" or "passport"
    front: bytes  #: the uploaded front photo (JPEG)
    back: bytes | None  #: the uploaded back photo, for licences
    person: Person


def random_person(
    rng: np.random.Generator, today: date, *, age: tuple[int, int] = (19, 80), expired: bool = False
) -> Person:
    years = int(rng.integers(age[0], age[1] + 1))
    birth = today - timedelta(days=int(365.25 * years + rng.integers(30, 330)))
    if expired:
        expiry = today - timedelta(days=int(rng.integers(30, 1500)))
        issue = expiry - timedelta(days=365 * 8)
    else:
        issue = today - timedelta(days=int(rng.integers(30, 365 * 6)))
        expiry = issue + timedelta(days=365 * 8)
    if issue <= birth:  # a young holder: the document was issued recently
        issue = birth + timedelta(days=365 * 15)
    state, code, city = _STATES[int(rng.integers(len(_STATES)))]
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    number = letters[int(rng.integers(len(letters)))] + "".join(str(int(d)) for d in rng.integers(0, 10, size=8))
    return Person(
        family_name=str(rng.choice(_FAMILY)),
        given_name=str(rng.choice(_GIVEN)),
        middle_name=str(rng.choice(_GIVEN)),
        birth_date=birth,
        issue_date=issue,
        expiry_date=expiry,
        number=number,
        sex=str(rng.choice(["M", "F"])),
        state=state,
        state_code=code,
        city=city,
        street=f"{int(rng.integers(10, 9999))} {rng.choice(['OAK AVE', 'MAIN ST', 'LAKE DR', 'PINE RD'])}",
        postal_code=f"{int(rng.integers(10000, 99999))}",
    )


def card_fields(p: Person) -> synth.CardFields:
    return synth.CardFields(
        family_name=p.family_name,
        given_names=f"{p.given_name} {p.middle_name}",
        birth_date=_us(p.birth_date),
        expiry_date=_us(p.expiry_date),
        issue_date=_us(p.issue_date),
        number=p.number,
        state=p.state,
    )


def aamva_elements(p: Person) -> dict[str, str]:
    return {
        "DCA": "D", "DCB": "NONE", "DCD": "NONE", "DBA": _aamva_date(p.expiry_date), "DCS": p.family_name,
        "DAC": p.given_name, "DAD": p.middle_name, "DBD": _aamva_date(p.issue_date),
        "DBB": _aamva_date(p.birth_date), "DBC": "1" if p.sex == "M" else "2", "DAY": "BRO", "DAU": "068 IN",
        "DAG": p.street, "DAI": p.city, "DAJ": p.state_code, "DAK": p.postal_code + "0000", "DAQ": p.number,
        "DCF": p.number[1:] + p.issue_date.strftime("%y%m%d"), "DCG": "USA", "DDE": "N", "DDF": "N",
        "DDG": "N",
    }  # fmt: skip


def dl_back_photo(p: Person, rng: np.random.Generator) -> bytes:
    payload = encode_aamva(aamva_elements(p), iin=iin_for(p.state_code) or "636000")
    card = synth_back.render_dl_back(payload, rng)
    return _camera(card, rng)


def passport_photo(p: Person, portrait: np.ndarray, rng: np.random.Generator, *, broken: str | None = None) -> bytes:
    lines = generate_mrz(
        "TD3",
        issuing_state="USA",
        family_name=p.family_name,
        given_names=f"{p.given_name} {p.middle_name}",
        document_number=p.number[1:],
        nationality="USA",
        birth_date=p.birth_date,
        sex=p.sex,
        expiry_date=p.expiry_date,
    )
    if broken is not None:
        lines = break_check_digit(lines, broken)
    page = synth.render_passport_page(
        portrait,
        lines,
        rng,
        synth.PassportFields(
            family_name=p.family_name,
            given_names=f"{p.given_name} {p.middle_name}",
            number=p.number[1:],
            birth_date=_passport_date(p.birth_date),
            sex=p.sex,
            issue_date=_passport_date(p.issue_date),
            expiry_date=_passport_date(p.expiry_date),
        ),
    )
    return _camera(page, rng)


def generate(
    label: str, rng: np.random.Generator, portraits: list[np.ndarray], today: date, *, kind: str | None = None
) -> SyntheticDocument:
    """One document of the given label ("genuine" or a forgery type)."""
    if label not in ("genuine", *FORGERY_TYPES):
        raise ValueError(f"unknown label {label!r}")
    portrait = portraits[int(rng.integers(len(portraits)))]
    if label == "broken_check_digit" or (label == "genuine" and kind == "passport"):
        p = random_person(rng, today)
        broken = str(rng.choice(["number", "dob", "expiry", "composite"])) if label != "genuine" else None
        return SyntheticDocument(label, "passport", passport_photo(p, portrait, rng, broken=broken), None, p)
    p = random_person(rng, today, age=(15, 17) if label == "under_18" else (19, 80), expired=label == "expired")
    printed = card_fields(p)
    if label == "birth_date_altered":
        shifted = p.birth_date - timedelta(days=int(rng.integers(366, 365 * 6)))
        printed = replace(printed, birth_date=_us(shifted))
    sample = tamper.genuine_sample(portrait, rng, printed)
    front = sample.data
    if label == "portrait_swapped":
        others = [x for x in portraits if x is not portrait] or [np.ascontiguousarray(portrait[:, ::-1])]
        other = others[int(rng.integers(len(others)))]
        front = tamper.paste_patch(
            sample.photo,
            sample.regions["portrait"],
            other,
            rng,
            int(rng.integers(60, 96)),
            quality=int(rng.integers(85, 93)),
            mask=sample.masks["portrait"],
        )
    elif label == "pasted_text_patch":
        field = str(rng.choice(["birth_date", "family_name", "number"]))
        key = field if field in sample.regions else "birth_date"
        new_value = {
            "birth_date": _us(p.birth_date - timedelta(days=365 * 3)),
            "family_name": str(rng.choice(_FAMILY)),
            "number": p.number[::-1],
        }.get(key, "01/01/1970")
        patch = tamper.retyped_text_patch(sample.photo, sample.regions[key], new_value, rng)
        front = tamper.paste_patch(
            sample.photo, sample.regions[key], patch, rng, int(rng.integers(60, 96)), quality=int(rng.integers(85, 93))
        )
    elif label == "screen_recapture":
        front = tamper.screen_recapture(sample.photo, rng)
    back_person = random_person(rng, today) if label == "barcode_other_person" else p
    return SyntheticDocument(label, "us_dl", front, dl_back_photo(back_person, rng), p)


def _camera(card: np.ndarray, rng: np.random.Generator) -> bytes:
    """Photograph, then upload: the camera's JPEG as is, or half the time a browser re-encode."""
    quality = int(rng.integers(40, 96))
    photo = synth.photograph(
        card,
        rng,
        max_tilt_deg=float(rng.uniform(0, 30)),
        card_fraction=float(rng.uniform(0.6, 0.8)),
        blur_sigma=float(rng.uniform(0.5, 1.5)),
        noise_sigma=float(rng.uniform(2, 6)),
        jpeg_quality=quality,
    )
    if rng.random() < 0.5:
        quality = int(rng.integers(85, 93))
    return encode_jpeg(photo, quality)  # at the camera's quality this re-encode is near-lossless


def _us(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def _aamva_date(d: date) -> str:
    return d.strftime("%m%d%Y")


def _passport_date(d: date) -> str:
    return d.strftime("%d %b %Y").upper()
