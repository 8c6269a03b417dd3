"""``safeguard serve``: start the HTTP API (and, on an empty data directory, set everything up)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeguard.auth import Actor, Role
from safeguard.auth import service as keys
from safeguard.auth.errors import InvalidCredentials
from safeguard.cli.common import console, fail, open_db, settings
from safeguard.store.migrate import SchemaState, schema_status, upgrade

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from safeguard.actions.worker import DeliveryWorker


def bootstrap() -> str | None:
    """Create the database on first run and return a new admin key, printed once; None if already set up."""
    db = open_db(check_schema=False)
    try:
        status = schema_status(db)
        if status.state is SchemaState.empty:
            upgrade(db)
        elif status.state is not SchemaState.current:
            open_db()  # raises the precise "behind" / "ahead" error
        with db.session() as session:
            if keys.has_any_key(session):
                return None
            created = keys.create_key(session, Actor.system("bootstrap"), name="first admin", role=Role.admin)
            return created.key
    finally:
        db.dispose()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed a demo bank from benign sample images and print a curl line")
    ] = False,
    webhooks: Annotated[
        bool,
        typer.Option(
            "--webhooks/--no-webhooks",
            help="Deliver webhooks from this process (one delivery worker beside the API workers); "
            "`safeguard webhooks worker` may run as well (deliveries are leased) or instead",
        ),
    ] = True,
) -> None:
    """Start the API server. A first run on an empty data directory creates the database and prints an
    admin key once."""
    import uvicorn

    cfg = settings()
    admin_key = bootstrap()
    console.print(f"Safeguard on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    if cfg.is_sqlite:
        console.print(f"database: SQLite file {cfg.resolved_database_url.removeprefix('sqlite:///')}")
    if admin_key:
        console.print("first run: created an admin API key. Store it now, it is not shown again:")
        print(admin_key, flush=True)
    if demo:
        _seed_demo(host, port)
    delivery = _start_delivery_worker() if webhooks else None
    try:
        uvicorn.run(
            "safeguard.api.asgi:create_default_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=cfg.log_level.lower(),
        )
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    finally:
        if delivery is not None:
            delivery.stop()


def _start_delivery_worker() -> DeliveryWorker:
    """The outbox's delivery worker as a thread of the serving process: decisions reach the platform
    without a second command. Several processes may run one each; deliveries are claimed with leases."""
    from safeguard.actions.worker import DeliveryWorker

    return DeliveryWorker(open_db()).start()


def _demo_key(session: Session, path: Path) -> str:
    """The demo integrator key kept (0600) in the data directory, minted only when none is kept or the kept
    one was revoked, so restarting ``serve --demo`` does not pile up integrator keys."""
    try:
        kept = path.read_text(encoding="ascii").strip()
        keys.authenticate(session, kept)
        return kept
    except (OSError, UnicodeError, InvalidCredentials):
        pass
    key = keys.create_key(session, Actor.system("demo"), name="demo", role=Role.integrator).key
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _seed_demo(host: str, port: int) -> None:
    from safeguard.banks.demo import seed_demo

    cfg = settings()
    db = open_db()
    try:
        with db.session() as session:
            seeded = seed_demo(session, Actor.system("demo"), cfg.home / "demo")
            demo_key = _demo_key(session, cfg.home / "demo" / "integrator-key")
    finally:
        db.dispose()
    where = "sample images" if seeded.from_samples else "synthetic images"
    console.print(f"demo: bank {seeded.bank!r} seeded from {where} ({seeded.added} new items).")
    console.print("demo: upload an edited copy of one of them and see the match:")
    print(
        f'curl -s -H "Authorization: Bearer {demo_key}" -F "file=@{seeded.edited_path}" '
        f"http://{host}:{port}/v1/scan",
        flush=True,
    )
