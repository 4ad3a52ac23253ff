"""The service's subcommands of ``openidv``.

``serve``, ``worker``, ``db upgrade``, ``apikey``, ``users``, ``purge``, ``erase``, ``keys`` (``generate``,
``rotate``), ``report``.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
from pathlib import Path
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

    p = sub.add_parser(
        "worker", help="run the job queue's worker: analyses, outbox, retention (OPENIDV_JOB_QUEUE=procrastinate)"
    )
    p.add_argument("--concurrency", type=int, default=1, help="jobs run at the same time (threads; default 1)")
    p.add_argument("--log-level", default="info")
    p.set_defaults(handler=_cmd_worker, json=False)

    dbp = sub.add_parser("db", help="the database schema")
    dbsub = dbp.add_subparsers(title="db commands", metavar="ACTION")
    p = dbsub.add_parser("upgrade", parents=[common], help="apply the migrations (alembic upgrade head); then exit")
    p.set_defaults(handler=_cmd_db_upgrade)

    ak = sub.add_parser("apikey", help="manage API keys for integrators")
    aksub = ak.add_subparsers(title="apikey commands", metavar="ACTION")
    p = aksub.add_parser("create", parents=[common], help="create a key (printed once; only its hash is stored)")
    p.add_argument("name")
    p.set_defaults(handler=_cmd_apikey_create)
    p = aksub.add_parser("webhook", parents=[common], help="set (or --clear) the URL decisions are POSTed to")
    p.add_argument("name")
    p.add_argument("url", nargs="?", default=None)
    p.add_argument("--clear", action="store_true")
    p.set_defaults(handler=_cmd_apikey_webhook)
    p = aksub.add_parser(
        "return-urls",
        parents=[common],
        help="set (or --clear) the URL prefixes this key's cases may send applicants back to",
    )
    p.add_argument("name")
    p.add_argument("urls", nargs="*", metavar="URL", help="absolute https URL prefix (http only for localhost)")
    p.add_argument("--clear", action="store_true")
    p.set_defaults(handler=_cmd_apikey_return_urls)
    p = aksub.add_parser("revoke", parents=[common], help="revoke a key by name")
    p.add_argument("name")
    p.set_defaults(handler=_cmd_apikey_revoke)

    us = sub.add_parser("users", help="manage reviewer and admin accounts")
    ussub = us.add_subparsers(title="users commands", metavar="ACTION")
    p = ussub.add_parser("add", parents=[common], help="create an account (prompts for the password when not given)")
    p.add_argument("name")
    p.add_argument("--role", choices=["reviewer", "admin"], required=True)
    p.add_argument(
        "--password", default=None, help="the password (prefer the prompt: arguments end up in shell history)"
    )
    p.set_defaults(handler=_cmd_users_add)
    for action, text in (
        ("disable", "disable an account and end its login sessions"),
        ("enable", "enable a disabled account"),
        ("revoke", "end every login session of an account"),
    ):
        p = ussub.add_parser(action, parents=[common], help=text)
        p.add_argument("name")
        p.set_defaults(handler=_cmd_users_change, action=action)
    p = ussub.add_parser("passwd", parents=[common], help="set a new password (unlocks, ends the sessions)")
    p.add_argument("name")
    p.add_argument("--password", default=None, help="the password (prefer the prompt)")
    p.set_defaults(handler=_cmd_users_change, action="passwd")

    p = sub.add_parser(
        "purge",
        parents=[common],
        help="expire stale cases and delete the images of cases past their retention date now",
    )
    p.set_defaults(handler=_cmd_purge)

    p = sub.add_parser(
        "erase",
        parents=[common],
        help="erase one case now, in any state: images, key and personal fields (an audit record stays)",
    )
    p.add_argument("case_id")
    p.add_argument("--reason", default="", help="why (kept in the audit record), e.g. 'request by email 2026-12-01'")
    p.set_defaults(handler=_cmd_erase)

    ks = sub.add_parser("keys", help="master keys (envelope encryption)")
    kssub = ks.add_subparsers(title="keys commands", metavar="ACTION")
    p = kssub.add_parser("generate", parents=[common], help="write a new key file (0600) for OPENIDV_KEY_FILE")
    p.add_argument("path", type=Path)
    p.add_argument("--key-id", default="k1")
    p.set_defaults(handler=_cmd_keys_generate)
    p = kssub.add_parser(
        "rotate",
        parents=[common],
        help="add a new master key to the key file and re-wrap every data key under it (the service may run)",
    )
    p.add_argument("--key-id", default=None, help="id of the new key (default: k<UTC time>)")
    p.set_defaults(handler=_cmd_keys_rotate)

    rp = sub.add_parser("report", help="reports on recorded cases")
    rpsub = rp.add_subparsers(title="reports", metavar="WHICH")
    p = rpsub.add_parser(
        "agreement",
        parents=[common],
        help="system vs reviewer: confusion matrix, error estimates, automation rate per threshold setting",
    )
    p.add_argument("--plot", type=Path, default=None, help="write the chart (PNG) to this file")
    p.set_defaults(handler=_cmd_report_agreement)


class KeyFileRequiredCommandError(CommandError):
    code = "key_file_required"


def _services() -> Any:
    from openidv.service.app import build_services
    from openidv.service.crypto import CryptoError, KeyFileRequiredError
    from openidv.service.settings import ServiceSettings

    try:
        return build_services(ServiceSettings())
    except KeyFileRequiredError as exc:
        raise KeyFileRequiredCommandError(str(exc)) from exc
    except CryptoError as exc:
        raise CommandError(f"the master key file cannot be used: {exc}") from exc


def _cmd_serve(args: argparse.Namespace) -> tuple[dict[str, Any], str]:

    import uvicorn

    from openidv.service.app import create_app
    from openidv.service.guards import slow_header_protocol
    from openidv.service.logs import configure_logging, uvicorn_log_config
    from openidv.service.settings import ServiceSettings

    log_format = ServiceSettings().log_format
    configure_logging(log_format, args.log_level)
    app = create_app(services=_services())
    settings = app.state.settings
    scheme = "https" if args.ssl_certfile else "http"
    docs = "/docs" if settings.api_docs else "/openapi.json; OPENIDV_API_DOCS=true serves /docs"
    print(f"openidv: serving on {scheme}://{args.host}:{args.port}/  (API docs: {docs})", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        log_level=args.log_level,
        log_config=uvicorn_log_config(log_format),
        workers=1,
        http=slow_header_protocol(settings.header_timeout_s),
    )
    return {}, "openidv: stopped"


def _cmd_worker(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.logs import configure_logging
    from openidv.service.settings import JobQueueKind, ServiceSettings
    from openidv.service.worker import ROUTINE_TASKS, run_worker

    if args.concurrency < 1:
        raise CommandError("--concurrency must be at least 1")
    settings = ServiceSettings()
    if settings.job_queue is not JobQueueKind.PROCRASTINATE:
        raise CommandError("openidv worker needs OPENIDV_JOB_QUEUE=procrastinate (and a PostgreSQL database)")
    configure_logging(settings.log_format, args.log_level, quiet_tasks=ROUTINE_TASKS)
    run_worker(_services(), concurrency=args.concurrency)
    return {}, "openidv: worker stopped"


def _cmd_db_upgrade(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from alembic.runtime.migration import MigrationContext

    from openidv.service.app import prepare_data_dir
    from openidv.service.db import make_engine, migrate
    from openidv.service.settings import ServiceSettings

    settings = ServiceSettings()
    prepare_data_dir(settings)
    engine = make_engine(settings.resolved_database_url())
    migrate(engine)
    with engine.connect() as conn:
        head = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return {"revision": head}, f"database at revision {head}"


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


def _cmd_apikey_webhook(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.errors import ServiceError
    from openidv.service.notify import clear_webhook, set_webhook
    from openidv.service.orm import ApiKey

    if not args.clear and not args.url:
        raise CommandError("give the webhook URL, or --clear")
    svc = _services()
    with svc.sessions() as db:
        key = db.scalar(select(ApiKey).where(ApiKey.name == args.name))
        if key is None:
            raise CommandError(f"no API key named {args.name!r}")
        if args.clear:
            clear_webhook(key)
            db.commit()
            return {"name": args.name, "webhook_url": None}, f"webhook of {args.name} removed"
        try:
            secret = set_webhook(svc, db, key, args.url)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        db.commit()
    text = f"webhook of {args.name}: {args.url}\nsigning secret (shown once): {secret.hex()}"
    return {"name": args.name, "webhook_url": args.url, "secret": secret.hex()}, text


def _cmd_apikey_return_urls(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.errors import ServiceError
    from openidv.service.integrator import set_return_urls
    from openidv.service.orm import ApiKey

    if args.clear == bool(args.urls):
        raise CommandError("give one or more return URLs, or --clear")
    svc = _services()
    with svc.sessions() as db:
        key = db.scalar(select(ApiKey).where(ApiKey.name == args.name))
        if key is None:
            raise CommandError(f"no API key named {args.name!r}")
        try:
            urls = set_return_urls(key, [] if args.clear else list(args.urls))
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        db.commit()
    text = f"return URLs of {args.name}: " + (", ".join(urls) if urls else "none (return_url is refused)")
    return {"name": args.name, "return_urls": urls}, text


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


def _cmd_erase(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.db import checkpoint
    from openidv.service.orm import Case
    from openidv.service.shredding import erase

    svc = _services()
    try:
        with svc.sessions() as db:
            case = db.get(Case, args.case_id)
            if case is None:
                raise CommandError(f"no case {args.case_id!r}")
            result = erase(svc, db, case, actor="cli", reason=args.reason)
            db.commit()
        checkpoint(svc.engine)
    finally:
        svc.engine.dispose()
    if result["already_erased"]:
        return result, f"case {args.case_id} was erased already"
    return result, f"erased case {args.case_id}: {result['images_deleted']} image(s), its key and its personal fields"


def _cmd_keys_generate(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.crypto import CryptoError, KeyRing

    try:
        KeyRing.generate_file(args.path, args.key_id)
    except FileExistsError as exc:
        raise CommandError(f"{args.path} exists already; it is not overwritten") from exc
    except CryptoError as exc:
        raise CommandError(str(exc)) from exc
    text = f"wrote {args.path} (mode 0600). Keep it outside the data folder and set OPENIDV_KEY_FILE={args.path}"
    return {"path": str(args.path), "key_id": args.key_id}, text


def _cmd_keys_rotate(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.crypto import CryptoError
    from openidv.service.rotation import rotate

    svc = _services()
    key_file = svc.keys.source
    if key_file is None:
        raise CommandError("the key ring was not read from a file; set OPENIDV_KEY_FILE")
    try:
        result = rotate(svc, key_file, args.key_id)
    except CryptoError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        svc.engine.dispose()
    payload = {"key_id": result.key_id, "cases": result.cases, "webhooks": result.webhooks, "skipped": result.skipped}
    text = (
        f"new current key {result.key_id} in {key_file}; re-wrapped {result.cases} data key(s) and "
        f"{result.webhooks} webhook secret(s). The older keys can be removed from the file once no running "
        "service still holds them (after a restart)."
    )
    return payload, text


def _cmd_report_agreement(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.decision.agreement import chart_png, format_text, summarize
    from openidv.service.reports import load_recorded_cases

    svc = _services()
    try:
        with svc.sessions() as db:
            cases, excluded = load_recorded_cases(db)
    finally:
        svc.engine.dispose()
    summary = summarize(cases, excluded, current=svc.policy)
    payload = summary.to_dict() | {"decision_mode": svc.settings.decision_mode.value, "plot": None}
    text = f"decision mode: {svc.settings.decision_mode.value}\n" + format_text(summary)
    if args.plot is not None:
        try:
            args.plot.parent.mkdir(parents=True, exist_ok=True)
            args.plot.write_bytes(chart_png(summary.report, summary.sweep))
        except OSError as exc:
            raise CommandError(f"cannot write the chart to {args.plot}: {exc.strerror or exc}") from exc
        payload["plot"] = str(args.plot)
        text += f"\nchart: {args.plot}"
    return payload, text


def _ask_password(name: str, given: str | None) -> str:
    import getpass

    if given is not None:
        return given
    password = getpass.getpass(f"password for {name}: ")
    if getpass.getpass("again: ") != password:
        raise CommandError("the passwords differ")
    return password


def _cmd_users_change(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """users disable / enable / revoke / passwd NAME."""
    from openidv.service import auth
    from openidv.service.errors import ServiceError

    password = _ask_password(args.name, args.password) if args.action == "passwd" else ""
    svc = _services()
    with svc.sessions() as db:
        try:
            user = auth.user_named(db, args.name)
            if args.action == "passwd":
                auth.set_password(db, user, password, "cli")
            elif args.action == "revoke":
                auth.revoke_sessions(db, user, "cli")
            else:
                auth.set_disabled(db, user, args.action == "disable", "cli")
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        db.commit()
    done = {"disable": "disabled", "enable": "enabled", "revoke": "logged out", "passwd": "changed the password of"}
    return {"name": args.name, "action": args.action}, f"{done[args.action]} {args.name}"


def _cmd_users_add(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from openidv.service.auth import create_user
    from openidv.service.errors import ServiceError

    password = _ask_password(args.name, args.password)
    svc = _services()
    with svc.sessions() as db:
        try:
            create_user(db, args.name, args.role, password)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        db.commit()
    return {"name": args.name, "role": args.role}, f"created {args.role} {args.name}"
