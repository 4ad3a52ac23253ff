"""Real-world deviations of AAMVA payloads, rebuilt from the project's own encoder.

Licence barcodes in the wild bend the standard layout (see :mod:`openidv.document.aamva`):
keyboard-wedge scanners turn CR into CR LF and cannot type the record separator, issuers
miscount their own header (a missing jurisdiction version, a subfile length that leaves
out the designator, a directory of zeros or letters), vendors put characters between a
subfile's type and its first element, and some payloads carry a second DL subfile after
their jurisdiction one. :func:`deviate` writes one such deviation into a payload made by
:func:`~openidv.document.aamva.encode_subfiles`; :func:`sample_elements` draws a
plausible element set. Nothing here is copied from a real payload.

Everything is pure: a seeded :class:`random.Random` in, text out.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from enum import StrEnum

from openidv.document.aamva import encode_subfiles


class Deviation(StrEnum):
    """One way a genuine payload departs from the standard layout."""

    NONE = "none"
    HEADER_LF_RS = "header_lf_rs"  #: ``@ LF RS`` (the CR after the record separator lost)
    HEADER_LF_LF = "header_lf_lf"  #: ``@ LF LF`` (RS typed as LF, CR lost)
    HEADER_CR_LF = "header_cr_lf"  #: ``@ CR LF``
    KEYBOARD_CRLF = "keyboard_crlf"  #: every CR sent as CR LF (keyboard-wedge scanner)
    LOST_RECORD_SEPARATORS = "lost_record_separators"  #: every RS dropped
    LOST_SEGMENT_TERMINATORS = "lost_segment_terminators"  #: the CR ending each subfile dropped
    NO_JURISDICTION_VERSION = "no_jurisdiction_version"  #: header without it, offsets counted with it
    ENTRY_COUNT_MISCOUNT = "entry_count_miscount"  #: header announces one subfile more than listed
    NO_ENTRY_COUNT = "no_entry_count"  #: header ends after the jurisdiction version, offsets counted with it
    EMPTY_DIRECTORY = "empty_directory"  #: header announces 1 subfile, no directory, data follows
    OFFSETS_SHIFTED = "offsets_shifted"  #: every offset off by the same few characters
    LENGTH_MISCOUNT = "length_miscount"  #: the first subfile's length off, later offsets following it
    LENGTH_SHORT = "length_short"  #: lengths leave out the designator and the terminator
    ZERO_OFFSETS = "zero_offsets"  #: directory offsets written as 0000
    LETTER_OFFSETS = "letter_offsets"  #: directory offsets that are not digits
    VENDOR_PREFIX = "vendor_prefix"  #: characters between ``DL`` and the first element
    NO_DESIGNATOR = "no_designator"  #: the first subfile's ``DL`` left out, the directory unchanged
    ID_FOR_DL = "id_for_dl"  #: the directory lists ``DL``, the data says ``ID``
    PIPE_SEPARATORS = "pipe_separators"  #: every LF, CR and RS turned into ``|`` (a web form's input)
    BARE_Z_SUBFILE = "bare_z_subfile"  #: the ``Z*`` subfile's designator left out, the directory unchanged
    PADDING = "padding"  #: values and the payload padded with spaces
    SECOND_DL_AFTER_Z = "second_dl_after_z"  #: the DL elements split over DL, Z*, DL subfiles


#: Deviations that still leave every element readable (all of them but ``NONE``).
DEVIATIONS: tuple[Deviation, ...] = tuple(d for d in Deviation if d is not Deviation.NONE)

_FAMILY = ("GARCIA", "NGUYEN", "O'BRIEN", "SMITH-JONES", "MILLER", "DAVIS", "LOPEZ", "WALKER")
_GIVEN = ("MARIA", "JAMES", "LINH", "ROBERT", "AISHA", "DAVID", "EMILY", "JOSE")
_STREETS = ("12 OAK ST", "4500 W MAIN AVE", "77 LAKEVIEW DR APT 3", "1 PINE CT", "908 ELM BLVD")
_CITIES = ("SPRINGFIELD", "RIVERTON", "LAKE CITY", "FAIRVIEW", "GREENVILLE")


@dataclass(frozen=True)
class Sample:
    """A generated payload: its text, the elements it must parse to, and its header values."""

    text: str
    elements: dict[str, str]
    iin: str
    version: int
    jurisdiction_version: int
    deviation: Deviation


def _mdy(d: dt.date) -> str:
    return f"{d.month:02d}{d.day:02d}{d.year:04d}"


def sample_elements(rng: random.Random, state: str = "VA", today: dt.date | None = None) -> dict[str, str]:
    """A plausible version 08-10 US DL element set (MMDDCCYY dates), ``DDB`` among the last elements."""
    today = today or dt.date(2026, 1, 1)
    birth = today - dt.timedelta(days=rng.randint(19 * 365, 80 * 365))
    issue = today - dt.timedelta(days=rng.randint(30, 3 * 365))
    expiry = issue + dt.timedelta(days=8 * 365)
    return {
        "DAQ": f"{rng.choice('ABSTX')}{rng.randint(10**7, 10**8 - 1)}",
        "DCS": rng.choice(_FAMILY),
        "DDE": "N",
        "DAC": rng.choice(_GIVEN),
        "DDF": "N",
        "DAD": rng.choice(("ANN", "LEE", "NONE", "MARIE")),
        "DDG": "N",
        "DCA": "D",
        "DCB": "NONE",
        "DCD": "NONE",
        "DBD": _mdy(issue),
        "DBB": _mdy(birth),
        "DBA": _mdy(expiry),
        "DBC": rng.choice("12"),
        "DAU": f"{rng.randint(58, 76):03d} in",
        "DAY": rng.choice(("BRO", "BLU", "GRN", "HAZ")),
        "DAG": rng.choice(_STREETS),
        "DAI": rng.choice(_CITIES),
        "DAJ": state,
        "DAK": f"{rng.randint(10000, 99999)}0000",
        "DCF": f"{rng.randint(10**9, 10**10 - 1)}",
        "DCG": "USA",
        "DCK": f"{rng.randint(10**11, 10**12 - 1)}",
        "DDA": rng.choice("FN"),
        "DDB": _mdy(issue - dt.timedelta(days=rng.randint(200, 2000))),
    }


@dataclass
class _Layout:
    """The parts of a payload that deviations rewrite; :meth:`render` joins them."""

    prefix: str
    header: str  #: ``ANSI `` + IIN + versions + entry count
    entries: list[tuple[str, str, str]]  #: (type, offset text, length text)
    bodies: list[str]

    def render(self) -> str:
        return self.prefix + self.header + "".join(t + o + n for t, o, n in self.entries) + "".join(self.bodies)


def _layout(text: str, n_subfiles: int) -> _Layout:
    """Split a standard payload from :func:`encode_subfiles` into its parts."""
    dir_start = text.index("ANSI ") + 5 + 6 + 2 + 2 + 2
    entries = [
        (text[p : p + 2], text[p + 2 : p + 6], text[p + 6 : p + 10])
        for p in range(dir_start, dir_start + 10 * n_subfiles, 10)
    ]
    bodies = [text[int(o) : int(o) + int(n)] for _, o, n in entries]
    return _Layout(text[:4], text[4:dir_start], entries, bodies)


_Entries = list[tuple[str, str, str]]


def _move(entries: _Entries, offset_by: int = 0, first_length_by: int = 0) -> _Entries:
    out = []
    for i, (t, o, n) in enumerate(entries):
        shift = offset_by + (first_length_by if i > 0 else 0)
        length = int(n) + (first_length_by if i == 0 else 0)
        out.append((t, f"{int(o) + shift:04d}" if o.isdigit() else o, f"{length:04d}"))
    return out


#: Deviations that rewrite the same few characters (the first subfile's start, the Z subfile's
#: designator or terminator): two of one group together make a payload no issuer writes.
SAME_SPOT: tuple[frozenset[Deviation], ...] = (
    frozenset({Deviation.NO_DESIGNATOR, Deviation.VENDOR_PREFIX, Deviation.ID_FOR_DL}),
    frozenset({Deviation.BARE_Z_SUBFILE, Deviation.LOST_SEGMENT_TERMINATORS}),
    frozenset({Deviation.ZERO_OFFSETS, Deviation.LETTER_OFFSETS, Deviation.OFFSETS_SHIFTED}),
)


def deviate(
    elements: dict[str, str], deviation: Deviation | tuple[Deviation, ...], rng: random.Random, *, iin: str, jv: int = 1
) -> str:
    """A version 10 payload with ``elements`` (DL) and a ``Z`` subfile, showing ``deviation``
    (several, applied in order, when a tuple)."""
    deviations = deviation if isinstance(deviation, tuple) else (deviation,)
    main = [(k, v) for k, v in elements.items() if not k.startswith("Z")]
    zsub = ("Z" + _zletter(iin), [(k, v) for k, v in elements.items() if k.startswith("Z")])
    if Deviation.SECOND_DL_AFTER_Z in deviations:
        cut = rng.randint(1, len(main) - 1)
        subfiles = [("DL", main[:cut]), zsub, ("DL", main[cut:])]
    else:
        subfiles = [("DL", main), zsub]
    text = encode_subfiles(subfiles, iin=iin, version=10, jurisdiction_version=jv)
    lay = _layout(text, len(subfiles))
    for d in deviations:
        lay = _apply(lay, d, rng)
    return lay.render()


def _zletter(iin: str) -> str:
    from openidv.document.iin import lookup_iin

    j = lookup_iin(iin)
    return j.code[0] if j is not None else "X"


def _apply(lay: _Layout, deviation: Deviation, rng: random.Random) -> _Layout:
    d = Deviation
    if deviation is d.HEADER_LF_RS:
        lay.prefix = "@\n\x1e"
    elif deviation is d.HEADER_LF_LF:
        lay.prefix = "@\n\n"
    elif deviation is d.HEADER_CR_LF:
        lay.prefix = "@\r\n"
    elif deviation is d.KEYBOARD_CRLF:
        lay.prefix = "@\r\n\x1e\r\n"
        lay.bodies = [b.replace("\r", "\r\n") for b in lay.bodies]
    elif deviation is d.LOST_RECORD_SEPARATORS:
        lay.prefix = lay.prefix.replace("\x1e", "")
    elif deviation is d.LOST_SEGMENT_TERMINATORS:
        lay.bodies = [b.removesuffix("\r") for b in lay.bodies]
    elif deviation is d.NO_JURISDICTION_VERSION:
        lay.header = lay.header[:-4] + lay.header[-2:]
    elif deviation is d.NO_ENTRY_COUNT:
        lay.header = lay.header[:-2]
    elif deviation is d.ENTRY_COUNT_MISCOUNT:
        lay.header = lay.header[:-2] + f"{len(lay.entries) + 1:02d}"
    elif deviation is d.EMPTY_DIRECTORY:
        lay.header, lay.entries = lay.header[:-2] + "01", []
    elif deviation is d.OFFSETS_SHIFTED:
        lay.entries = _move(lay.entries, offset_by=rng.choice((-2, -1, 1, 2)))
    elif deviation is d.LENGTH_MISCOUNT:
        lay.entries = _move(lay.entries, first_length_by=rng.choice((-13, -3, 2, 9)))
    elif deviation is d.LENGTH_SHORT:
        lay.entries = [(t, o, f"{int(n) - 3:04d}") for t, o, n in lay.entries]
    elif deviation is d.ZERO_OFFSETS:
        lay.entries = [(t, "0000", n) for t, _, n in lay.entries]
    elif deviation is d.LETTER_OFFSETS:
        lay.entries = [(t, "abac", n) for t, _, n in lay.entries]
    elif deviation is d.VENDOR_PREFIX:
        prefix = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 6)))
        lay.bodies[0] = lay.bodies[0][:2] + prefix + lay.bodies[0][2:]
        lay.entries = _move(lay.entries, first_length_by=len(prefix))  # the issuer counts it
    elif deviation is d.NO_DESIGNATOR:
        lay.bodies[0] = lay.bodies[0][2:]
    elif deviation is d.PIPE_SEPARATORS:
        lay.prefix = "@|||"
        lay.bodies = [b.replace("\n", "|").replace("\r", "|") for b in lay.bodies]
    elif deviation is d.BARE_Z_SUBFILE:
        lay.bodies[1] = lay.bodies[1][2:]
    elif deviation is d.ID_FOR_DL:
        lay.bodies[0] = "ID" + lay.bodies[0][2:]
    elif deviation is d.PADDING:
        lay.bodies = [b.replace("\n", " " * rng.randint(1, 3) + "\n") for b in lay.bodies]
        lay.bodies[-1] += " " * rng.randint(1, 8)
    return lay


def make_sample(rng: random.Random, deviation: Deviation, *more: Deviation) -> Sample:
    """One payload of a random US issuer (version 10, a DL and a ``Z`` subfile) showing ``deviation``
    (and ``more``, applied after it)."""
    from openidv.document.iin import IIN_TABLE

    iin = rng.choice(sorted(i for i, j in IIN_TABLE.items() if j.is_us))
    state = IIN_TABLE[iin].code
    elements = sample_elements(rng, state)
    z = "Z" + state[0]
    elements.update({z + "A": f"{rng.randint(0, 99):02d}", z + "B": rng.choice(("N", "Y", "ORIGINAL"))})
    jv = rng.randint(0, 9)
    text = deviate(elements, (deviation, *more), rng, iin=iin, jv=jv)
    return Sample(text, elements, iin, 10, jv, deviation)


def generate(n_per_deviation: int, seed: int, deviations: tuple[Deviation, ...] = tuple(Deviation)) -> list[Sample]:
    """``n_per_deviation`` samples of each deviation (``NONE`` included by default), seeded."""
    rng = random.Random(seed)
    return [make_sample(rng, d) for d in deviations for _ in range(n_per_deviation)]
