"""The model card written next to every trained model (``MODEL.npz`` -> ``MODEL.md``)."""

from __future__ import annotations

from typing import Any

LIMITS = """\
- **The groomers here talked to adults.** Every offender in the Perverted-Justice data was chatting with an
  adult volunteer posing as a child, not with a child. Real children write differently, and a real child's
  chat may lack the age statements the decoys make early.
- **The negatives are not today's platforms.** Benign authors are the decoys (adults writing as children) and
  NPS chat rooms of 2006 (group rooms, short posts). There is no one-to-one chat between consenting adults, no
  teenagers chatting among themselves, no modern messaging in the training data. The model is built not to
  lean on what tells these sources apart (identical normalisation for every source; a language model trained
  only *within* grooming conversations; a child-directed gate), but its figures on other sources are unknown
  until measured there.
- **A child-directed gate.** The model cannot flag an author until a child-directed behaviour (the other's
  parents, school, being under age, home alone, fear of a sting...) or another participant saying they are
  under 18 has been seen. This protects adults flirting with adults; it also means a groomer who never shows
  one of these is not flagged (about 1-2% of offenders here, and most of the short PAN 2012 excerpts, which
  start mid-conversation).
- **Talking with someone who said they are a minor counts.** How many times the other participants of a
  small conversation said they are under 18 is a risk feature (it is what tells the offenders from the decoys
  who answer them, early). No benign adult talking with a child is in the training data, so an adult who
  does (a tutor asking a 16-year-old for a photo of their notes and to meet at the library) can be flagged:
  a moderator has to read it.
- **Messages are matched in English chat spelling only.**
- **Turn order.** The Perverted-Justice files keep each side in order but lose the order between the sides;
  training interleaves them by relative position.
- Researchers who built the eSPD benchmark warn that models trained on such data will not detect real
  grooming reliably without data from the platform itself: retrain and calibrate on your own labelled
  conversations (``safeguard text train --data YOUR_DIR``), and measure before you act on alerts.
"""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(report: dict[str, Any], *, sha256: str, command: str) -> str:
    data = report["data"]
    cv = report["cross_validation"]
    fig = cv["figures"]
    authors, convs, early = fig["authors"], fig["conversations"], fig["early_detection"]
    lines = [
        "# Safeguard grooming model card",
        "",
        f"- File SHA-256: `{sha256}`",
        f"- Rebuild: `{command}` (seed {report['config']['seed']}; deterministic: same data, same bytes)",
        f"- Libraries: scikit-learn {report['library']['scikit-learn']}, numpy {report['library']['numpy']}",
        "- Training data fingerprint (SHA-256 of every conversation, author and text): "
        f"`{data['fingerprint']}`",
        f"- Decision threshold: {report['threshold']:.4f} "
        "(risk 0-1, calibrated on cross-validated predictions)",
        "",
        "## What it is",
        "",
        "A streaming detector: after every message it updates the author's running state (behaviour counts,",
        "a language score, whether child-directed behaviour was seen) and returns a calibrated risk and the",
        "reasons (behaviours, message ids, character spans). The file holds hashed n-gram weights (no",
        "vocabulary, no text), a tree ensemble over the state, a calibration curve and the threshold.",
        "See `docs/grooming.md`.",
        "",
        "## Intended use",
        "",
        "Prioritising conversations for human review on a platform where adults and children can talk. Not",
        "for automatic enforcement, and not evidence: a moderator reads the conversation.",
        "",
        "## Data",
        "",
        f"{data['conversations']:,} conversations, {data['messages']:,} messages, "
        f"{data['authors']:,} authors, "
        f"{data['groomers']:,} labelled groomers. Authors by source: "
        + ", ".join(f"{k} {v:,}" for k, v in data["roles"].items())
        + ".",
        "",
        f"## Cross-validated figures ({cv['folds']} folds grouped by person and chat session)",
        "",
        "Each fold is judged with a calibration and a threshold fitted on the other folds.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| author precision / recall | {_num(authors['precision'])} / {_num(authors['recall'])} |",
        f"| author F1 / F0.5 | {_num(authors['f1'])} / {_num(authors['f0_5'])} |",
        f"| conversation precision / recall / F0.5 | {_num(convs['precision'])} / {_num(convs['recall'])} / "
        f"{_num(convs['f0_5'])} |",
        f"| recall at 1% / 0.1% false-positive rate | {_num(fig['recall_at_fpr']['0.01'])} / "
        f"{_num(fig['recall_at_fpr']['0.001'])} |",
        f"| groomer messages before the first correct alert: median / p90 | "
        f"{_num(early['median_messages_to_alert'], 1)} / {_num(early['p90_messages_to_alert'], 1)} |",
        f"| groomers alerted within 15 of their messages | {_pct(early['within_15_messages'])} |",
        f"| latency-weighted F1 (eSPD; penalty 0.5 at {early['half_penalty_messages']:.0f} messages) | "
        f"{_num(early['latency_weighted_f1'])} |",
        f"| false alerts per 1,000 benign authors | {_num(authors['false_alerts_per_1000_benign'], 1)} |",
        "",
        "Per source:",
        "",
        "| source | authors | groomers | flagged | rate |",
        "|---|---|---|---|---|",
    ]
    for role, row in fig["per_source"].items():
        rate = _pct(row["flagged_rate"])
        lines.append(f"| {role} | {row['authors']} | {row['groomers']} | {row['flagged']} | {rate} |")
    lines += ["", "## Known limits", "", LIMITS]
    return "\n".join(lines)
