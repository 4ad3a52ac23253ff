"""AAMVA DL/ID barcode payloads (the PDF417 on the back of US/Canadian licences and ID cards).

A payload is text (ASCII) laid out as::

    @ <LF> <RS> <CR>                       compliance indicator + the 3 separators
    ANSI  IIN(6) VV JJ NN                  file type, issuer number, AAMVA version,
                                           jurisdiction version (v02+), number of entries
    {TT OOOO LLLL} x NN                    subfile directory: type, offset, length
    DL DAQ... <LF> DCS... <LF> ... <CR>    subfiles at those offsets (character offsets
    ZV ZVA... <CR>                         from the start of the payload)

Versions: 01 = AAMVA DL/ID-2000 (file type ``AAMVA`` or ``ANSI``, no jurisdiction
version, dates CCYYMMDD, full name in ``DAA``), 02/03 = 2003/2005 (``DCS`` family name,
``DCT`` given names), 04-10 = 2009-2020 (``DAC``/``DAD`` first/middle names,
truncation flags ``DDE``/``DDF``/``DDG``). From version 02 on dates are MMDDCCYY for US
issuers and CCYYMMDD for Canadian ones.

The parser here is written for real-world payloads: separators may be missing (then
elements are found by their known 3-letter IDs and the values' formats), CR and LF are
interchangeable, values carry trailing padding, the header may lack its jurisdiction
version or entry count, the directory may be empty, non-numeric or wrong (then subfiles
are found by their ``DL``/``ID``/``Z*`` designators, or by their first element when the
designator is missing), a subfile's data runs to the next subfile whatever its declared
length, subfiles the directory does not list are read too (a second DL after a
jurisdiction one; each element keeps its first non-empty value), vendor characters
before the first element are skipped. Whatever was repaired is named in
:attr:`AamvaRecord.deviations` (:class:`FormatDeviation`) and described in
:attr:`AamvaRecord.problems` for reviewers; :func:`validate_aamva` fails a payload only
when its data cannot be trusted. Unparseable input raises :class:`AamvaError`.
:mod:`openidv.synth.aamva_variants` rebuilds these deviations from the encoder.

Modules: :mod:`~.elements` (the element dictionary), :mod:`~.formats` (dates and value
formats), :mod:`~.record` (result types, repairs, canonical fields), :mod:`~.header`
(header and directory), :mod:`~.subfiles` (finding subfiles), :mod:`~.read` (a subfile's
elements), :mod:`~.unseparated` (splitting on element IDs), :mod:`~.parse`
(:func:`parse_aamva`), :mod:`~.validate` (:func:`validate_aamva`), :mod:`~.encode`.

Everything here is pure: strings in, dataclasses out.
"""

from openidv.document.aamva.elements import DATE_ELEMENTS, ELEMENTS, MAX_PAYLOAD_CHARS, element_name
from openidv.document.aamva.encode import encode_aamva, encode_subfiles
from openidv.document.aamva.formats import date_order_mismatch, parse_aamva_date
from openidv.document.aamva.parse import parse_aamva
from openidv.document.aamva.record import (
    SERIOUS_DEVIATIONS,
    AamvaError,
    AamvaHeader,
    AamvaRecord,
    AamvaSubfile,
    FormatDeviation,
    SubfileEntry,
)
from openidv.document.aamva.validate import validate_aamva

__all__ = [
    "DATE_ELEMENTS",
    "ELEMENTS",
    "MAX_PAYLOAD_CHARS",
    "SERIOUS_DEVIATIONS",
    "AamvaError",
    "AamvaHeader",
    "AamvaRecord",
    "AamvaSubfile",
    "FormatDeviation",
    "SubfileEntry",
    "date_order_mismatch",
    "element_name",
    "encode_aamva",
    "encode_subfiles",
    "parse_aamva",
    "parse_aamva_date",
    "validate_aamva",
]
