"""Writing AAMVA payloads (for generated test documents and the format variants)."""

from __future__ import annotations

import re

from openidv.document.aamva.elements import ID_RE
from openidv.document.aamva.record import AamvaError

_HEADER_PREFIX = "@\n\x1e\r"


def encode_aamva(
    fields: dict[str, str],
    *,
    iin: str,
    version: int = 10,
    jurisdiction_version: int = 0,
    subfile_type: str = "DL",
) -> str:
    """A standard-conforming payload: ``@ LF RS CR``, ``ANSI `` header, directory with correct offsets.

    ``fields`` maps element IDs to values, in the order they are written; IDs starting
    with ``Z`` go to jurisdiction subfiles named by their first two letters (``ZVA`` ->
    subfile ``ZV``), the rest to ``subfile_type`` (``DL`` or ``ID``). Values must be
    printable ASCII. Offsets and lengths count characters (= bytes, the payload being
    ASCII); each subfile's length includes its type and its CR terminator. Raises
    :class:`AamvaError` on invalid arguments.
    """
    if not re.fullmatch(r"[A-Y][A-Z]", subfile_type):
        raise AamvaError(f"subfile type must be two letters not starting with Z, got {subfile_type!r}")
    groups: dict[str, list[tuple[str, str]]] = {subfile_type: []}
    for eid, value in fields.items():
        key = eid[:2] if eid.startswith("Z") else subfile_type
        groups.setdefault(key, []).append((eid, value))
    if not groups[subfile_type]:
        raise AamvaError(f"no element for the {subfile_type} subfile")
    return encode_subfiles(list(groups.items()), iin=iin, version=version, jurisdiction_version=jurisdiction_version)


def encode_subfiles(
    subfiles: list[tuple[str, list[tuple[str, str]]]],
    *,
    iin: str,
    version: int = 10,
    jurisdiction_version: int = 0,
) -> str:
    """A standard-conforming payload with the given subfiles, in order (type, [(element ID, value)]).

    Lets a payload carry several DL/ID subfiles (a second DL after a jurisdiction one).
    Offsets and lengths as in :func:`encode_aamva`; raises :class:`AamvaError` on invalid arguments.
    """
    _check_encoder_arguments(iin, version, jurisdiction_version)
    if not subfiles:
        raise AamvaError("no subfile")
    for stype, items in subfiles:
        if not re.fullmatch(r"[A-Z][A-Z0-9]", stype):
            raise AamvaError(f"subfile type must be two characters, got {stype!r}")
        for eid, value in items:
            if not ID_RE.fullmatch(eid):
                raise AamvaError(f"element ID must be 3 upper-case characters, got {eid!r}")
            if not all(" " <= c <= "~" for c in value):
                raise AamvaError(f"element {eid}: value must be printable ASCII")
    bodies = [t + "\n".join(eid + value for eid, value in items) + "\r" for t, items in subfiles]
    n = len(bodies)
    if n > 99:
        raise AamvaError("too many subfiles")
    head = _HEADER_PREFIX + "ANSI " + iin + f"{version:02d}" + (f"{jurisdiction_version:02d}" if version >= 2 else "")
    head += f"{n:02d}"
    offset = len(head) + 10 * n
    directory = ""
    for (t, _), body in zip(subfiles, bodies, strict=True):
        if offset > 9999 or len(body) > 9999:
            raise AamvaError("payload too long for 4-digit offsets")
        directory += f"{t}{offset:04d}{len(body):04d}"
        offset += len(body)
    return head + directory + "".join(bodies)


def _check_encoder_arguments(iin: str, version: int, jurisdiction_version: int) -> None:
    if not re.fullmatch(r"\d{6}", iin):
        raise AamvaError(f"IIN must be 6 digits, got {iin!r}")
    if not 1 <= version <= 99:
        raise AamvaError(f"version must be 1..99, got {version}")
    if not 0 <= jurisdiction_version <= 99:
        raise AamvaError(f"jurisdiction version must be 0..99, got {jurisdiction_version}")
