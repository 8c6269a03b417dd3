"""Charts of the figures as PNG or SVG files (matplotlib, headless ``Agg`` backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: charts are files, written from the CLI or a server

import matplotlib.pyplot as plt

from safeguard.errors import InvalidInput
from safeguard.stats.figures import Comparison
from safeguard.stats.funnel import STAGES, FunnelRow

FORMATS = {".png": "png", ".svg": "svg"}
BAR = "#2f5d8a"
HIGHLIGHT = "#c0392b"


def _format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"chart file must end in .png or .svg, not {path.suffix or '(none)'}", field="chart"
        )
    return fmt


def series_chart(counts: dict[str, int], comparison: Comparison | None, title: str, path: Path) -> Path:
    """Bars per period; the compared period highlighted, its five-year mean drawn as a line."""
    fmt = _format(path)
    labels = list(counts)
    figure, axes = plt.subplots(figsize=(max(6.0, 0.35 * len(labels) + 2), 4.2), dpi=120)
    try:
        colours = [HIGHLIGHT if comparison and label == comparison.label else BAR for label in labels]
        axes.bar(labels, [counts[label] for label in labels], color=colours)
        if comparison is not None and comparison.five_year_mean is not None:
            axes.axhline(
                float(comparison.five_year_mean),
                color="#555555",
                linestyle="--",
                linewidth=1,
                label=f"{comparison.years_in_mean}-year mean for {comparison.label}",
            )
            axes.legend(loc="upper left", fontsize=8)
        axes.set_title(title, fontsize=10)
        axes.tick_params(axis="x", labelrotation=60, labelsize=7)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format=fmt)
    finally:
        plt.close(figure)
    return path


def funnel_chart(rows: list[FunnelRow], title: str, path: Path, *, areas: int = 8) -> Path:
    """One group of bars per stage, one bar per area (the largest areas), plus all areas."""
    fmt = _format(path)
    shown = rows[:-1][:areas] + rows[-1:]
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
    try:
        width = 0.8 / max(len(shown), 1)
        for n, row in enumerate(shown):
            values = [row.values()[stage] for stage in STAGES]
            positions = [i + n * width for i in range(len(STAGES))]
            axes.bar(positions, values, width=width, label=row.area)
        axes.set_xticks([i + 0.4 - width / 2 for i in range(len(STAGES))])
        axes.set_xticklabels([s.replace("_", " ") for s in STAGES], fontsize=8)
        axes.set_yscale("symlog")
        axes.set_title(title, fontsize=10)
        axes.legend(fontsize=7, ncol=2)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format=fmt)
    finally:
        plt.close(figure)
    return path
