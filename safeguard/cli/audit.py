"""``safeguard audit``: verify the hash chain of the audit log."""

from __future__ import annotations

import typer

from safeguard import audit
from safeguard.cli.common import console, fail, open_db

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Check every record's hash chain; name the first broken record (exit 1) if any."""
    db = open_db()
    with db.read_session() as session:
        report = audit.verify(session)
    if not report.ok:
        fail(f"audit log broken at record {report.first_broken_seq}: {report.problem}")
    console.print(f"audit log intact: {report.records} records", markup=False)
    print(f"head: {report.head_hash}")
