"""Charts of the audit report, drawn with matplotlib and returned as inline SVG text.

matplotlib is imported inside the functions (``deid --help`` must not pay for it). Figures are
built with :class:`matplotlib.figure.Figure` and saved with the SVG renderer: no pyplot, no GUI
backend and no global backend switch. Text stays text (``svg.fonttype: none``), ids are salted per
chart so that several SVGs can share one HTML page, and no date or URL is written into the SVG,
so the same audit gives the same SVG.
"""

from __future__ import annotations

import io
from collections import Counter
from html import escape
from typing import Any

PALETTE = [
    "#4269d0",
    "#efb118",
    "#ff725c",
    "#6cc5b0",
    "#3ca951",
    "#ff8ab7",
    "#a463f2",
    "#97bbf5",
    "#9c6b4e",
    "#9498a0",
]
_MAX_LABEL = 40


def _label(text: object) -> str:
    """A label safe for matplotlib: no mathtext (``$`` escaped), bounded length."""
    value = str(text)
    if len(value) > _MAX_LABEL:
        value = value[: _MAX_LABEL - 1] + "…"
    return value.replace("$", r"\$")


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=96, layout="constrained")
    fig.patch.set_alpha(0.0)
    return fig


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)
    ax.grid(axis="x", color="#e4e4e4", linewidth=0.8)
    ax.set_axisbelow(True)


def to_svg(fig: Any, name: str, title: str) -> str:
    """Render ``fig`` as an ``<svg>`` element (no XML prolog) with an accessible title."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"deid-{name}"}):
        fig.savefig(
            buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
        )
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    head, rest = svg.split(">", 1)
    head = head.replace(
        "<svg", f'<svg role="img" aria-label="{escape(title)}" class="chart" id="chart-{name}"', 1
    )
    return f"{head}>{rest}"


def bar_chart(name: str, title: str, counts: dict[str, int], xlabel: str = "count") -> str | None:
    """Horizontal bars, largest first; ``None`` when there is nothing to draw."""
    items = sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0]))
    if not items:
        return None
    fig = _figure(7.5, 0.9 + 0.32 * len(items))
    ax = fig.add_subplot()
    labels = [_label(k) for k, _ in items][::-1]
    values = [v for _, v in items][::-1]
    bars = ax.barh(labels, values, color=PALETTE[0])
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=8)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_title(_label(title), fontsize=10, loc="left")
    ax.margins(x=0.12)
    _style(ax)
    return to_svg(fig, name, title)


def grouped_bar_chart(
    name: str, title: str, groups: dict[str, dict[str, int]], xlabel: str = "entities"
) -> str | None:
    """Horizontal bars per category (entity type), one bar per group (column or tier), stacked."""
    totals: Counter[str] = Counter()
    for counts in groups.values():
        totals.update({k: v for k, v in counts.items() if v})
    if not totals:
        return None
    categories = sorted(totals, key=lambda k: (-totals[k], k))[::-1]
    fig = _figure(7.5, 1.1 + 0.32 * len(categories))
    ax = fig.add_subplot()
    left = [0] * len(categories)
    for i, (group, counts) in enumerate(sorted(groups.items())):
        values = [counts.get(c, 0) for c in categories]
        ax.barh(
            [_label(c) for c in categories],
            values,
            left=left,
            label=_label(group),
            color=PALETTE[i % len(PALETTE)],
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, total in enumerate(left):
        ax.annotate(
            f"{total:,}", (total, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
        )
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_title(_label(title), fontsize=10, loc="left")
    ax.margins(x=0.12)
    if len(groups) > 1:
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    _style(ax)
    return to_svg(fig, name, title)


def histogram_grid(name: str, title: str, histograms: dict[str, list[int]], edges: list[float]) -> str | None:
    """One small score histogram per entity type (bins over ``edges``)."""
    items = [(k, v) for k, v in sorted(histograms.items()) if sum(v)]
    if not items:
        return None
    columns = min(4, len(items))
    rows = -(-len(items) // columns)
    fig = _figure(2.0 * columns + 0.6, 1.7 * rows + 0.5)
    axes = fig.subplots(rows, columns, squeeze=False)
    widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
    for index, ax in enumerate(axes.flat):
        if index >= len(items):
            ax.set_visible(False)
            continue
        entity, bins = items[index]
        ax.bar(
            edges[:-1],
            bins,
            width=widths,
            align="edge",
            color=PALETTE[index % len(PALETTE)],
            edgecolor="white",
        )
        ax.set_xlim(edges[0], edges[-1])
        ax.set_title(f"{_label(entity)} ({sum(bins):,})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(_label(title), fontsize=10, x=0.01, ha="left")
    fig.supxlabel("detection score", fontsize=8)
    return to_svg(fig, name, title)


def throughput_chart(name: str, title: str, points: list[dict[str, float]]) -> str | None:
    """Cumulative rows processed over the run's time (one point per committed shard)."""
    if not points:
        return None
    ordered = sorted(points, key=lambda p: p["t"])
    times = [0.0]
    rows = [0]
    for point in ordered:
        times.append(float(point["t"]))
        rows.append(rows[-1] + int(point["rows"]))
    fig = _figure(7.5, 2.8)
    ax = fig.add_subplot()
    ax.plot(times, rows, marker="o", markersize=3, color=PALETTE[0], drawstyle="steps-post")
    ax.set_xlabel("seconds since start", fontsize=9)
    ax.set_ylabel("rows processed", fontsize=9)
    ax.set_title(_label(title), fontsize=10, loc="left")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    _style(ax)
    ax.grid(axis="y", color="#e4e4e4", linewidth=0.8)
    return to_svg(fig, name, title)


def leak_chart(name: str, title: str, by_type: dict[str, dict[str, int]]) -> str | None:
    """Gold values per type beside how many leaked."""
    items = [(k, v) for k, v in sorted(by_type.items()) if v.get("values")]
    if not items:
        return None
    items.sort(key=lambda kv: (-kv[1]["values"], kv[0]))
    items = items[::-1]
    fig = _figure(7.5, 1.1 + 0.34 * len(items))
    ax = fig.add_subplot()
    labels = [_label(k) for k, _ in items]
    positions = list(range(len(items)))
    ax.barh(
        [p + 0.2 for p in positions],
        [v["values"] for _, v in items],
        height=0.4,
        label="gold values",
        color=PALETTE[0],
    )
    ax.barh(
        [p - 0.2 for p in positions],
        [v["leaked_values"] for _, v in items],
        height=0.4,
        label="leaked",
        color=PALETTE[2],
    )
    ax.set_yticks(positions, labels)
    ax.set_xlabel("values", fontsize=9)
    ax.set_title(_label(title), fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    _style(ax)
    return to_svg(fig, name, title)
