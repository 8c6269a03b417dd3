"""``safeguard audit``: verify the hash chain of the audit log; export signed checkpoints of its head."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from safeguard import audit
from safeguard.audit import checkpoints
from safeguard.cli.common import console, fail, open_db

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _read_checkpoints(path: Path) -> list[audit.Checkpoint]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read checkpoint file {path}: {exc.strerror if isinstance(exc, OSError) else exc}")
    return checkpoints.parse(text)


@app.command("verify")
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="A file of checkpoints (`safeguard audit checkpoint`) to check the chain against.",
        ),
    ] = None,
) -> None:
    """Check every record's hash chain; name the first broken record (exit 1) if any."""
    pinned = _read_checkpoints(checkpoint) if checkpoint is not None else []
    db = open_db()
    with db.read_session() as session:
        report = audit.verify(session, pinned)
    if not report.ok:
        fail(f"audit log broken at record {report.first_broken_seq}: {report.problem}")
    against = f", checked against {report.checkpoints} checkpoints" if pinned else ""
    unkeyed = f" ({report.unkeyed} written before the chain was keyed)" if report.unkeyed else ""
    console.print(f"audit log intact: {report.records} records{unkeyed}{against}", markup=False)
    print(f"head: {report.head_hash}")


@app.command("checkpoint")
def checkpoint(
    out: Annotated[
        Path | None, typer.Option("--out", help="Append the checkpoint to this file (default: print it).")
    ] = None,
) -> None:
    """Verify the chain, then export its head signed with the audit key (keep the file off this host)."""
    db = open_db()
    with db.read_session() as session:
        taken = checkpoints.take(session)
    line = checkpoints.to_line(taken)
    if out is None:
        print(line)
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as exc:
        fail(f"cannot write checkpoint file {out}: {exc.strerror}")
    console.print(f"checkpoint of record {taken.seq} appended to {out}", markup=False)
