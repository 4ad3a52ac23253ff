"""Outbound HTTP to addresses integrators choose (webhooks): public addresses only.

A webhook URL must not reach the service's own network: a name that resolves to a
loopback, private, link-local (cloud metadata, 169.254.169.254), shared, reserved or
multicast address is refused when it is registered and again when each delivery
connects. The delivery connects to the address it checked (the URL's host is resolved
once, then the request goes to that IP with the original ``Host`` and TLS server name),
so a name that changes its answer between the check and the connection (DNS rebinding)
gains nothing. Only ``https`` is accepted outside development.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

#: response bytes read (and counted) at most; the body itself is never kept
MAX_RESPONSE_READ = 1024 * 1024


class EgressRefusedError(Exception):
    """The URL may not be called (scheme, or an address that is not public)."""


class UnresolvedError(EgressRefusedError):
    """The host name does not resolve (now)."""


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses ``host`` resolves to; refused when any is not public (unless ``allow_private``)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvedError(f"{host} does not resolve: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    private = [a for a in addresses if not is_public(a)]
    if private and not allow_private:
        raise EgressRefusedError(f"{host} resolves to {private[0]}, which is not a public address")
    if not addresses:
        raise UnresolvedError(f"{host} does not resolve")
    return addresses


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int


def check_url(url: str, *, development: bool, unresolved_ok: bool = False) -> Target:
    """Parse and check a webhook URL: absolute, https (http only in development), public host.

    ``unresolved_ok``: a name that does not resolve yet passes (registration; every delivery
    checks again and refuses it then)."""
    parts = urlsplit(url)
    allowed = ("https", "http") if development else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise EgressRefusedError(f"the URL must be an absolute {' or '.join(allowed)} URL")
    if parts.username or parts.password:
        raise EgressRefusedError("the URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise EgressRefusedError(f"bad port: {exc}") from exc
    target = Target(url, parts.scheme, parts.hostname, port)
    try:
        resolve(target.host, target.port, allow_private=development)
    except UnresolvedError:
        if not unresolved_ok:
            raise
    return target


@dataclass(frozen=True)
class Reply:
    status: int
    size: int  #: response bytes read (at most MAX_RESPONSE_READ + one chunk)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float, development: bool) -> Reply:
    """POST ``body`` to ``url`` on an address checked now; the answer's status and size only."""
    target = check_url(url, development=development)
    address = resolve(target.host, target.port, allow_private=development)[0]
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{literal}:{target.port}", parts.path or "/", parts.query, ""))
    default_port = target.port == (443 if target.scheme == "https" else 80)
    host_header = target.host if default_port else f"{target.host}:{target.port}"
    with httpx.Client(trust_env=False, timeout=timeout_s, follow_redirects=False) as client:
        request = client.build_request(
            "POST",
            pinned,
            content=body,
            headers={**headers, "Host": host_header},
            extensions={"sni_hostname": target.host},
        )
        response = client.send(request, stream=True)
        try:
            size = 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > MAX_RESPONSE_READ:
                    break
        finally:
            response.close()
    return Reply(response.status_code, size)
