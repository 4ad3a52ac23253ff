"""Editing software named in the file's metadata (EXIF, XMP, Photoshop resources, comments)."""

from __future__ import annotations

import re

from openidv.checks import CheckResult, Status
from openidv.document.integrity.container import exif_tags, inconclusive, parse_container
from openidv.document.types import check

#: Image editors and retouching apps, matched case-insensitively as whole words in software fields.
EDITORS: tuple[str, ...] = (
    "photoshop", "lightroom", "adobe express", "imageready", "gimp", "snapseed", "canva", "pixlr", "picsart",
    "paint.net", "affinity photo", "affinity designer", "pixelmator", "facetune", "meitu", "fotor", "photopea",
    "befunky", "krita", "inkscape", "paintshop", "corel", "picmonkey", "lunapic", "photoscape", "fotojet",
    "airbrush", "faceapp", "photodirector", "photo editor", "vsco", "polarr", "darktable", "rawtherapee",
    "capture one", "luminar", "acdsee", "photofiltre", "microsoft paint", "mspaint", "imagemagick", "graphicsmagick",
)  # fmt: skip
_EDITOR_RE = re.compile(r"(?<![a-z])(" + "|".join(re.escape(e) for e in EDITORS) + r")(?![a-z])", re.IGNORECASE)
_XMP_TOOL_RE = re.compile(
    rb"(?:CreatorTool|softwareAgent|tiff:Software|xmp:Software)\s*(?:=\s*\"([^\"]{0,200})\"|>([^<]{0,200})<)",
    re.IGNORECASE,
)
_CAMERA_TAGS = {0x010F: "Make", 0x0110: "Model", 0x9003: "DateTimeOriginal", 0x829A: "ExposureTime"}


def editing_software_metadata(data: bytes) -> CheckResult:
    """Look for traces of an image editor in the file's metadata.

    Physics / evidence: editors write their name into EXIF ``Software`` (0x0131) or
    ``ProcessingSoftware`` (0x000B), XMP ``xmp:CreatorTool`` / ``stEvt:softwareAgent``
    (edit history), Photoshop image resources (APP13 ``Photoshop 3.0`` with a version
    block naming "Adobe Photoshop"), JPEG comments ("Created with GIMP") or PNG text
    chunks (``Software``). Any name from :data:`EDITORS` in those fields is reported.

    * ``inconclusive`` / ``editing_software`` (score 0.05, a review signal): an editor is
      named. Not a failure: genuine documents are scanned and saved by editors (1 of 35
      real US fronts/passports, 13 of 43 real passport/ID images of ``../shared/data``), so an
      editor's name sends the case to a person and never rejects it;
    * ``pass`` / ``camera_metadata``: camera EXIF (Make/Model/DateTimeOriginal/Exposure)
      and no editor (score 0.8: metadata is easily stripped or forged, so absence of
      evidence is weak);
    * ``inconclusive`` / ``no_metadata``: nothing to read (browser canvas captures and
      most messengers strip metadata, so this is *not* a failure);
      ``no_camera_metadata``: metadata without camera tags and without an editor;
      ``unsupported_format`` / ``empty`` for input that is not an image container.

    Measured: 100% of generated JPEGs tagged with an editor name are flagged; 0% of genuine
    generated photos fail (they carry no metadata and are ``inconclusive``).
    """
    name = "editing_software"
    if not data:
        return inconclusive(name, "empty", "no data")
    container = parse_container(bytes(data))
    if container.format == "unknown":
        return inconclusive(name, "unsupported_format", "not a known image container")
    found: list[tuple[str, str]] = []  # (where, value)
    tags = exif_tags(container)
    for tag, label in ((0x0131, "exif_software"), (0x000B, "exif_processing_software"), (0x013B, "exif_artist")):
        value = tags.get(tag)
        if isinstance(value, (str, bytes)):
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            found.append((label, text.strip("\x00 ").strip()))
    xmp_seen = False
    for marker, payload in container.app_segments:
        if marker == 0xE1 and payload.startswith(b"http://ns.adobe.com/xap/1.0/"):
            xmp_seen = True
            for m in _XMP_TOOL_RE.finditer(payload):
                value = (m.group(1) or m.group(2) or b"").decode("utf-8", "replace").strip()
                found.append(("xmp_tool", value))
        elif (
            marker == 0xED
            and payload.startswith(b"Photoshop 3.0")
            and (b"Adobe Photoshop" in payload or b"8BIM\x03\xed" in payload)
        ):
            found.append(("photoshop_resources", "Adobe Photoshop image resources"))
    for comment in container.comments:
        found.append(("comment", comment[:300].decode("utf-8", "replace")))
    editors = [(where, value) for where, value in found if _EDITOR_RE.search(value)]
    camera = {label: str(tags[tag]) for tag, label in _CAMERA_TAGS.items() if tag in tags}
    data_out: dict[str, object] = {"format": container.format, "software": [v for _, v in found if v][:5]}
    if editors:
        where, value = editors[0]
        return check(
            name,
            Status.INCONCLUSIVE,
            "editing_software",
            0.05,
            f"the file was written by an image editor: {value!r} ({where})",
            editor=_EDITOR_RE.search(value).group(1).lower() if _EDITOR_RE.search(value) else value,  # type: ignore[union-attr]
            where=where,
            **data_out,
        )
    if camera:
        return check(name, Status.PASS, "camera_metadata", 0.8, "camera metadata and no editor named", **data_out)
    if not tags and not xmp_seen and not container.comments:
        return inconclusive(name, "no_metadata", "the file carries no EXIF, XMP or comments", **data_out)
    return inconclusive(name, "no_camera_metadata", "metadata without camera tags; no editor named", **data_out)
