"""``safeguard text ...``: train, evaluate and run the grooming detector; keep its stored text in check."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from safeguard.auth import Actor
from safeguard.cli.common import console, err_console, open_db
from safeguard.text import assessment, card, service
from safeguard.text.corpus import build_corpus
from safeguard.text.errors import NoTrainingData
from safeguard.text.loaders import load_directory, read_jsonl_messages
from safeguard.text.model import DEFAULT_MODEL_PATH, GroomingModel
from safeguard.text.scorer import StreamingScorer
from safeguard.text.training import TrainingConfig, train

app = typer.Typer(help="Grooming detection: train, evaluate, score chats.", no_args_is_help=True)

DataDir = Annotated[
    Path, typer.Option("--data", help="Folder of chats (Perverted-Justice, NPS, PAN 2012, *.jsonl)")
]
ModelOpt = Annotated[Path | None, typer.Option("--model", help="Model file (default: the shipped model)")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def _progress(started: float) -> Any:
    def show(message: str) -> None:
        err_console.print(f"[{time.perf_counter() - started:6.0f}s] {message}", markup=False)

    return show


@app.command("train")
def train_command(
    data: DataDir,
    out: Annotated[
        Path, typer.Option("--out", help="Model file to write (.npz); the card goes next to it (.md)")
    ],
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
    folds: Annotated[int, typer.Option(help="Cross-validation folds", min=2, max=20)] = 5,
) -> None:
    """Train a model on labelled chats, cross-validate it, write the model file and its model card."""
    started = time.perf_counter()
    progress = _progress(started)
    conversations = load_directory(data)
    model, report = train(conversations, TrainingConfig(seed=seed, folds=folds), progress)
    sha = model.save(out)
    command = f"safeguard text train --data {data} --out {out} --seed {seed} --folds {folds}"
    out.with_suffix(".md").write_text(card.render(model.report, sha256=sha, command=command) + "\n")
    figures = report["cross_validation"]["figures"]
    console.print(f"wrote {out} ({out.stat().st_size:,} bytes, sha256 {sha}) and {out.with_suffix('.md')}")
    _print_figures(figures, f"cross-validated ({report['cross_validation']['folds']} grouped folds)")
    console.print(f"threshold {model.threshold:.4f}; {time.perf_counter() - started:.0f} s")


@app.command("evaluate")
def evaluate_command(
    data: DataDir,
    model_path: ModelOpt = None,
    threshold: Annotated[
        float | None, typer.Option(help="Override the model's threshold", min=0.0, max=1.0)
    ] = None,
    cross_validate: Annotated[
        bool, typer.Option("--cross-validate", help="Grouped cross-validation of the training recipe instead")
    ] = False,
    leave_one_source_out: Annotated[
        bool, typer.Option("--leave-one-source-out", help="Also train without each source and test on it")
    ] = False,
    half_penalty: Annotated[
        float | None, typer.Option(help="Messages at which the eSPD latency penalty is 0.5 (default: median)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Precision, recall, F1, F0.5 per author and conversation, recall at 1% / 0.1% FPR, messages before
    the first correct alert, eSPD latency-weighted F1, false alerts per 1,000 benign authors, per source."""
    progress = _progress(time.perf_counter())
    conversations = load_directory(data)
    model = GroomingModel.load(model_path or DEFAULT_MODEL_PATH)
    corpus = build_corpus(conversations, model.hashing, progress)
    if not corpus.label.any():
        raise NoTrainingData(f"{data}: no labelled groomers; nothing to evaluate against")
    result: dict[str, Any]
    if cross_validate:
        result = assessment.cross_validated(corpus, TrainingConfig(), progress)
        title = "cross-validated (grouped folds, training recipe)"
    else:
        result = assessment.evaluate_model(model, corpus, threshold, half_penalty)
        title = f"model {model_path or DEFAULT_MODEL_PATH} at threshold {result['threshold']:.4f}"
        if result["same_data_as_training"]:
            err_console.print(
                "warning: this is the model's training data; use --cross-validate for honest figures"
            )
    if leave_one_source_out:
        result["leave_one_source_out"] = assessment.leave_one_source_out(corpus, TrainingConfig(), progress)
    if as_json:
        print(json.dumps(result, indent=2, default=float))
        return
    _print_figures(result["figures"], title)
    for role, row in result.get("leave_one_source_out", {}).items():
        held = row["held_out"]
        console.print(
            f"trained without {role}: {held.get('flagged', 0)} of {held.get('authors', 0)} flagged"
            + (f", recall {held['recall']:.3f}" if "recall" in held else "")
        )


@app.command("score")
def score_command(
    file: Annotated[Path, typer.Argument(help="JSON Lines of {conversation, author, text, time?}")],
    model_path: ModelOpt = None,
    threshold: Annotated[
        float | None, typer.Option(help="Override the model's threshold", min=0.0, max=1.0)
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout")] = None,
) -> None:
    """One JSON line per (conversation, author): score, flagged, first_flag_message, reasons."""
    scorer = StreamingScorer(GroomingModel.load(model_path or DEFAULT_MODEL_PATH), threshold)
    messages = (message for message, _ in read_jsonl_messages(file))
    target = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for risk in scorer.score_stream(messages):
            target.write(json.dumps(risk.to_dict(), ensure_ascii=False) + "\n")
    finally:
        if out:
            target.close()


@app.command("compare")
def compare_command(data: DataDir, as_json: Json = False) -> None:
    """The comparison table of docs/grooming.md: baseline, ablations and the shipped recipe (slow)."""
    progress = _progress(time.perf_counter())
    config = TrainingConfig()
    corpus = build_corpus(load_directory(data), config.hashing, progress)
    rows = assessment.compare(corpus, config, progress)
    if as_json:
        print(json.dumps(rows, indent=2, default=float))
        return
    table = Table("approach", "F0.5", "precision", "recall", "decoys flagged", "NPS flagged", "median msgs")
    for name, row in rows.items():
        fig = row["whole_author"] if "whole_author" in row else row["figures"]
        early = row.get("streaming_prefixes", fig)["early_detection"]
        src = fig["per_source"]
        table.add_row(
            name,
            f"{fig['authors']['f0_5']:.3f}",
            f"{fig['authors']['precision']:.3f}",
            f"{fig['authors']['recall']:.3f}",
            f"{src.get('decoy', {}).get('flagged_rate', 0):.3f}",
            f"{src.get('nps', {}).get('flagged_rate', 0):.3f}",
            str(early["median_messages_to_alert"]),
        )
    console.print(table)


@app.command("purge")
def purge_command() -> None:
    """Delete stored conversation text whose retention period has run out."""
    db = open_db()
    try:
        with db.session() as session:
            deleted = service.purge_expired_text(session, Actor.cli())
    finally:
        db.dispose()
    console.print(f"deleted {deleted} messages")


@app.command("alerts")
def alerts_command(
    after: Annotated[int, typer.Option(help="Only alerts with a larger id")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many", min=1, max=1000)] = 100,
) -> None:
    """Grooming alerts as JSON lines, oldest first."""
    db = open_db()
    try:
        with db.read_session() as session:
            rows = service.list_alerts(session, after_id=after, limit=limit)
            for row in rows:
                print(
                    json.dumps(
                        {
                            "id": row.id,
                            "owner": row.owner,
                            "conversation": row.conversation_id,
                            "author": row.author_id,
                            "message_id": row.message_id,
                            "risk": row.risk,
                            "behaviours": row.behaviours,
                            "raised_at": row.raised_at.isoformat(),
                            "review_case_id": row.review_case_id,
                        }
                    )
                )
    finally:
        db.dispose()


def _print_figures(figures: dict[str, Any], title: str) -> None:
    authors, convs, early = figures["authors"], figures["conversations"], figures["early_detection"]
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("authors: precision / recall", f"{authors['precision']:.3f} / {authors['recall']:.3f}"),
        ("authors: F1 / F0.5", f"{authors['f1']:.3f} / {authors['f0_5']:.3f}"),
        ("conversations: precision / recall", f"{convs['precision']:.3f} / {convs['recall']:.3f}"),
        ("conversations: F1 / F0.5", f"{convs['f1']:.3f} / {convs['f0_5']:.3f}"),
        (
            "recall at FPR 1% / 0.1%",
            f"{figures['recall_at_fpr']['0.01']:.3f} / {figures['recall_at_fpr']['0.001']:.3f}",
        ),
        (
            "messages before first correct alert: median / p90",
            f"{early['median_messages_to_alert']} / {early['p90_messages_to_alert']}",
        ),
        (f"eSPD latency-weighted F1 (p={early['penalty_p']:.4f})", f"{early['latency_weighted_f1']:.3f}"),
        ("false alerts per 1,000 benign authors", f"{authors['false_alerts_per_1000_benign']:.1f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    per = Table("source", "authors", "groomers", "flagged", "rate", title="per source")
    for role, row in figures["per_source"].items():
        per.add_row(
            role, str(row["authors"]), str(row["groomers"]), str(row["flagged"]), f"{row['flagged_rate']:.3f}"
        )
    console.print(per)
