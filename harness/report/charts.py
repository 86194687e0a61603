"""Charts for the reports, drawn from the results alone (matplotlib, Agg backend).

The charts carry no words: axes are labelled with category codes, item IDs and star counts, and
each report explains the encoding in its own language beside the image. So one PNG serves both
reports. Each PNG records a hash of the data it was drawn from (its ``Description`` text chunk),
which is how the drift test knows a chart still shows what the results say.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

MEASURED = "#1f6feb"
ORIGINAL = "#b0b7c3"
DIFFERS = "#d9822b"


def data_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def recorded_hash(path: Path) -> str | None:
    """The data hash a chart was drawn from, read back from its PNG text chunk."""
    from PIL import Image

    with Image.open(path) as image:
        text: dict[str, str] = getattr(image, "text", {})
        return text.get("Description")


def _save(figure: Any, path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(
        path,
        dpi=110,
        metadata={"Software": None, "Description": data_hash(data)},
        bbox_inches="tight",
    )
    plt.close(figure)
    return path


def _style() -> None:
    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",  # bundled with matplotlib: the same on every machine
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "report",
        }
    )


@dataclass(frozen=True)
class CategoryAverage:
    code: str
    original: float
    measured: float | None  # None: nothing measured yet


def stars_by_category(rows: Sequence[CategoryAverage], path: Path) -> Path:
    """Grouped bars: the original report's average stars and the measured ones, per category."""
    _style()
    figure, axes = plt.subplots(figsize=(7.5, 3.0))
    positions = range(len(rows))
    width = 0.38
    axes.bar([p - width / 2 for p in positions], [r.original for r in rows], width, color=ORIGINAL)
    axes.bar(
        [p + width / 2 for p in positions],
        [r.measured or 0 for r in rows],
        width,
        color=MEASURED,
    )
    for p, row in zip(positions, rows, strict=True):
        if row.measured is None:
            axes.text(p + width / 2, 0.1, "-", ha="center", color=MEASURED)
    axes.set_xticks(list(positions), [r.code for r in rows])
    axes.set_ylim(0, 5.2)
    axes.set_yticks([1, 2, 3, 4, 5], ["★1", "★2", "★3", "★4", "★5"])
    axes.axhline(3, color="#888888", linewidth=0.6, linestyle=":")
    return _save(figure, path, [r.__dict__ for r in rows])


@dataclass(frozen=True)
class ItemStars:
    id: str
    original: int
    measured: int | None


def items_original_vs_measured(rows: Sequence[ItemStars], path: Path) -> Path:
    """Per item: a grey dot for the original stars, a coloured one for the measured stars, and a
    line between them where they differ."""
    _style()
    figure, axes = plt.subplots(figsize=(12, 3.2))
    for x, row in enumerate(rows):
        axes.scatter([x], [row.original], color=ORIGINAL, s=28, zorder=2)
        if row.measured is None:
            continue
        differs = row.measured != row.original
        if differs:
            axes.plot([x, x], [row.original, row.measured], color=DIFFERS, linewidth=1.2)
        axes.scatter([x], [row.measured], color=DIFFERS if differs else MEASURED, s=28, zorder=3)
    axes.set_xticks(range(len(rows)), [r.id for r in rows], rotation=90)
    axes.set_ylim(0.5, 5.5)
    axes.set_yticks([1, 2, 3, 4, 5], ["★1", "★2", "★3", "★4", "★5"])
    axes.axhline(3, color="#888888", linewidth=0.6, linestyle=":")
    axes.set_xlim(-0.8, len(rows) - 0.2)
    return _save(figure, path, [r.__dict__ for r in rows])


def latency_distribution(series: Sequence[Sequence[float]], path: Path) -> Path:
    """Histograms of raw latency samples in ms on a log axis, one colour per series (blue, then
    orange), each with its median marked by a dashed line."""
    _style()
    figure, axes = plt.subplots(figsize=(7.5, 2.8))
    everything = [v for samples in series for v in samples if v > 0]
    low, high = min(everything), max(everything)
    bins = [low * (high / low) ** (i / 60) for i in range(61)] if high > low else 10
    for samples, colour in zip(series, (MEASURED, DIFFERS), strict=False):
        axes.hist(samples, bins=bins, color=colour, alpha=0.75)
        median = sorted(samples)[len(samples) // 2]
        axes.axvline(median, color=colour, linestyle="--", linewidth=1)
    axes.set_xscale("log")
    axes.set_xlabel("ms")
    return _save(figure, path, [list(samples) for samples in series])
