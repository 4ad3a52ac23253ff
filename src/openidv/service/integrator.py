"""Returning the applicant to the integrator's site: the per-key allow-list of return URLs.

An integrator registers the addresses it may send applicants back to with
``openidv apikey return-urls NAME URL...``. A case created with ``return_url`` must match
one of them (:func:`allowed`), or the request is refused with 422 ``return_url_not_allowed``.
After submit, or after the applicant declines for a video call, the applicant's browser is
sent to :func:`return_target`: the ``return_url`` with ``case_id`` and ``state`` added to its
query. The case token never goes into that address.

Matching rule: same scheme, same host (case-insensitive), same port (default ports filled in),
and the return URL's path starts with the allowed path at a ``/`` boundary (``/done`` allows
``/done`` and ``/done/x``, not ``/doneX``). Any query is allowed; fragments and user names
in URLs are refused. Plain ``http`` only for loopback hosts (development).
"""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from openidv.service.errors import UnprocessableError
from openidv.service.orm import ApiKey, Case

MAX_URL_LENGTH = 2000
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ReturnUrlError(UnprocessableError):
    """A return URL (or an allow-list entry) that is malformed or not allowed (422)."""

    code = "bad_return_url"


def parse_url(url: str) -> SplitResult:
    """Split an absolute http(s) URL; refuse relative URLs, user names, fragments and plain http off loopback."""
    if len(url) > MAX_URL_LENGTH:
        raise ReturnUrlError(f"a return URL is limited to {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ReturnUrlError("a return URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ReturnUrlError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ReturnUrlError("a return URL must be an absolute http(s) URL")
    if parts.username is not None or "@" in parts.netloc:
        raise ReturnUrlError("a return URL may not carry a user name or password")
    if parts.fragment or url.endswith("#"):
        raise ReturnUrlError("a return URL may not have a #fragment")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ReturnUrlError("a return URL must use https (plain http only for localhost)")
    return parts


def _origin(parts: SplitResult) -> tuple[str, str, int]:
    return parts.scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS[parts.scheme]


def _path_within(path: str, prefix: str) -> bool:
    path, prefix = path or "/", prefix or "/"
    if prefix.endswith("/"):
        return path.startswith(prefix) or path == prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def allowed(url: str, allow_list: list[str]) -> bool:
    """Whether ``url`` falls under one entry of ``allow_list`` (see the module docstring)."""
    parts = parse_url(url)
    for entry in allow_list:
        base = urlsplit(entry)
        if _origin(parts) == _origin(base) and _path_within(parts.path, base.path):
            return True
    return False


def normalise_allow_list(urls: list[str]) -> list[str]:
    """Validate allow-list entries (absolute http(s), no query or fragment); duplicates dropped, order kept."""
    out: list[str] = []
    for url in urls:
        parts = parse_url(url)
        if parts.query:
            raise ReturnUrlError(f"an allowed return URL is a prefix without ?query: {url}")
        if url not in out:
            out.append(url)
    return out


def check_return_url(url: str, allow_list: list[str] | None, key_name: str) -> str:
    """``url`` if the API key ``key_name`` may send applicants there; 422 ``return_url_not_allowed`` if not."""
    if not allow_list:
        raise ReturnUrlError(
            f"API key {key_name!r} has no allowed return URLs; set them with 'openidv apikey return-urls'",
            code="return_url_not_allowed",
        )
    if not allowed(url, allow_list):
        raise ReturnUrlError("return_url is not on this API key's allow-list", code="return_url_not_allowed")
    return url


def return_target(return_url: str, case_id: str, state: str) -> str:
    """``return_url`` with ``case_id`` and ``state`` set in its query (earlier values of those names replaced)."""
    parts = urlsplit(return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("case_id", "state")]
    query += [("case_id", case_id), ("state", state)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def return_redirect(case: Case) -> str | None:
    """Where the applicant's browser goes now (the case's ``return_url`` with id and state), or None."""
    return return_target(case.return_url, case.id, case.state) if case.return_url else None


def api_key_of(db: Session, channel: str) -> ApiKey | None:
    """The API key behind a case channel ``api:<name>`` (None for ``web``)."""
    if not channel.startswith("api:"):
        return None
    return db.scalar(select(ApiKey).where(ApiKey.name == channel.removeprefix("api:")))


def checked_return_url(db: Session, channel: str, url: str | None) -> str | None:
    """``url`` when the caller's API key allows it (None passes through); 422 otherwise."""
    if url is None:
        return None
    key = api_key_of(db, channel)
    if key is None:
        raise ReturnUrlError("return_url needs an API key", code="return_url_not_allowed")
    return check_return_url(url, key.return_urls, key.name)


def set_return_urls(api_key: ApiKey, urls: list[str]) -> list[str]:
    """Replace ``api_key``'s allow-list with ``urls`` (validated; empty clears it). The caller commits."""
    api_key.return_urls = normalise_allow_list(urls) or None
    return list(api_key.return_urls or [])
