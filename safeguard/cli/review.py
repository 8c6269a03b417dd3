"""``safeguard cases ...``: queue figures for operators."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from safeguard.cli.common import console, open_db
from safeguard.review import queue

app = typer.Typer(help="Review cases and the queue.", no_args_is_help=True)


@app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Cases waiting (by status and kind), claimed, overdue, escalated, live-risk, and decisions by label."""
    db = open_db()
    try:
        with db.read_session() as session:
            figures = queue.stats(session)
    finally:
        db.dispose()
    data = {
        "by_status": figures.by_status,
        "waiting_by_kind": figures.waiting_by_kind,
        "claimed": figures.claimed,
        "overdue": figures.overdue,
        "escalated": figures.escalated,
        "live_risk": figures.live_risk,
        "decided_by_label": figures.decided_by_label,
        "automatic_decisions": figures.automatic_decisions,
        "oldest_waiting_since": figures.oldest_waiting_since.isoformat()
        if figures.oldest_waiting_since
        else None,
    }
    if as_json:
        print(json.dumps(data, sort_keys=True))
        return
    table = Table("figure", "value", title="Review queue")
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in sorted(value.items())) or "-"
        table.add_row(key.replace("_", " "), str(value if value is not None else "-"))
    console.print(table)
