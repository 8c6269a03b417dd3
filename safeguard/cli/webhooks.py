"""``safeguard webhooks ...``: register, list and remove endpoints; run the delivery worker; replay dead
letters. Registration goes through ``safeguard.actions.endpoints`` as over the API (the same SSRF checks)."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
from typing import Annotated, Any

import typer
from rich.table import Table

from safeguard.actions import endpoints, outbox
from safeguard.actions.config import get_webhook_settings
from safeguard.actions.models import WebhookEndpoint
from safeguard.actions.worker import DeliveryWorker
from safeguard.auth import Actor
from safeguard.cli.common import console, db_session, err_console, open_db, settings
from safeguard.errors import InvalidInput

app = typer.Typer(help="Webhook deliveries to the platform.", no_args_is_help=True)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="https:// URL that receives the events")],
    owner: Annotated[
        str, typer.Option("--owner", help="The integrator whose cases' events it receives, e.g. api_key:7")
    ],
    events: Annotated[list[str], typer.Option("--event", help="An event type (repeatable)")],
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Register an endpoint; prints its id and signing secret once (JSON on stdout)."""
    with db_session() as session:
        created = endpoints.create_endpoint(
            session, Actor.cli(), url=url, events=events, description=description, owner=owner
        )
        data = {**_endpoint_json(created.endpoint), "secret": created.secret}
    print(json.dumps(data, sort_keys=True))


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines on stdout")] = False,
) -> None:
    """Registered endpoints (active and removed)."""
    with db_session(read_only=True) as session:
        rows = [_endpoint_json(e) for e in endpoints.list_endpoints(session, Actor.cli())]
    if as_json:
        for row in rows:
            print(json.dumps(row, sort_keys=True))
        return
    table = Table("id", "owner", "url", "events", "active")
    for row in rows:
        table.add_row(str(row["id"]), row["owner"], row["url"], ", ".join(row["events"]), str(row["active"]))
    console.print(table)


@app.command("remove")
def remove(endpoint_id: Annotated[int, typer.Argument(min=1, help="Endpoint id")]) -> None:
    """Stop sending to an endpoint (its pending deliveries are dead-lettered when they come due)."""
    with db_session() as session:
        data = _endpoint_json(endpoints.deactivate(session, Actor.cli(), endpoint_id))
    print(json.dumps(data, sort_keys=True))


def _endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "owner": endpoint.owner,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "active": endpoint.active,
    }


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    concurrency: Annotated[int | None, typer.Option(min=1, max=256, help="Requests in flight.")] = None,
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between polls when idle.")] = 0.5,
) -> None:
    """Deliver webhooks until stopped (SIGTERM/SIGINT finish the batch in flight, then exit)."""
    logging.basicConfig(level=settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = get_webhook_settings()
    if concurrency is not None:
        cfg = cfg.model_copy(update={"concurrency": concurrency})
    db = open_db()
    runner = DeliveryWorker(db, cfg, poll_seconds=poll)
    try:
        if once:
            runner.drain()
            return
        signal.signal(signal.SIGTERM, lambda *_: runner.stop_soon())
        err_console.print(f"webhook worker running (concurrency {cfg.concurrency}); Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            runner.run()
    finally:
        runner.stop()
        db.dispose()


@app.command("dead")
def dead(
    endpoint: Annotated[int | None, typer.Option(help="Only this endpoint id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
) -> None:
    """List dead-lettered deliveries."""
    db = open_db()
    try:
        with db.read_session() as session:
            rows = outbox.list_deliveries(
                session, Actor.cli(), status="dead", endpoint_id=endpoint, limit=limit
            )
            table = Table("id", "endpoint", "event", "type", "attempts", "last error")
            for row in rows:
                table.add_row(
                    str(row.id),
                    str(row.endpoint_id),
                    row.event_id,
                    row.event_type,
                    str(row.attempts),
                    row.last_error or "",
                )
    finally:
        db.dispose()
    console.print(table)


@app.command("replay")
def replay(
    delivery_ids: Annotated[list[int] | None, typer.Argument(help="Dead-lettered delivery ids.")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Replay every dead letter.")] = False,
    endpoint: Annotated[int | None, typer.Option(help="With --all-dead: only this endpoint.")] = None,
) -> None:
    """Send dead-lettered deliveries again (same body and idempotency key, a fresh retry window)."""
    if not delivery_ids and not all_dead:
        raise InvalidInput("name delivery ids or pass --all-dead")
    if delivery_ids and all_dead:
        raise InvalidInput("name delivery ids or pass --all-dead, not both")
    db = open_db()
    try:
        with db.session() as session:
            if all_dead:
                count = outbox.replay_dead(session, Actor.cli(), endpoint_id=endpoint)
            else:
                for delivery_id in delivery_ids or []:
                    outbox.replay(session, Actor.cli(), delivery_id)
                count = len(delivery_ids or [])
    finally:
        db.dispose()
    print(f"replayed {count} deliveries")
