"""The `muhurta` command: dev, api, worker, migrate, seed, create-admin, doctor, and one-off jobs
(rotate-keys, invoice-membership-charges)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.client import Client

from core.logging import configure_logging
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI


# -- migrate ---------------------------------------------------------------------------------
def migrate_database(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")


async def add_missing_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register our custom search attributes on the server; returns the ones it lacked."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
    from temporalio.service import RPCError, RPCStatusCode

    from workflows.search_attributes import SEARCH_ATTRIBUTES

    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace))
        existing = set(listed.custom_attributes)
    except RPCError as exc:
        if exc.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server cannot list
            raise
        existing = set()
    missing = {name: kind for name, kind in SEARCH_ATTRIBUTES.items() if name not in existing}
    if missing:
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={
                name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}") for name, kind in missing.items()
            },
        ))
    return sorted(missing)


async def register_search_attributes(settings: Settings) -> list[str]:
    from core.temporal import connect_temporal

    client = await connect_temporal(settings)
    return await add_missing_search_attributes(client, settings.temporal_namespace)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    migrate_database(settings.database_url)
    print("database: migrated to head")
    if not args.skip_temporal:
        try:
            added = asyncio.run(register_search_attributes(settings))
        except Exception as exc:
            print(f"temporal: could not register search attributes ({exc}); "
                  "on Temporal Cloud add them in the namespace settings", file=sys.stderr)
            return 1
        print(f"temporal: search attributes {'added: ' + ', '.join(added) if added else 'already registered'}")
    return 0


# -- seed --------------------------------------------------------------------------------------
async def _seed(settings: Settings) -> None:
    from core.db import make_engine, make_sessionmaker
    from core.security import Keys
    from core.temporal import connect_temporal
    from workers.seed import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD, seed_demo

    engine = make_engine(settings.database_url, 2)
    try:
        try:
            client = await connect_temporal(settings)
        except RuntimeError as exc:
            client = None
            print(f"warning: Temporal not reachable ({exc}); the demo's workflows start once a worker runs")
        summary = await seed_demo(make_sessionmaker(engine), Keys.from_settings(settings), settings, client)
    finally:
        await engine.dispose()
    print(f"demo data: tenant '{summary.tenant_slug}' (consultant {summary.consultant_email}, client "
          f"{summary.client_email}), pending tenant '{summary.pending_slug}' "
          f"(workflow {summary.pending_workflow_id}); password for all: {DEMO_PASSWORD}; platform admin "
          f"{summary.admin_email} with TOTP secret {DEMO_ADMIN_TOTP_SECRET} (`muhurta totp-code` prints a code)")


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    if settings.is_production:
        print("refusing to seed demo data in production", file=sys.stderr)
        return 2
    asyncio.run(_seed(settings))
    return 0


def cmd_rotate_keys(settings: Settings, args: argparse.Namespace) -> int:
    from core.db import make_engine, make_sessionmaker
    from core.security import Keys
    from workers.rotate_keys import rotate_encrypted_columns

    async def run() -> int:
        engine = make_engine(settings.database_url, 2)
        try:
            return await rotate_encrypted_columns(make_sessionmaker(engine), Keys.from_settings(settings))
        finally:
            await engine.dispose()

    count = asyncio.run(run())
    print(f"re-encrypted {count} stored secrets with the newest key; older keys may now be removed")
    return 0


def cmd_invoice_membership_charges(settings: Settings, args: argparse.Namespace) -> int:
    """One-off: the invoices of membership charges recorded before invoicing existed."""
    from activities.membership_invoices import invoice_missing_charges
    from core.db import make_engine, make_sessionmaker

    async def run() -> list[str]:
        engine = make_engine(settings.database_url, 2)
        try:
            return await invoice_missing_charges(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    numbers = asyncio.run(run())
    if not numbers:
        print("every membership charge has its invoice: nothing issued")
        return 0
    print(f"issued {len(numbers)} invoice(s) for membership charges: {numbers[0]} … {numbers[-1]}")
    print("their orders count on the days they were charged: recompute older analytics days with "
          "AnalyticsRollup {\"days\": N, \"backfill\": true} (docs/analytics.md)")
    return 0


def cmd_totp_code(settings: Settings, args: argparse.Namespace) -> int:
    """Development aid: the current TOTP code of the demo admin."""
    import pyotp

    from workers.seed import DEMO_ADMIN_TOTP_SECRET

    if settings.is_production:
        return 2
    print(pyotp.TOTP(DEMO_ADMIN_TOTP_SECRET).now())
    return 0


# -- create-admin --------------------------------------------------------------------------------
def _admin_password(args: argparse.Namespace) -> str | None:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        print("no terminal to ask for the password: pipe it with --password-stdin", file=sys.stderr)
        return None
    first = getpass.getpass(f"password for {args.email}: ")
    if first != getpass.getpass("the same password again: "):
        print("the two passwords differ", file=sys.stderr)
        return None
    return first


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Create a platform admin with two-factor on; print the enrolment URI and recovery codes once."""
    from core.db import make_engine, make_sessionmaker
    from core.security import Keys
    from workers.admins import AdminNotCreated, create_admin

    password = _admin_password(args)
    if password is None:
        return 2

    async def run() -> int:
        engine = make_engine(settings.database_url, 2)
        try:
            created = await create_admin(make_sessionmaker(engine), Keys.from_settings(settings), email=args.email,
                                         full_name=args.name, password=password)
        except AdminNotCreated as exc:
            print(f"not created: {exc}", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()
        print(f"platform admin created: {created.email} (user {created.user_id})")
        print("Two-factor authentication is on. Add the account to an authenticator app now; "
              "this is shown only once:")
        print(f"  {created.otpauth_uri}")
        print(f"  secret: {created.totp_secret}")
        print("Recovery codes (each works once in place of a code; keep them somewhere safe):")
        for code in created.recovery_codes:
            print(f"  {code}")
        print("Sign in: POST /api/v1/auth/login with email, password and totp_code (no X-Tenant).")
        return 0

    return asyncio.run(run())


# -- api / worker ------------------------------------------------------------------------------
def api_process_app() -> FastAPI:
    """The app of one API process, its logging configured first. With API_WORKERS > 1 uvicorn
    starts each process afresh (spawn): configured only in the parent, the processes wrote no
    access line and no INFO line, and their warnings as bare text by Python's last-resort handler."""
    from api.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from core.observability.multiprocess import finish_api_processes, prepare_api_processes

    processes = args.workers or settings.api_workers
    made = prepare_api_processes(processes)  # one /metrics view over every process
    try:
        uvicorn.run("workers.cli:api_process_app", factory=True, host=args.host or settings.api_host,
                    port=args.port or settings.api_port, log_config=None, access_log=False,
                    workers=processes)
    finally:
        finish_api_processes(made)
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from workers.worker import run_worker

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(main())
    return 0


def cmd_razorpay_local(settings: Settings, args: argparse.Namespace) -> int:
    """The local Razorpay gateway with the development keys, sending webhooks to the API."""
    import time

    from activities.payments.local_gateway import LocalRazorpay, LocalRazorpayServer
    from core.razorpay import platform_credentials

    if settings.is_production or settings.razorpay_key_id:
        print("refusing: real Razorpay keys are configured (or this is production)", file=sys.stderr)
        return 2
    credentials = platform_credentials(settings)
    gateway = LocalRazorpay()
    gateway.add_account(credentials.key_id, credentials.key_secret, credentials.webhook_secret,
                        webhook_url=f"http://{settings.api_host}:{settings.api_port}/api/v1/webhooks/razorpay")
    server = LocalRazorpayServer(gateway, settings.razorpay_local_port)
    server.start()
    print(f"local Razorpay on {server.base_url} (key {credentials.key_id}); pay an order with "
          f"POST {server.base_url}/_local/orders/<razorpay order id>/pay", flush=True)
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop:
        time.sleep(0.2)
    server.stop()
    return 0


# -- doctor ------------------------------------------------------------------------------------
def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from workers.doctor import run_doctor

    return asyncio.run(run_doctor(settings))


# -- dev ---------------------------------------------------------------------------------------
def cmd_dev(settings: Settings, args: argparse.Namespace) -> int:
    from workers.dev import run_dev

    return run_dev(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="muhurta", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run everything locally: embedded servers, migrations, demo data, worker, API")
    api = sub.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host")
    api.add_argument("--port", type=int)
    api.add_argument("--workers", type=int, help="API processes sharing the port (default API_WORKERS, 1)")
    sub.add_parser("worker", help="run a Temporal worker")
    migrate = sub.add_parser("migrate", help="upgrade the database and register search attributes")
    migrate.add_argument("--skip-temporal", action="store_true")
    sub.add_parser("seed", help="add the demo data (not in production)")
    admin = sub.add_parser("create-admin", help="create a platform admin (any install; prints the TOTP URI once)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Platform Admin", help="full name")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin (scripts)")
    sub.add_parser("doctor", help="check the configuration and every server")
    sub.add_parser("totp-code", help="print the demo admin's current TOTP code (development)")
    sub.add_parser("rotate-keys", help="re-encrypt stored secrets with the newest ENCRYPTION_KEYS key")
    sub.add_parser("razorpay-local", help="run the local Razorpay gateway (development, no keys needed)")
    sub.add_parser("invoice-membership-charges",
                   help="issue the invoices of membership charges recorded before invoicing existed (idempotent)")
    args = parser.parse_args(argv)

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    handlers = {
        "dev": cmd_dev, "api": cmd_api, "worker": cmd_worker, "migrate": cmd_migrate,
        "seed": cmd_seed, "create-admin": cmd_create_admin, "doctor": cmd_doctor, "totp-code": cmd_totp_code,
        "rotate-keys": cmd_rotate_keys, "razorpay-local": cmd_razorpay_local,
        "invoice-membership-charges": cmd_invoice_membership_charges,
    }
    code = handlers[args.command](settings, args)
    # Skip interpreter finalisation: the Temporal core's native threads can abort it
    # ("PyGILState_Release") and turn a successful command into exit code 134.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())

