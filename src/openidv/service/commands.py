"""The service's subcommands of ``openidv``: ``serve``, ``apikey``, ``purge``."""

from __future__ import annotations

import argparse
import hashlib
import secrets
from typing import Any

from sqlalchemy import select

from openidv.errors import OpenIDVError


class CommandError(OpenIDVError):
    code = "command_failed"


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", help="run the verification service (web pages + JSON API)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--ssl-certfile", default=None, help="TLS certificate (PEM); serve HTTPS")
    p.add_argument("--ssl-keyfile", default=None, help="TLS private key (PEM)")
    p.add_argument("--log-level", default="info")
    p.set_defaults(handler=_cmd_serve, json=False)

    ak = sub.add_parser("apikey", help="manage API keys for integrators")
    aksub = ak.add_subparsers(title="apikey commands", metavar="ACTION")
    p = aksub.add_parser("create", parents=[common], help="create a key (printed once; only its hash is stored)")
    p.add_argument("name")
    p.set_defaults(handler=_cmd_apikey_create)
    p = aksub.add_parser("revoke", parents=[common], help="revoke a key by name")
    p.add_argument("name")
    p.set_defaults(handler=_cmd_apikey_revoke)

    p = sub.add_parser(
        "purge",
        parents=[common],
        help="expire stale cases and delete the images of cases past their retention date now",
    )
    p.set_defaults(handler=_cmd_purge)


def _services() -> Any:
    from openidv.service.app import build_services
    from openidv.service.settings import ServiceSettings

    return build_services(ServiceSettings())


def _cmd_serve(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    import logging

    import uvicorn

    from openidv.service.app import create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    scheme = "https" if args.ssl_certfile else "http"
    print(f"openidv: serving on {scheme}://{args.host}:{args.port}/  (API docs: /docs)", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        log_level=args.log_level,
        workers=1,
    )
    return {}, "openidv: stopped"


def _cmd_apikey_create(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.orm import ApiKey

    svc = _services()
    raw = "oidv_" + secrets.token_urlsafe(32)
    with svc.sessions() as db:
        if db.scalar(select(ApiKey).where(ApiKey.name == args.name)) is not None:
            raise CommandError(f"an API key named {args.name!r} exists already")
        db.add(ApiKey(name=args.name, prefix=raw[:9], key_hash=hashlib.sha256(raw.encode()).hexdigest()))
        db.commit()
    return {"name": args.name, "key": raw}, f"API key {args.name}: {raw}\n(shown once; store it now)"


def _cmd_apikey_revoke(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.orm import ApiKey, utcnow

    svc = _services()
    with svc.sessions() as db:
        key = db.scalar(select(ApiKey).where(ApiKey.name == args.name))
        if key is None:
            raise CommandError(f"no API key named {args.name!r}")
        key.revoked_at = utcnow()
        db.commit()
    return {"name": args.name, "revoked": True}, f"revoked {args.name}"


def _cmd_purge(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.retention import expire_stale, purge_due

    svc = _services()
    expired = expire_stale(svc)
    n = purge_due(svc)
    return {"expired_cases": expired, "purged_cases": n}, f"expired {expired} case(s); purged the images of {n} case(s)"
