"""``safeguard intake ...``: import referral files, find suspects, work packages."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from safeguard.auth import Actor
from safeguard.cli.common import console, err_console, open_db
from safeguard.intake import packages, service
from safeguard.intake.importers.jsonfmt import dump
from safeguard.intake.synthetic import generate

app = typer.Typer(help="Police and hotline intake: referrals, suspects, packages.", no_args_is_help=True)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CyberTipline-style XML, Safeguard JSON or CSV", exists=False)],
    format: Annotated[str, typer.Option(help="auto, cybertip-xml, safeguard-json or csv")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the import report as JSON.")] = False,
) -> None:
    """Import a referral file whole (a bad file is refused and nothing is kept) and link its referrals."""
    data = file.read_bytes()
    db = open_db()
    try:
        with db.session() as session:
            report = service.import_file(session, Actor.cli(), data, format=format, filename=file.name)
    finally:
        db.dispose()
    if as_json:
        _print_json(asdict(report))
        return
    if report.batch_id is None:
        console.print(f"nothing new: all {report.duplicates} referrals were already imported")
        return
    console.print(
        f"imported {report.imported} referrals ({report.duplicates} known) as batch {report.batch_id}: "
        f"{len(report.suspects)} suspects ({report.suspects_created} new), {report.merges} merges, "
        f"{report.alerts} alerts"
    )
    for warning in report.warnings[:20]:
        err_console.print(f"warning: {warning}", markup=False)


@app.command("search")
def search(
    value: Annotated[str, typer.Argument(help="An email, phone, IP, username, hash, account or referral id")],
    kind: Annotated[str | None, typer.Option(help="Identifier kind (guessed when absent)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find referrals, and their suspects, by any identifier (normalised as imports normalise it)."""
    db = open_db()
    try:
        with db.read_session() as session:
            result = packages.search(session, value, kind)
            hits = [asdict(h) for h in result.hits]
    finally:
        db.dispose()
    if as_json:
        _print_json({"query": result.query, "kinds": result.kinds, "hits": hits})
        return
    table = Table("kind", "value", "referral", "source id", "suspect", "tier", "state", "assigned to")
    for h in hits:
        table.add_row(
            h["kind"],
            h["value"],
            str(h["referral_id"]),
            h["external_id"],
            str(h["suspect_id"] or "-"),
            h["tier"] or "-",
            h["state"] or "-",
            h["assigned_to"] or "-",
        )
    console.print(table if hits else f"no referrals carry {value!r} (tried: {', '.join(result.kinds)})")


@app.command("list")
def list_packages(
    state: Annotated[str | None, typer.Option(help="new, assessed, actioned or closed")] = None,
    tier: Annotated[str | None, typer.Option(help="immediate, high, medium or low")] = None,
    assigned_to: Annotated[str | None, typer.Option(help="Officer")] = None,
    area: Annotated[str | None, typer.Option(help="Council or force area")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 30,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Packages, most urgent first."""
    db = open_db()
    try:
        with db.read_session() as session:
            rows, total = packages.list_packages(
                session, state=state, tier=tier, assigned_to=assigned_to, area=area, limit=limit
            )
            data: list[dict[str, Any]] = [
                {
                    "id": s.id,
                    "tier": s.tier,
                    "score": s.score,
                    "state": s.state,
                    "referrals": s.referral_count,
                    "area": s.council or s.force_area,
                    "assigned_to": s.assigned_to,
                    "why": "; ".join(r["reason"] for r in s.reasons[:3]),
                }
                for s in rows
            ]
    finally:
        db.dispose()
    if as_json:
        _print_json({"total": total, "suspects": data})
        return
    if console.width < WIDE_TERMINAL:
        _print_packages_narrow(total, data)
        return
    table = Table(
        "suspect", "tier", "score", "state", "referrals", "area", "assigned", "why", title=f"{total} packages"
    )
    for d in data:
        table.add_row(
            str(d["id"]),
            d["tier"],
            f"{d['score']:.1f}",
            d["state"],
            str(d["referrals"]),
            d["area"] or "-",
            d["assigned_to"] or "-",
            d["why"],
        )
    console.print(table)


# Below this many columns the eight-column table wraps every cell; packages print as two lines each instead.
WIDE_TERMINAL = 120


def _print_packages_narrow(total: int, data: list[dict[str, Any]]) -> None:
    """Each package as a line of facts and, indented beneath it, why it ranks where it does."""
    console.print(f"{total} packages, most urgent first", style="bold")
    for d in data:
        count = d["referrals"]
        facts = [
            f"#{d['id']}",
            d["tier"],
            f"score {d['score']:.1f}",
            d["state"],
            f"{count} referral{'' if count == 1 else 's'}",
            d["area"] or "no area",
            f"assigned to {d['assigned_to']}" if d["assigned_to"] else "unassigned",
        ]
        width = max(40, console.width)
        console.print(textwrap.fill("  ".join(facts), width, subsequent_indent="  "), soft_wrap=True)
        if d["why"]:
            why = textwrap.fill(d["why"], width, initial_indent="    ", subsequent_indent="    ")
            console.print(Text(why, style="dim"), soft_wrap=True)


@app.command("show")
def show(
    suspect_id: Annotated[int, typer.Argument(min=1)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A suspect investigation package: priority and reasons, referrals, identifiers, media hashes, timeline,
    locations, the evidence of every link, possible links and alerts."""
    db = open_db()
    try:
        with db.read_session() as session:
            view = packages.package(session, suspect_id)
            s = view.suspect
            data: dict[str, Any] = {
                "suspect": s.id,
                "redirected_from": view.redirected_from,
                "state": s.state,
                "tier": view.tier,
                "score": view.score,
                "reasons": [asdict(r) for r in view.reasons],
                "assigned_to": s.assigned_to,
                "assigned_force": s.assigned_force,
                "merged_from": view.merged_from,
                "outcome": {
                    "apprehended": s.apprehended,
                    "charged": s.charged,
                    "no_further_action": s.no_further_action,
                    "children_safeguarded": s.children_safeguarded,
                },
                "referrals": [
                    {
                        "id": r.id,
                        "source": r.source,
                        "external_id": r.external_id,
                        "received_at": r.received_at,
                        "platform": r.platform,
                        "indicators": r.indicators,
                    }
                    for r in view.referrals
                ],
                "identifiers": [asdict(i) for i in view.identifiers],
                "media": [
                    {
                        "referral": m.referral_id,
                        "md5": m.md5,
                        "pdq": m.pdq,
                        "category": m.category,
                        "classification": m.classification,
                        "viewed_by_platform": m.viewed_by_platform,
                        "labels": m.labels,
                    }
                    for m in view.media
                ],
                "timeline": [asdict(e) for e in view.timeline],
                "locations": [asdict(loc) for loc in view.locations],
                "links": [asdict(link) for link in view.links],
                "possible_links": [asdict(p) for p in view.possible_links],
                "alerts": [{"id": a.id, "owner": a.owner, "message": a.message} for a in view.alerts],
            }
    finally:
        db.dispose()
    if as_json:
        _print_json(data)
        return
    if data["redirected_from"]:
        console.print(f"suspect {data['redirected_from']} was merged into suspect {data['suspect']}")
    console.print(
        f"[bold]Suspect {data['suspect']}[/bold]: {data['tier']} ({data['score']:.1f}), {data['state']}, "
        f"assigned to {data['assigned_to'] or 'nobody'}"
    )
    for reason in data["reasons"]:
        console.print(f"  {reason['points']:+6.1f}  {reason['reason']}", markup=False)
    table = Table("kind", "value", "platforms", "referrals", "links?")
    for i in data["identifiers"]:
        table.add_row(
            i["kind"],
            i["value"],
            ", ".join(i["platforms"]) or "-",
            str(len(i["referrals"])),
            "yes" if i["linkable"] else f"no: {i['note']}",
        )
    console.print(table)
    for link in data["links"]:
        mark = " (overruled by a split)" if link["overruled"] else ""
        console.print(
            f"  link {link['referral_a']}-{link['referral_b']}: {link['explanation']}{mark}", markup=False
        )
    for possible in data["possible_links"]:
        console.print(
            f"  possible link to suspect {possible['suspect_id']}: score {possible['score']} "
            f"of {possible['threshold']}",
            markup=False,
        )


@app.command("assign")
def assign(
    suspect_id: Annotated[int, typer.Argument(min=1)],
    officer: Annotated[str | None, typer.Option(help="Officer (omit both to unassign)")] = None,
    force: Annotated[str | None, typer.Option(help="Force or unit")] = None,
) -> None:
    """Assign a package; new referrals that attach to it alert the officer."""
    db = open_db()
    try:
        with db.session() as session:
            suspect = packages.assign(session, Actor.cli(), suspect_id, officer=officer, force=force)
            who = suspect.assigned_to or suspect.assigned_force or "nobody"
    finally:
        db.dispose()
    console.print(f"suspect {suspect_id} assigned to {who}")


@app.command("state")
def set_state(
    suspect_id: Annotated[int, typer.Argument(min=1)],
    state: Annotated[str, typer.Argument(help="new, assessed, actioned or closed")],
) -> None:
    """Move a package on (new -> assessed -> actioned -> closed)."""
    db = open_db()
    try:
        with db.session() as session:
            packages.set_state(session, Actor.cli(), suspect_id, state)
    finally:
        db.dispose()
    console.print(f"suspect {suspect_id} is {state}")


@app.command("outcome")
def outcome(
    suspect_id: Annotated[int, typer.Argument(min=1)],
    apprehended: Annotated[bool | None, typer.Option("--apprehended/--not-apprehended")] = None,
    charged: Annotated[bool | None, typer.Option("--charged/--not-charged")] = None,
    no_further_action: Annotated[
        bool | None, typer.Option("--nfa/--not-nfa", help="No further action")
    ] = None,
    children: Annotated[int | None, typer.Option(min=0, help="Children safeguarded")] = None,
    notes: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record outcomes on an actioned or closed package."""
    db = open_db()
    try:
        with db.session() as session:
            packages.record_outcome(
                session,
                Actor.cli(),
                suspect_id,
                apprehended=apprehended,
                charged=charged,
                no_further_action=no_further_action,
                children_safeguarded=children,
                notes=notes,
            )
    finally:
        db.dispose()
    console.print(f"outcome recorded for suspect {suspect_id}")


@app.command("split")
def split(
    suspect_id: Annotated[int, typer.Argument(min=1)],
    referral_ids: Annotated[list[int], typer.Argument(help="Referrals to move into a new suspect")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log and the constraint)")],
) -> None:
    """Move referrals into a new suspect; automatic linking never joins the two again."""
    db = open_db()
    try:
        with db.session() as session:
            kept, new = service.split_suspect(session, Actor.cli(), suspect_id, referral_ids, reason=reason)
    finally:
        db.dispose()
    console.print(
        f"suspect {kept} split: referrals {', '.join(map(str, referral_ids))} are now suspect {new}"
    )


@app.command("merge")
def merge(
    first: Annotated[int, typer.Argument(min=1)],
    second: Annotated[int, typer.Argument(min=1)],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log and the link)")],
) -> None:
    """Merge two suspects (lifting any do-not-link between them)."""
    db = open_db()
    try:
        with db.session() as session:
            kept = service.merge_suspects(session, Actor.cli(), first, second, reason=reason)
    finally:
        db.dispose()
    console.print(f"merged into suspect {kept}")


@app.command("alerts")
def alerts(
    owner: Annotated[str | None, typer.Option(help="Only this owner's alerts")] = None,
    include_acknowledged: Annotated[bool, typer.Option("--all", help="Include acknowledged alerts")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Deconfliction alerts: referrals attached to assigned suspects, possible links between owners."""
    db = open_db()
    try:
        with db.read_session() as session:
            rows: list[dict[str, Any]] = [
                {
                    "id": a.id,
                    "owner": a.owner,
                    "suspect": a.suspect_id,
                    "kind": a.kind,
                    "message": a.message,
                    "created_at": a.created_at,
                    "acknowledged_at": a.acknowledged_at,
                }
                for a in packages.alerts(session, owner=owner, include_acknowledged=include_acknowledged)
            ]
    finally:
        db.dispose()
    if as_json:
        _print_json(rows)
        return
    table = Table("alert", "owner", "suspect", "kind", "message")
    for row in rows:
        table.add_row(str(row["id"]), row["owner"], str(row["suspect"]), row["kind"], row["message"])
    console.print(table)


@app.command("ack")
def ack(alert_id: Annotated[int, typer.Argument(min=1)]) -> None:
    """Acknowledge an alert."""
    db = open_db()
    try:
        with db.session() as session:
            packages.acknowledge(session, Actor.cli(), alert_id)
    finally:
        db.dispose()
    console.print(f"alert {alert_id} acknowledged")


@app.command("reprioritise")
def reprioritise() -> None:
    """Re-score every open package as of now (after changing weights, or as time passes)."""
    db = open_db()
    try:
        with db.session() as session:
            count = service.reprioritise(session, Actor.cli())
    finally:
        db.dispose()
    console.print(f"re-scored {count} packages")


@app.command("synthetic")
def synthetic(
    out: Annotated[Path, typer.Argument(help="Where to write a Safeguard JSON referral file")],
    suspects: Annotated[int, typer.Option(min=1, max=1_000_000)] = 100,
    seed: Annotated[int, typer.Option()] = 7,
    easy: Annotated[bool, typer.Option("--easy", help="Without the strangers' collisions")] = False,
) -> None:
    """Write synthetic referrals (planted suspects, realistic noise) for demos and trials. Nothing in them
    is real: syllable names, random numbers, test address ranges and random hashes."""
    data = generate(suspects, seed=seed, hard=not easy)
    out.write_text(json.dumps(dump(data.referrals)), encoding="utf-8")
    console.print(f"wrote {len(data.referrals)} referrals from {suspects} synthetic suspects to {out}")
