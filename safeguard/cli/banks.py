"""``safeguard banks``: hash banks, imports and exports, matching, URL lists and keyword lists."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.banks import changes, importers, keywords, media, service, urls
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.matching import match_signal
from safeguard.banks.models import Bank
from safeguard.cli.common import console, err_console, open_db
from safeguard.errors import InvalidInput
from safeguard.media import ContentKind

app = typer.Typer(help="Hash banks, imports, matching, URL lists and keyword lists.", no_args_is_help=True)

BankArg = Annotated[str, typer.Argument(help="Bank name or id")]
Labels = Annotated[list[str] | None, typer.Option("--label", "-l", help="A label (repeatable), e.g. A1")]


def _bank(session: Session, ref: str) -> Bank:
    return service.get_bank(session, int(ref)) if ref.isdigit() else service.get_bank_by_name(session, ref)


def _format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "tsv", "jsonl"):
        return suffix
    if suffix in ("ndjson", "json"):
        return "jsonl"
    raise InvalidInput(f"cannot tell the format of {path.name}; pass --format csv|tsv|jsonl|hma")


def _hash_arg(value: str) -> str:
    """The hash itself, or with ``@path`` the contents of a file (a vpdq hash is too long to type)."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the hash from {path}: {exc}", field="hash") from None


HashArg = Annotated[
    str, typer.Argument(help="The hash (hex; for vpdq the JSON frame list), or @FILE to read it from a file")
]


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Bank name")],
    description: Annotated[str, typer.Option(help="What the bank holds")] = "",
    allowlist: Annotated[
        bool, typer.Option("--allowlist", help="Known benign content: suppresses matches")
    ] = False,
    threshold: Annotated[int, typer.Option(help="PDQ match threshold (0-31)")] = 31,
    ratio: Annotated[float, typer.Option(help="Enabled ratio for gradual roll-out (0-1)")] = 1.0,
) -> None:
    """Create a bank."""
    db = open_db()
    with db.session() as session:
        bank = service.create_bank(
            session,
            Actor.cli(),
            name=name,
            description=description,
            is_allowlist=allowlist,
            pdq_threshold=threshold,
            enabled_ratio=ratio,
        )
        print(bank.id)
    err_console.print(f"created bank {bank.name!r} (id {bank.id})")


@app.command("list")
def list_banks() -> None:
    """List banks."""
    db = open_db()
    table = Table("id", "name", "allowlist", "enabled", "ratio", "threshold", "version")
    with db.read_session() as session:
        for b in service.list_banks(session):
            table.add_row(
                str(b.id),
                b.name,
                "yes" if b.is_allowlist else "",
                "yes" if b.enabled else "no",
                f"{b.enabled_ratio:g}",
                str(b.pdq_threshold),
                str(b.version),
            )
    console.print(table)


@app.command("show")
def show(bank: BankArg) -> None:
    """Show a bank as JSON."""
    db = open_db()
    with db.read_session() as session:
        b = _bank(session, bank)
        out = {
            "id": b.id,
            "name": b.name,
            "description": b.description,
            "is_allowlist": b.is_allowlist,
            "enabled": b.enabled,
            "enabled_ratio": b.enabled_ratio,
            "pdq_threshold": b.pdq_threshold,
            "version": b.version,
            "content_count": service.content_count(session, b.id),
        }
    print(json.dumps(out, indent=2))


@app.command("update")
def update(
    bank: BankArg,
    name: Annotated[str | None, typer.Option(help="New name")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Enable or disable matching")
    ] = None,
    ratio: Annotated[float | None, typer.Option(help="Enabled ratio (0-1)")] = None,
    threshold: Annotated[int | None, typer.Option(help="PDQ threshold (0-31)")] = None,
) -> None:
    """Rename, describe, enable/disable or tune a bank."""
    db = open_db()
    with db.session() as session:
        b = service.update_bank(
            session,
            Actor.cli(),
            _bank(session, bank),
            name=name,
            description=description,
            enabled=enabled,
            enabled_ratio=ratio,
            pdq_threshold=threshold,
        )
        err_console.print(f"updated bank {b.name!r} (version {b.version})")


@app.command("delete")
def delete(bank: BankArg) -> None:
    """Delete a bank (soft: it stops matching; its records are kept for audit)."""
    db = open_db()
    with db.session() as session:
        b = _bank(session, bank)
        service.delete_bank(session, Actor.cli(), b)
    err_console.print(f"deleted bank {bank!r}")


@app.command("add-hash")
def add_hash(
    bank: BankArg,
    signal_type: Annotated[str, typer.Argument(help="pdq, md5, sha256, video_md5 or vpdq")],
    value: HashArg,
    label: Labels = None,
    source: Annotated[str, typer.Option(help="Where the hash came from")] = "",
    external_id: Annotated[
        list[str] | None, typer.Option(help="name=id, e.g. ncmec=123 (repeatable)")
    ] = None,
) -> None:
    """Add one hash to a bank as a new content item."""
    external = dict(x.split("=", 1) for x in external_id or [] if "=" in x)
    db = open_db()
    with db.session() as session:
        meta = service.ContentMeta(tuple(label or []), source, external, "")
        signal = service.SignalIn(signal_type, _hash_arg(value))
        added = service.add_content(session, Actor.cli(), _bank(session, bank), [signal], meta)
        print(added.content.id)
    err_console.print("added" if added.created else "already in the bank")


@app.command("add-file")
def add_file(
    bank: BankArg,
    path: Annotated[Path, typer.Argument(help="Image or video file")],
    label: Labels = None,
    video: Annotated[bool, typer.Option("--video", help="The file is a video")] = False,
) -> None:
    """Hash a file and add it to a bank (the file itself is not kept)."""
    signals = media.hashes_to_bank(
        path.read_bytes(), expect=ContentKind.video if video else None, field="--video"
    )
    db = open_db()
    with db.session() as session:
        added = service.add_content(
            session, Actor.cli(), _bank(session, bank), signals, service.ContentMeta(tuple(label or []))
        )
        print(added.content.id)


@app.command("disable-content")
def disable_content(bank: BankArg, content_id: int, reason: Annotated[str, typer.Option(help="Why")]) -> None:
    """Disable one content item (e.g. a false positive)."""
    db = open_db()
    with db.session() as session:
        service.set_content_enabled(
            session, Actor.cli(), _bank(session, bank), content_id, enabled=False, reason=reason
        )
    err_console.print(f"disabled content {content_id}")


@app.command("import")
def import_file(
    bank: BankArg,
    path: Annotated[Path, typer.Argument(help="File to import")],
    format: Annotated[str | None, typer.Option("--format", "-f", help="csv, tsv, jsonl or hma")] = None,
    source: Annotated[str, typer.Option(help="Source recorded on each item")] = "",
) -> None:
    """Import a file into a bank: all or nothing, idempotent, progress on stderr."""
    fmt = _format_of(path, format)
    size = path.stat().st_size
    db = open_db()
    with (
        open(path, "rb") as raw,
        Progress(
            TextColumn("importing"),
            BarColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[lines]} lines"),
            console=err_console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("import", total=size, lines=0)
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")

        def on_progress(lines: int) -> None:
            progress.update(task, completed=raw.tell(), lines=lines)

        with db.session() as session:
            result = importers.import_stream(
                session, Actor.cli(), _bank(session, bank), text, fmt, source=source, on_progress=on_progress
            )
    print(
        json.dumps(
            {
                "lines": result.lines,
                "added": result.added,
                "signals_added": result.signals_added,
                "duplicates": result.duplicates,
                "checkpoint": result.checkpoint,
            }
        )
    )


@app.command("export")
def export(
    bank: BankArg,
    format: Annotated[str, typer.Option("--format", "-f", help="csv, tsv, jsonl or hma")] = "jsonl",
) -> None:
    """Write a bank's live content to stdout."""
    db = open_db()
    with db.read_session() as session:
        for line in importers.export_lines(session, _bank(session, bank), format):
            sys.stdout.write(line)


@app.command("changes")
def show_changes(
    since: Annotated[int, typer.Option(help="Checkpoint to start after")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
) -> None:
    """Print the change log after a checkpoint, one JSON object per line."""
    db = open_db()
    with db.read_session() as session:
        for r in changes.changes_since(session, since, limit):
            print(
                json.dumps(
                    {
                        "seq": r.seq,
                        "op": r.op,
                        "bank_id": r.bank_id,
                        "content_id": r.content_id,
                        "signal_type": r.signal_type,
                        "hash": r.value,
                    }
                )
            )


def _print_matches(pairs: list[tuple[str, str]]) -> bool:
    db = open_db()
    matcher = BankMatcher(db)
    matcher.load()
    found = False
    with db.read_session() as session:
        for st, value in pairs:
            result = match_signal(session, matcher, st, value)
            found = found or result.matched
            for m in result.matches:
                print(
                    json.dumps(
                        {
                            "signal_type": m.signal_type,
                            "hash": result.hash,
                            "bank": m.bank,
                            "content_id": m.content_id,
                            "distance": m.distance,
                            "labels": m.labels,
                            "external_ids": m.external_ids,
                            "suppressed_by_allowlist": m.suppressed_by_allowlist,
                            **(
                                {
                                    "query_match_percent": m.query_match_percent,
                                    "compared_match_percent": m.compared_match_percent,
                                }
                                if m.query_match_percent is not None
                                else {}
                            ),
                        }
                    )
                )
    return found


@app.command("match")
def match(signal_type: str, value: HashArg) -> None:
    """Match one hash against the banks (exit 0 on a match, 3 on none)."""
    if not _print_matches([(signal_type, _hash_arg(value))]):
        raise typer.Exit(3)


@app.command("scan")
def scan(path: Path, video: Annotated[bool, typer.Option("--video")] = False) -> None:
    """Hash a file and match it against the banks (exit 0 on a match, 3 on none)."""
    hashes = media.hashes_to_query(
        path.read_bytes(), expect=ContentKind.video if video else None, field="--video"
    )
    if not _print_matches([(h.signal_type, h.value) for h in hashes]):
        raise typer.Exit(3)


@app.command("url-list-import")
def url_list_import(
    name: Annotated[str, typer.Argument(help="URL list name (created if new)")],
    path: Path,
    source: Annotated[str, typer.Option()] = "",
) -> None:
    """Import a URL list file (lines of url[,match[,label]]; match is exact, host or prefix)."""
    entries = urls.parse_url_lines(path.read_text(encoding="utf-8").splitlines())
    db = open_db()
    with db.session() as session:
        existing = [x for x in urls.list_url_lists(session) if x.name == name]
        url_list = (
            existing[0] if existing else urls.create_url_list(session, Actor.cli(), name=name, source=source)
        )
        added = urls.add_url_entries(session, Actor.cli(), url_list, entries)
    print(json.dumps({"list_id": url_list.id, "added": added}))


@app.command("match-url")
def match_url(url: str) -> None:
    """Match a URL against the URL lists (exit 0 on a match, 3 on none)."""
    db = open_db()
    with db.read_session() as session:
        normalized, found = urls.match_url(session, url)
    print(json.dumps({"normalized": normalized.key, "matches": [m.list_name + ":" + m.match for m in found]}))
    if not found:
        raise typer.Exit(3)


@app.command("keyword-list-create")
def keyword_list_create(
    name: str,
    message: Annotated[str, typer.Option(help="Deterrence message shown to the searcher")],
    link: Annotated[list[str] | None, typer.Option(help="title=url of a help link (repeatable)")] = None,
) -> None:
    """Create a keyword list for search deterrence."""
    links = [keywords.HelpLink(*x.split("=", 1)) for x in link or [] if "=" in x]
    db = open_db()
    with db.session() as session:
        kl = keywords.create_keyword_list(session, Actor.cli(), name=name, message=message, help_links=links)
        print(kl.id)


@app.command("keyword-add")
def keyword_add(list_id: int, terms: Annotated[list[str], typer.Argument(help="Terms to add")]) -> None:
    """Add terms to a keyword list."""
    db = open_db()
    with db.session() as session:
        added = keywords.add_terms(session, Actor.cli(), keywords.get_keyword_list(session, list_id), terms)
    print(json.dumps({"added": added}))


@app.command("check-query")
def check_query(query: str) -> None:
    """Check a search query against the keyword lists (exit 0 on a hit, 3 on none)."""
    db = open_db()
    with db.read_session() as session:
        hits = keywords.check_query(session, query)
    for h in hits:
        print(
            json.dumps(
                {"list": h.list_name, "term": h.term, "message": h.message, "help_links": h.help_links}
            )
        )
    if not hits:
        raise typer.Exit(3)
