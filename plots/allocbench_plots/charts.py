"""The charts: each function draws one figure from a ResultSet, and draw_all writes them.

Every chart carries a title, axis units and the footer line (host, date, machine,
revision), so a PNG copied out of the report still says where its numbers came from.
"""

from __future__ import annotations

import math
import os
import statistics
import textwrap
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # files only; never a display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

from .results import PROGRAM_WORKLOAD, Config, ResultSet, Summary, program_name  # noqa: E402

FAILED_COLOR = "#b22222"
# Fixed ids inside SVGs: the same results give the same bytes (diffable, cacheable).
matplotlib.rcParams["svg.hashsalt"] = "allocbench"
DPI = 110


@dataclass
class Chart:
    """One drawn chart: its files and what the report says about it."""

    name: str  # file stem
    # "relative", "throughput", "repetitions", "memory", "speed-memory", "extra", "latency",
    # "rss", "micro", "programs", "compare"
    section: str
    title: str
    caption: str
    files: Dict[str, str] = field(default_factory=dict)  # format -> path


def _finish(fig, rs: ResultSet, title: str, note: str = "") -> None:
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.supxlabel((note + "\n" if note else "") + rs.footer(), fontsize=7.5, color="0.35")


def _save(fig, outdir: str, name: str, formats: Sequence[str]) -> Dict[str, str]:
    files = {}
    for fmt in formats:
        path = os.path.join(outdir, f"{name}.{fmt}")
        # No timestamps in the files: the same results give the same bytes.
        meta = {"Date": None} if fmt == "svg" else {}
        fig.savefig(path, format=fmt, dpi=DPI, metadata=meta)
        files[fmt] = path
    plt.close(fig)
    return files


def rate_unit(largest: float) -> Tuple[float, str]:
    """(divisor, unit) that keeps a throughput axis readable: the large workload makes
    thousands of calls per second where alloc-free makes tens of millions."""
    if largest >= 1e6:
        return 1e6, "million ops/s"
    if largest >= 1e3:
        return 1e3, "thousand ops/s"
    return 1.0, "ops/s"


def _largest_rate(rs: ResultSet, configs: List[Config]) -> float:
    keys = {c.key for c in configs}
    return max((s.stats["ops_per_s"].max for s in rs.summaries
                if s.config in keys and s.n and "ops_per_s" in s.stats), default=0.0)


def _threads_label(t: int) -> str:
    return f"{t} thread" + ("" if t == 1 else "s")


def _params_text(config: Config) -> str:
    parts = [f"size={config.size}"] if config.size else []
    parts += [f"{k}={v}" for k, v in config.params.items()]
    return ", ".join(parts)


def _failure_notes(rs: ResultSet, config: Config, threads: Optional[int] = None) -> List[str]:
    notes = []
    for alloc in rs.allocators():
        for t in rs.thread_counts([config]):
            if threads is not None and t != threads:
                continue
            s = rs.summary(config.key, alloc, t)
            if s is not None and s.failed:
                notes.append(f"{alloc} at {t} thr: {s.failed} of {s.n + s.failed} runs failed")
    return notes


# --- throughput against threads ------------------------------------------------------

def _draw_throughput(ax, rs: ResultSet, config: Config, legend: bool = True) -> str:
    """Draws one configuration's lines; returns the unit of the y axis ('' if nothing drawn)."""
    threads = rs.thread_counts([config])
    allocs = rs.allocators()
    div, unit = rate_unit(_largest_rate(rs, [config]))
    drew = False
    for alloc in allocs:
        xs, med, lo, hi = [], [], [], []
        for t in threads:
            s = rs.summary(config.key, alloc, t)
            st = s.stats.get("ops_per_s") if s is not None and s.n else None
            if st is None:
                continue
            xs.append(t)
            med.append(st.median / div)
            lo.append((st.median - st.min) / div)
            hi.append((st.max - st.median) / div)
        if not xs:
            continue
        color, marker = rs.style(alloc)
        ax.errorbar(xs, med, yerr=[lo, hi], color=color, marker=marker, markersize=5,
                    linewidth=1.8, capsize=3, elinewidth=1, label=alloc)
        drew = True
    ax.set_xscale("log", base=2)
    ax.set_xticks(threads)
    ax.set_xticklabels([str(t) for t in threads])
    ax.xaxis.set_minor_locator(NullLocator())
    if len(threads) > 1:
        ax.set_xlim(threads[0] / 1.25, threads[-1] * 1.25)
    cores = rs.context.get("cpu_count")
    if isinstance(cores, int) and threads and threads[0] <= cores <= threads[-1]:
        ax.axvline(cores, color="0.6", linestyle=":", linewidth=1)
        ax.annotate(f"{cores} cores", (cores, 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -3), textcoords="offset points", fontsize=7, color="0.45", va="top")
    ax.set_ylim(bottom=0)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_xlabel("threads")
    ax.set_ylabel(f"throughput ({unit})")
    notes = _failure_notes(rs, config)
    if notes:
        ax.text(0.99, 0.02, "\n".join(notes[:4] + (["…"] if len(notes) > 4 else [])),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color=FAILED_COLOR)
    if legend and drew:
        ax.legend(fontsize=8, loc="upper left", framealpha=0.85)
    return unit if drew else ""


def throughput_chart(rs: ResultSet, config: Config):
    fig, ax = plt.subplots(figsize=(7.2, 4.6), layout="constrained")
    drew = _draw_throughput(ax, rs, config)
    if not drew:
        ax.text(0.5, 0.5, "no successful runs", transform=ax.transAxes, ha="center",
                color=FAILED_COLOR)
    sub = _params_text(config)
    sub += ("\n" if len(sub) > 60 else "   ") + "(median; bars: min–max of repetitions)"
    ax.set_title(sub, fontsize=8.5, color="0.3")
    _finish(fig, rs, f"{config.label}: throughput against threads")
    return fig


def throughput_overview(rs: ResultSet, configs: List[Config]):
    ncols = 3 if len(configs) > 4 else max(1, min(2, len(configs)))
    nrows = math.ceil(len(configs) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.3 * ncols, 3.1 * nrows + 0.8),
                             layout="constrained", squeeze=False)
    for ax, config in zip(axes.flat, configs):
        unit = _draw_throughput(ax, rs, config, legend=False)
        ax.set_title(config.label, fontsize=10)
        ax.set_xlabel("threads", fontsize=8)
        ax.set_ylabel(unit or "ops/s", fontsize=8)
        ax.tick_params(labelsize=8)
    allocs = rs.allocators()
    handles = [plt.Line2D([], [], color=rs.style(a)[0], marker=rs.style(a)[1], label=a)
               for a in allocs]
    spare = list(axes.flat)[len(configs):]
    for ax in spare:
        ax.set_axis_off()
    if spare:
        spare[0].legend(handles=handles, loc="center", fontsize=10, title="allocator")
    else:
        axes.flat[0].legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.85)
    _finish(fig, rs, "Throughput against threads, every workload (median, min–max bars)")
    return fig


# --- workloads x allocators, relative to a baseline ------------------------------------

Cell = Tuple[Optional[float], str]  # (ratio or None, text when there is no ratio)


def _heatmap(rs: ResultSet, rows: List[Config], columns: List[str], panels: List[int],
             cell: Callable[[Config, str, int], Cell], title: str, colorbar_label: str,
             panel_title: Callable[[int], str]):
    ncols = len(panels)
    width = max(6.0, 1.2 + ncols * (0.95 * len(columns) + 0.6) + 1.6)
    height = 1.9 + 0.42 * len(rows)
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), layout="constrained",
                             squeeze=False, sharey=True)
    values = [[[cell(r, c, p) for c in columns] for r in rows] for p in panels]
    finite = [abs(math.log2(v)) for panel in values for row in panel for v, _ in row
              if v is not None and v > 0]
    limit = max(math.log2(1.5), min(math.log2(8), max(finite) if finite else 1.0))
    norm = mcolors.TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    cmap = plt.get_cmap("RdBu")
    image = None
    for ax, panel, p in zip(axes[0], values, panels):
        grid = [[math.log2(v) if v is not None and v > 0 else float("nan") for v, _ in row]
                for row in panel]
        masked = [[g for g in row] for row in grid]
        image = ax.imshow(masked, cmap=cmap, norm=norm, aspect="auto")
        ax.set_facecolor("#efefef")
        for i, row in enumerate(panel):
            for j, (v, text) in enumerate(row):
                if v is not None and v > 0:
                    shade = abs(norm(math.log2(v)) - 0.5) * 2
                    ax.text(j, i, f"{v:.2f}×", ha="center", va="center", fontsize=8,
                            color="white" if shade > 0.6 else "black")
                else:
                    ax.text(j, i, text, ha="center", va="center", fontsize=7,
                            color=FAILED_COLOR if text == "failed" else "0.45")
        ax.set_xticks(range(len(columns)))
        ax.set_xticklabels(columns, rotation=30, ha="right", fontsize=8.5)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r.label for r in rows], fontsize=8.5)
        ax.set_title(panel_title(p), fontsize=10)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, pad=0.02)
        ticks = [t for t in (-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3) if abs(t) <= limit + 1e-9]
        bar.set_ticks(ticks)
        bar.set_ticklabels([f"{2 ** t:.2g}×" for t in ticks])
        bar.set_label(colorbar_label, fontsize=8.5)
    _finish(fig, rs, title)
    return fig


def relative_chart(rs: ResultSet, configs: List[Config]):
    base = rs.baseline()
    columns = [a for a in rs.allocators() if a != base] or rs.allocators()
    panels = rs.thread_counts(configs)

    def cell(config: Config, alloc: str, threads: int) -> Cell:
        s = rs.summary(config.key, alloc, threads)
        b = rs.summary(config.key, base, threads) if base else None
        if s is None:
            return None, "not run"
        if not s.n or s.median("ops_per_s") is None:
            return None, "failed"
        if b is None or not b.n or not b.median("ops_per_s"):
            return None, f"no {base}"
        return s.median("ops_per_s") / b.median("ops_per_s"), ""

    return _heatmap(rs, configs, columns, panels, cell,
                    f"Throughput relative to {base} (median ops/s; blue: faster, red: slower)",
                    f"throughput ÷ {base} throughput", _threads_label)


def _log_minor_labeller(ax):
    """Labels for a log x axis's minor ticks: a span of a decade or less has no major tick
    to read, so label more of them the narrower the span; none beyond two decades."""
    def label(v, _pos):
        lo, hi = ax.get_xlim()
        if v <= 0 or lo <= 0:
            return ""
        decades = math.log10(hi / lo)
        digit = round(v / 10 ** math.floor(math.log10(v)))
        wanted = (2, 3, 4, 5, 6, 8) if decades <= 1 else (2, 5) if decades <= 2 else ()
        return f"{v:g}" if digit in wanted else ""
    return label


# --- memory ---------------------------------------------------------------------------

def memory_chart(rs: ResultSet, configs: List[Config], threads: int):
    allocs = rs.allocators()
    n_alloc = len(allocs)
    height = 1.8 + 0.2 * len(configs) * n_alloc + 0.15 * len(configs)
    fig, (ax_rss, ax_eff) = plt.subplots(1, 2, figsize=(12, max(4.0, height)),
                                         layout="constrained", sharey=True)
    bar_h = 0.8 / max(1, n_alloc)
    for j, alloc in enumerate(allocs):
        color, _ = rs.style(alloc)
        for ax, metric, scale in ((ax_rss, "peak_rss_kib", 1 / 1024), (ax_eff, "mem_efficiency", 1.0)):
            ys, vals, lo, hi = [], [], [], []
            for i, config in enumerate(configs):
                y = i - 0.4 + bar_h * (j + 0.5)
                s = rs.summary(config.key, alloc, threads)
                st = s.stats.get(metric) if s is not None and s.n else None
                if st is None:
                    if s is not None:
                        ax.text(0.0, y, " failed", transform=ax.get_yaxis_transform(), va="center",
                                fontsize=6.5, color=FAILED_COLOR)
                    continue
                ys.append(y)
                vals.append(st.median * scale)
                lo.append((st.median - st.min) * scale)
                hi.append((st.max - st.median) * scale)
            ax.barh(ys, vals, height=bar_h * 0.92, color=color, label=alloc if ax is ax_rss else None,
                    xerr=[lo, hi], error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "0.25"})
    for ax in (ax_rss, ax_eff):
        ax.set_xscale("log")
        ax.grid(True, axis="x", which="both", alpha=0.25)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(_log_minor_labeller(ax)))
        ax.tick_params(axis="x", which="minor", labelsize=7.5)
    ax_rss.set_yticks(range(len(configs)))
    ax_rss.set_yticklabels([c.label for c in configs], fontsize=8.5)
    ax_rss.invert_yaxis()  # shared: inverting once flips both panels
    ax_eff.axvline(1.0, color="0.3", linestyle="--", linewidth=1)
    ax_eff.annotate("ideal", (1.0, 0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                    textcoords="offset points", fontsize=7, color="0.3")
    ax_rss.set_xlabel("peak RSS of the process (MiB, log scale)")
    ax_eff.set_xlabel("peak RSS ÷ peak live requested bytes (log scale; lower is better)")
    ax_rss.set_title("Peak RSS", fontsize=10)
    ax_eff.set_title("Memory efficiency", fontsize=10)
    ax_rss.legend(fontsize=8, loc="lower right", framealpha=0.85)
    _finish(fig, rs, f"Memory at {_threads_label(threads)} (median; bars: min–max of repetitions)")
    return fig


# --- every repetition -------------------------------------------------------------------

@dataclass
class Strip:
    """One benchmark's repetitions (an allocator at a thread count): the dots of its strip."""

    threads: int
    allocator: str
    rates: List[float]  # ops/s of each successful repetition, in repetition order
    failed: int  # failed repetitions: counted, never drawn

    def cv(self) -> Optional[float]:
        """Standard deviation of the rates over their mean (None below two rates)."""
        if len(self.rates) < 2:
            return None
        return statistics.stdev(self.rates) / statistics.fmean(self.rates)


def repetition_strips(rs: ResultSet, config: Config) -> List[Strip]:
    """Each benchmark of a configuration that has runs, by thread count, then allocator."""
    strips = []
    for t in sorted({r.threads for r in rs.runs_of(config.key)}):
        for alloc in rs.allocators():
            runs = sorted(rs.runs_of(config.key, alloc, t), key=lambda r: r.repetition)
            if runs:
                rates = [r.metrics["ops_per_s"] for r in runs if r.ok and "ops_per_s" in r.metrics]
                strips.append(Strip(t, alloc, rates, sum(1 for r in runs if not r.ok)))
    return strips


STRIP_WIDTH = 0.5  # of an allocator's slot: how far its dots spread sideways


def strip_offsets(n: int) -> List[float]:
    """Sideways offsets of n dots, even steps in repetition order: the same results draw
    the same dots, and a drift over the run reads left to right."""
    if n < 2:
        return [0.0] * n
    return [STRIP_WIDTH * (j / (n - 1) - 0.5) for j in range(n)]


def repetitions_chart(rs: ResultSet, config: Config):
    """A strip plot: one panel per thread count, one column of dots per allocator."""
    strips = repetition_strips(rs, config)
    threads = sorted({s.threads for s in strips})
    allocs = [a for a in rs.allocators() if any(s.allocator == a for s in strips)]
    by_key = {(s.threads, s.allocator): s for s in strips}
    ncols = 2 if len(threads) == 4 else max(1, min(3, len(threads)))
    nrows = math.ceil(len(threads) / ncols)
    panel_width = 1.0 + 0.45 * len(allocs)
    width = max(6.0, 0.6 + ncols * panel_width)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, 1.4 + 3.2 * nrows),
                             layout="constrained", squeeze=False)
    div, unit = rate_unit(max((v for s in strips for v in s.rates), default=0.0))
    for n, (ax, t) in enumerate(zip(axes.flat, threads)):
        drew = False
        for i, alloc in enumerate(allocs):
            s = by_key.get((t, alloc))
            if s is None:
                continue
            below = []  # (text, colour) under the column, bottom line first
            if s.rates:
                color, _ = rs.style(alloc)
                ax.plot([i + dx for dx in strip_offsets(len(s.rates))], [v / div for v in s.rates],
                        linestyle="none", marker="o", markersize=5.5, color=color, alpha=0.85,
                        markeredgecolor="white", markeredgewidth=0.6,
                        gid=f"repetition-dots-{t}-{i}")
                ax.hlines(statistics.median(s.rates) / div, i - 0.36, i + 0.36, color="0.1",
                          linewidth=1.6, zorder=3)
                drew = True
                if s.cv() is not None:
                    below.append((f"CV {s.cv() * 100:.1f}%", "0.35"))
            if s.failed:
                below.append((f"{s.failed} failed" if s.rates else f"all {s.failed} failed",
                              FAILED_COLOR))
            for k, (text, colour) in enumerate(below):
                ax.annotate(text, (i, 0), xycoords=("data", "axes fraction"),
                            xytext=(0, 2 + 8 * k), textcoords="offset points", ha="center",
                            va="bottom", fontsize=6.5, color=colour)
        if drew:
            # Room under the lowest dots for the CV and failure lines, above no throughput.
            lo, hi = ax.get_ylim()
            span = hi - lo
            ax.set_ylim(max(0.0, lo - 0.2 * span), hi + 0.03 * span)
        else:
            ax.set_yticks([])
            ax.text(0.5, 0.5, "no successful runs", transform=ax.transAxes, ha="center",
                    color=FAILED_COLOR)
        ax.set_xlim(-0.6, len(allocs) - 0.4)
        ax.set_xticks(range(len(allocs)))
        ax.set_xticklabels(allocs, rotation=30, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_title(_threads_label(t), fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        if n % ncols == 0:
            ax.set_ylabel(f"throughput ({unit})")
    for ax in list(axes.flat)[len(threads):]:
        ax.set_axis_off()
    note = ("dots: the repetitions, side by side in the order they ran; black line: their median\n"
            "CV: standard deviation ÷ mean")
    if len(threads) > 1:
        note += "; each panel has its own scale"
    failures = _failure_notes(rs, config)
    if failures:
        # Wrapped to the figure's width (about 16 characters of the note's size per inch).
        note += "\n" + textwrap.fill("failed repetitions are not drawn: " + "; ".join(failures),
                                     int(width * 16))
    _finish(fig, rs, f"{config.label}: throughput of every repetition", note)
    return fig


# --- speed against memory ---------------------------------------------------------------

@dataclass
class SpeedPoint:
    """One benchmark's medians: an allocator at a thread count on one configuration."""

    allocator: str
    threads: int
    rss_mib: float  # median peak RSS
    speed: float  # median ops/s, or a program's median wall time (s)


def pareto_front(points: Sequence[Tuple[float, float]],
                 larger_y_better: bool = True) -> List[Tuple[float, float]]:
    """The (memory, speed) points no other point dominates, in order of memory. One point
    dominates another when it uses no more memory and is no slower (a larger y, or a
    smaller one where larger_y_better is False, as for a wall time), and is better on at
    least one of the two: a point as fast as another in less memory leaves the front."""
    def dominates(a: Tuple[float, float], b: Tuple[float, float]) -> bool:
        no_slower = a[1] >= b[1] if larger_y_better else a[1] <= b[1]
        return a[0] <= b[0] and no_slower and a != b
    return sorted({p for p in points if not any(dominates(q, p) for q in points)})


def speed_memory_points(rs: ResultSet, config: Config,
                        metric: str = "ops_per_s") -> List[SpeedPoint]:
    """The benchmarks of a configuration with both a median `metric` and a median peak RSS."""
    points = []
    for t in rs.thread_counts([config]):
        for alloc in rs.allocators():
            speed = rs.median(config.key, alloc, t, metric)
            rss = rs.median(config.key, alloc, t, "peak_rss_kib")
            if speed and rss:
                points.append(SpeedPoint(alloc, t, rss / 1024, speed))
    return points


# Largest over smallest RSS beyond which the memory axis is logarithmic.
LOG_RSS_RATIO = 4.0
FRONT_LABEL = "Pareto front: no other point\nis both faster and smaller"


def _draw_speed_memory(ax, rs: ResultSet, points: List[SpeedPoint], larger_y_better: bool,
                       div: float, label: Optional[Callable[[SpeedPoint], str]]) -> bool:
    """Draws the points and their front; returns whether the memory axis is logarithmic."""
    ax.margins(0.08)  # the rings of points at the edges stay whole
    for p in points:
        color, marker = rs.style(p.allocator)
        ax.plot([p.rss_mib], [p.speed / div], linestyle="none", marker=marker, markersize=7,
                color=color, markeredgecolor="white", markeredgewidth=0.5, zorder=3)
        if label is not None:
            ax.annotate(label(p), (p.rss_mib, p.speed / div), xytext=(7, 5),
                        textcoords="offset points", fontsize=7, color="0.25")
    front = pareto_front([(p.rss_mib, p.speed) for p in points], larger_y_better)
    xs, ys = [x for x, _ in front], [y / div for _, y in front]
    # Steps: up to the next front point's memory, the best speed is the last one's.
    ax.plot(xs, ys, drawstyle="steps-post", linestyle="--", color="0.2", linewidth=1.1, zorder=2)
    ax.plot(xs, ys, linestyle="none", marker="o", markersize=13, markerfacecolor="none",
            markeredgecolor="0.15", markeredgewidth=1.2, zorder=4)
    rss = [p.rss_mib for p in points]
    log = max(rss) / min(rss) > LOG_RSS_RATIO
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(_log_minor_labeller(ax)))
        ax.tick_params(axis="x", which="minor", labelsize=7.5)
    # Room on the right of the rightmost point for its label.
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi * 1.08 if log else hi + 0.05 * (hi - lo))
    ax.grid(True, which="both" if log else "major", alpha=0.25)
    return log


def _speed_memory_legend(ax, rs: ResultSet, allocs: List[str]) -> None:
    handles = [plt.Line2D([], [], linestyle="none", color=rs.style(a)[0], marker=rs.style(a)[1],
                          markersize=7, label=a) for a in allocs]
    handles.append(plt.Line2D([], [], color="0.2", linestyle="--", linewidth=1.1, marker="o",
                              markersize=13, markerfacecolor="none", markeredgecolor="0.15",
                              markeredgewidth=1.2, label=FRONT_LABEL))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0,
              fontsize=8, labelspacing=0.9, framealpha=0.85)


def _rss_label(log: bool) -> str:
    return f"median peak RSS (MiB{', log scale' if log else ''}; left is smaller)"


def speed_memory_chart(rs: ResultSet, config: Config):
    points = speed_memory_points(rs, config)
    fig, ax = plt.subplots(figsize=(8.6, 5.0), layout="constrained")
    div, unit = rate_unit(max(p.speed for p in points))
    log = _draw_speed_memory(ax, rs, points, True, div, lambda p: str(p.threads))
    ax.set_xlabel(_rss_label(log))
    ax.set_ylabel(f"median throughput ({unit}; up is faster)")
    _speed_memory_legend(ax, rs, [a for a in rs.allocators()
                                  if any(p.allocator == a for p in points)])
    sub = _params_text(config)
    sub += (("\n" if len(sub) > 50 else "   ")
            + "(one point per allocator and thread count, labelled with its threads)")
    ax.set_title(sub, fontsize=8.5, color="0.3")
    drawn = {(p.allocator, p.threads) for p in points}
    missing = [f"{a} at {t} thr" for t in rs.thread_counts([config]) for a in rs.allocators()
               if rs.summary(config.key, a, t) is not None and (a, t) not in drawn]
    _finish(fig, rs, f"{config.label}: throughput against peak RSS",
            "no successful run, no point: " + ", ".join(missing) if missing else "")
    return fig


def programs_speed_memory_chart(rs: ResultSet, configs: List[Config]):
    """Per program, median wall time against median peak RSS, a point per allocator."""
    ncols = max(1, min(3, len(configs)))
    nrows = math.ceil(len(configs) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(7.2, 2.4 + 3.8 * ncols), 1.3 + 3.6 * nrows),
                             layout="constrained", squeeze=False)
    missing = []
    for n, (ax, config) in enumerate(zip(axes.flat, configs)):
        points = speed_memory_points(rs, config, "wall_s")
        drawn = {p.allocator for p in points}
        missing += [f"{a} on {program_name(config)}" for a in rs.allocators()
                    if a not in drawn
                    and rs.summary(config.key, a, rs.program_threads(config)) is not None]
        ax.set_title(program_name(config), fontsize=10)
        if not points:
            ax.text(0.5, 0.5, "no successful runs", transform=ax.transAxes, ha="center",
                    color=FAILED_COLOR)
            continue
        log = _draw_speed_memory(ax, rs, points, False, 1.0, None)
        ax.set_xlabel(_rss_label(log), fontsize=8.5)
        if n % ncols == 0:
            ax.set_ylabel("median wall time (s; down is faster)")
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(configs):]:
        ax.set_axis_off()
    _speed_memory_legend(axes[0][ncols - 1], rs, rs.allocators())
    _finish(fig, rs, "Programs: wall time against peak RSS (medians, a point per allocator)",
            "no successful run, no point: " + ", ".join(missing) if missing else "")
    return fig


# --- latency --------------------------------------------------------------------------

def _duration_ns(ns: float) -> str:
    for div, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= div:
            return f"{ns / div:g} {unit}"
    return f"{ns:g} ns"


PERCENTILES = (("p50", "p50"), ("p99", "p99"), ("p999", "p99.9"), ("max", "max"))


def latency_configs(rs: ResultSet) -> List[Config]:
    keys = {r.config for r in rs.runs if r.ok and r.latency_ns}
    return [c for c in rs.throughput_configs() if c.key in keys]


def latency_chart(rs: ResultSet, config: Config):
    allocs = rs.allocators()
    panels = sorted({r.threads for r in rs.runs_of(config.key) if r.ok and r.latency_ns})[-4:]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 + 3.4 * len(panels), 4.4),
                             layout="constrained", squeeze=False, sharey=True)
    width = 0.8 / max(1, len(allocs))
    samples, overhead, lowest = [], [], []
    for ax, threads in zip(axes[0], panels):
        for j, alloc in enumerate(allocs):
            runs = [r for r in rs.runs_of(config.key, alloc, threads) if r.ok and r.latency_ns]
            if not runs:
                continue
            color, _ = rs.style(alloc)
            xs, med, lo, hi = [], [], [], []
            for i, (key, _) in enumerate(PERCENTILES):
                vals = [float(r.latency_ns[key]) for r in runs if r.latency_ns.get(key) is not None]
                if not vals:
                    continue
                m = statistics.median(vals)
                xs.append(i - 0.4 + width * (j + 0.5))
                med.append(m)
                lowest.append(min(vals))
                lo.append(m - min(vals))
                hi.append(max(vals) - m)
            samples += [r.latency_ns.get("samples") for r in runs if r.latency_ns.get("samples")]
            overhead += [r.latency_ns.get("sampling_overhead_ns") for r in runs
                         if r.latency_ns.get("sampling_overhead_ns") is not None]
            ax.bar(xs, med, width=width * 0.92, color=color, yerr=[lo, hi], capsize=1.5,
                   error_kw={"elinewidth": 0.8, "ecolor": "0.25"},
                   label=alloc if ax is axes[0][0] else None)
        ax.set_yscale("log")
        ax.set_xticks(range(len(PERCENTILES)))
        ax.set_xticklabels([label for _, label in PERCENTILES])
        ax.set_title(_threads_label(threads), fontsize=10)
        ax.set_xlabel("percentile of sampled calls")
        ax.grid(True, axis="y", which="both", alpha=0.25)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _duration_ns(v)))
    axes[0][0].set_ylabel("latency per call (log scale)")
    axes[0][0].legend(fontsize=8, loc="upper left", framealpha=0.85)
    if lowest:
        # Bars on a log axis start at the bottom limit: keep the smallest one visible.
        axes[0][0].set_ylim(bottom=min(lowest) / 2)
    note = []
    if samples:
        note.append(f"{int(statistics.median(samples)):,} sampled calls per run")
    if overhead:
        note.append(f"measured sampling overhead {statistics.median(overhead):g} ns per call (median)")
    _finish(fig, rs, f"{config.label}: latency per call (median of runs; bars: min–max)",
            "; ".join(note))
    return fig


# --- RSS over time --------------------------------------------------------------------

def timeline_configs(rs: ResultSet, configs: Optional[List[Config]] = None) -> List[Config]:
    """The configurations (by default the workloads and microbenchmarks) with RSS samples."""
    keys = {r.config for r in rs.runs if r.ok and r.rss_timeline}
    return [c for c in (rs.throughput_configs() if configs is None else configs) if c.key in keys]


def rss_timeline_chart(rs: ResultSet, config: Config):
    allocs = rs.allocators()
    threads = max(r.threads for r in rs.runs_of(config.key) if r.ok and r.rss_timeline)
    fig, ax = plt.subplots(figsize=(7.2, 4.4), layout="constrained")
    for alloc in allocs:
        runs = [r for r in rs.runs_of(config.key, alloc, threads) if r.ok and r.rss_timeline]
        if not runs:
            continue
        # The repetition with the median peak RSS stands for the allocator.
        runs.sort(key=lambda r: max(r.rss_timeline["rss_kib"]))
        run = runs[(len(runs) - 1) // 2]
        color, _ = rs.style(alloc)
        t = [x / 1000.0 for x in run.rss_timeline["t_ms"]]
        ax.plot(t, [k / 1024.0 for k in run.rss_timeline["rss_kib"]], color=color, linewidth=1.6,
                label=f"{alloc} (rep {run.repetition})", drawstyle="steps-post")
    interval = next((r.rss_timeline.get("interval_ms") for r in rs.runs_of(config.key)
                     if r.rss_timeline and r.rss_timeline.get("interval_ms")), None)
    ax.set_xlabel("time since the child started (s)")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", framealpha=0.85)
    sub = _params_text(config) + ("\n" if len(_params_text(config)) > 60 else "   ")
    # A program's threads are its own; its samples sum the processes it starts.
    sub += ("(the program and its child processes" if config.workload == PROGRAM_WORKLOAD
            else f"({_threads_label(threads)}")
    sub += f", sampled every {interval:g} ms)" if interval else ")"
    ax.set_title(sub, fontsize=8.5, color="0.3")
    _finish(fig, rs, f"{config.label}: RSS over time (repetition with the median peak)")
    return fig


# --- workload-specific figures -----------------------------------------------------------

def extra_configs(rs: ResultSet) -> List[Config]:
    keys = {r.config for r in rs.runs if r.ok and r.extra}
    return [c for c in rs.main_configs() if c.key in keys]


def _extra_unit(name: str) -> str:
    if name.startswith("ns_") or "_ns_" in name:
        return "ns"
    for suffix, unit in (("_kib", "KiB"), ("_ns", "ns"), ("_bytes", "B"), ("_s", "s"), ("_mib", "MiB")):
        if name.endswith(suffix):
            return unit
    return ""


def extra_chart(rs: ResultSet, config: Config):
    """The figures a workload reports beside throughput (locality's ns per node visited,
    long-lived's RSS growth, ...): one panel per figure, allocators per thread count."""
    allocs = rs.allocators()
    names = sorted({k for r in rs.runs_of(config.key) if r.ok for k in r.extra})
    threads = rs.thread_counts([config])
    fig, axes = plt.subplots(1, len(names), figsize=(max(7.2, 1.8 + 4.6 * len(names)), 4.4),
                             layout="constrained", squeeze=False)
    width = 0.8 / max(1, len(allocs))
    for ax, name in zip(axes[0], names):
        for j, alloc in enumerate(allocs):
            xs, med, lo, hi = [], [], [], []
            for i, t in enumerate(threads):
                vals = [r.extra[name] for r in rs.runs_of(config.key, alloc, t) if r.ok and name in r.extra]
                if not vals:
                    continue
                m = statistics.median(vals)
                xs.append(i - 0.4 + width * (j + 0.5))
                med.append(m)
                lo.append(m - min(vals))
                hi.append(max(vals) - m)
            if xs:
                color, _ = rs.style(alloc)
                ax.bar(xs, med, width=width * 0.92, color=color, yerr=[lo, hi], capsize=1.5,
                       error_kw={"elinewidth": 0.8, "ecolor": "0.25"},
                       label=alloc if ax is axes[0][0] else None)
        unit = _extra_unit(name)
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(f"{name} ({unit})" if unit else name)
        ax.set_xticks(range(len(threads)))
        ax.set_xticklabels([str(t) for t in threads])
        ax.set_xlabel("threads")
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="upper left", framealpha=0.85)
    _finish(fig, rs, f"{config.label}: workload figures",
            _params_text(config) + "   (median; bars: min–max of repetitions)")
    return fig


# --- microbenchmarks ------------------------------------------------------------------

def micro_chart(rs: ResultSet, configs: List[Config]):
    allocs = rs.allocators()
    threads = min(rs.thread_counts(configs))
    height = 1.6 + 0.18 * len(configs) * len(allocs) + 0.15 * len(configs)
    fig, ax = plt.subplots(figsize=(8.5, max(3.5, height)), layout="constrained")
    bar_h = 0.8 / max(1, len(allocs))
    div, unit = rate_unit(_largest_rate(rs, configs))
    for j, alloc in enumerate(allocs):
        color, _ = rs.style(alloc)
        ys, vals, lo, hi = [], [], [], []
        for i, config in enumerate(configs):
            s = rs.summary(config.key, alloc, threads)
            st = s.stats.get("ops_per_s") if s is not None and s.n else None
            if st is None:
                continue
            ys.append(i - 0.4 + bar_h * (j + 0.5))
            vals.append(st.median / div)
            lo.append((st.median - st.min) / div)
            hi.append((st.max - st.median) / div)
        ax.barh(ys, vals, height=bar_h * 0.92, color=color, label=alloc, xerr=[lo, hi],
                error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "0.25"})
    ax.set_yticks(range(len(configs)))
    ax.set_yticklabels([c.params.get("bench", c.label) for c in configs], fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlabel(f"throughput ({unit}; one op = one allocating call or one free)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", framealpha=0.85)
    _finish(fig, rs, f"Microbenchmarks (Google Benchmark), {_threads_label(threads)}")
    return fig


# --- programs ---------------------------------------------------------------------------

# What a program's chart and table compare, both smaller-is-better:
# (metric, short name, panel title, axis label).
PROGRAM_METRICS = (("wall_s", "time", "Wall time", "wall time"),
                   ("peak_rss_kib", "RSS", "Peak RSS", "peak RSS"))


def programs_chart(rs: ResultSet, configs: List[Config]):
    """Each program's wall time and peak RSS under each allocator over the baseline's:
    grouped bars per program, a line at 1; below it is faster or smaller."""
    base = rs.baseline()
    allocs = [a for a in rs.allocators() if a != base] or rs.allocators()
    per_panel = 1.2 + len(configs) * (0.3 * len(allocs) + 0.45)
    fig, axes = plt.subplots(1, 2, figsize=(min(18.0, max(9.0, 2 * per_panel)), 4.8),
                             layout="constrained")
    width = 0.8 / max(1, len(allocs))
    legend_cols = min(3, len(allocs) + 1)  # the allocators and the line at 1
    legend_rows = math.ceil((len(allocs) + 1) / legend_cols)
    for ax, (metric, _, title, axis) in zip(axes, PROGRAM_METRICS):
        top = 1.0
        for i, config in enumerate(configs):
            t = rs.program_threads(config)
            base_med = rs.median(config.key, base, t, metric) if base else None
            if not base_med:
                ax.text(i, 0.5, f"no successful\n{base} run", transform=ax.get_xaxis_transform(),
                        ha="center", va="center", fontsize=7.5, color="0.45")
                continue
            for j, alloc in enumerate(allocs):
                x = i - 0.4 + width * (j + 0.5)
                s = rs.summary(config.key, alloc, t)
                st = s.stats.get(metric) if s is not None and s.n else None
                if st is None:
                    if s is not None:
                        ax.text(x, 0.02, "failed", transform=ax.get_xaxis_transform(), ha="center",
                                va="bottom", rotation=90, fontsize=6.5, color=FAILED_COLOR)
                    continue
                ratio = st.median / base_med
                color, _ = rs.style(alloc)
                ax.bar([x], [ratio], width=width * 0.92, color=color,
                       yerr=[[ratio - st.min / base_med], [st.max / base_med - ratio]], capsize=1.5,
                       error_kw={"elinewidth": 0.8, "ecolor": "0.25"})
                ax.annotate(f"{ratio:.2f}", (x, st.max / base_med), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=6.5)
                top = max(top, st.max / base_med)
        ax.axhline(1.0, color="0.3", linestyle="--", linewidth=1)
        # Headroom above the tallest bar for the legend's rows.
        ax.set_ylim(0, top * (1.12 + 0.1 * legend_rows))
        ax.set_xlim(-0.6, len(configs) - 0.4)
        ax.set_xticks(range(len(configs)))
        ax.set_xticklabels([program_name(c) for c in configs], fontsize=8.5)
        ax.set_title(f"{title} ÷ {base}'s (smaller is better)", fontsize=10)
        ax.set_ylabel(f"{axis} ÷ {base} {axis}")
        ax.grid(True, axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=rs.style(a)[0], label=a) for a in allocs]
    handles.append(plt.Line2D([], [], color="0.3", linestyle="--", linewidth=1,
                              label=f"{base} = 1; smaller is better"))
    for ax in axes:
        ax.legend(handles=handles, fontsize=8, loc="upper center", ncol=legend_cols, framealpha=0.85)
    notes = []
    for config in configs:
        for alloc in rs.allocators():
            s = rs.summary(config.key, alloc, rs.program_threads(config))
            if s is not None and s.failed:
                notes.append(f"{alloc} on {program_name(config)}: "
                             f"{s.failed} of {s.n + s.failed} runs failed")
    note = f"median of the repetitions over {base}'s median; bars: min–max of the repetitions"
    _finish(fig, rs, f"Programs: wall time and peak RSS relative to {base}",
            note + ("\n" + "; ".join(notes) if notes else ""))
    return fig


# --- before / after ---------------------------------------------------------------------

def compare_chart(new: ResultSet, base: ResultSet, configs: List[Config]):
    allocs = [a for a in new.allocators() if a in base.allocators()]
    panels = [t for t in new.thread_counts(configs) if t in base.thread_counts()]

    def cell(config: Config, alloc: str, threads: int) -> Cell:
        s = new.summary(config.key, alloc, threads)
        b = base.summary(config.key, alloc, threads)
        if s is None or b is None:
            return None, "not in both"
        if not s.n or not b.n or not s.median("ops_per_s") or not b.median("ops_per_s"):
            return None, "failed"
        return s.median("ops_per_s") / b.median("ops_per_s"), ""

    return _heatmap(new, configs, allocs, panels, cell,
                    f"Throughput change: {new.date()} over {base.date()} (blue: faster now)",
                    "new median ÷ base median", _threads_label)


# --- everything -----------------------------------------------------------------------

def draw_all(rs: ResultSet, outdir: str, formats: Sequence[str] = ("png", "svg"),
             memory_threads: Optional[int] = None, base: Optional[ResultSet] = None,
             latency: Optional[ResultSet] = None) -> List[Chart]:
    """Draws every chart the results support. `latency` is a separate latency-mode result
    set (allocbench --latency): its percentiles are charted, its throughput is not."""
    os.makedirs(outdir, exist_ok=True)
    charts: List[Chart] = []

    def emit(fig, name, section, title, caption):
        charts.append(Chart(name, section, title, caption, _save(fig, outdir, name, formats)))

    main = rs.main_configs()
    base_name = rs.baseline()
    # With one allocator there is nothing to compare it with.
    if main and rs.summaries and len(rs.allocators()) > 1:
        emit(relative_chart(rs, main), "relative-throughput", "relative",
             f"Who wins where: throughput relative to {base_name}",
             f"Each cell is an allocator's median throughput divided by {base_name}'s on the same "
             "workload and thread count. Above 1× (blue) is faster, below (red) slower; grey cells "
             "say why there is no ratio.")
    if main and rs.summaries:
        if len(main) > 1:
            emit(throughput_overview(rs, main), "throughput-overview", "throughput",
                 "Throughput against threads, every workload",
                 "Small multiples of the charts below, one per workload configuration.")
        for config in main:
            emit(throughput_chart(rs, config), f"throughput-{config.slug}", "throughput",
                 f"{config.label}: throughput against threads",
                 "Median of the repetitions; the bars span their minimum to maximum.")
        for config in main:
            if repetition_strips(rs, config):
                emit(repetitions_chart(rs, config), f"repetitions-{config.slug}", "repetitions",
                     f"{config.label}: throughput of every repetition",
                     "A dot per repetition, a black line at their median; CV under each column.")
        threads = memory_threads or max(rs.thread_counts(main))
        emit(memory_chart(rs, main, threads), "memory", "memory",
             f"Peak RSS and memory efficiency at {_threads_label(threads)}",
             "Peak resident memory of each run's process, and that peak over the workload's own "
             "peak of live requested bytes (1.0 would waste nothing).")
        for config in main:
            # One point has nothing to be compared with.
            if len(speed_memory_points(rs, config)) > 1:
                emit(speed_memory_chart(rs, config), f"speed-memory-{config.slug}", "speed-memory",
                     f"{config.label}: throughput against peak RSS",
                     "Median throughput against median peak RSS, a point per allocator and thread "
                     "count; the ringed points, joined by the dashed steps, are the Pareto front.")
        for config in extra_configs(rs):
            emit(extra_chart(rs, config), f"figures-{config.slug}", "extra",
                 f"{config.label}: workload figures",
                 "Figures this workload reports beside throughput, median over the repetitions.")
        lat = latency or rs
        for config in latency_configs(lat):
            emit(latency_chart(lat, config), f"latency-{config.slug}", "latency",
                 f"{config.label}: latency per call",
                 "Percentiles of sampled calls, median over the runs"
                 + (" of the separate latency-mode pass." if latency is not None else "."))
        for config in timeline_configs(rs):
            emit(rss_timeline_chart(rs, config), f"rss-timeline-{config.slug}", "rss",
                 f"{config.label}: RSS over time", "The parent's samples of the child's resident memory.")
    programs = rs.program_configs()
    if programs and len(rs.allocators()) > 1:
        emit(programs_chart(rs, programs), "programs", "programs",
             f"Programs: wall time and peak RSS relative to {base_name}",
             f"Each bar is an allocator's median over {base_name}'s on the same program, for wall "
             "time and for peak RSS of the program's processes; below the line at 1 is faster "
             "or smaller. The error bars span the allocator's repetitions.")
    if programs and len(rs.allocators()) > 1:
        emit(programs_speed_memory_chart(rs, programs), "speed-memory-programs", "speed-memory",
             "Programs: wall time against peak RSS",
             "Median wall time against median peak RSS of each program, a point per allocator; "
             "the ringed points, joined by the dashed steps, are the Pareto front.")
    for config in timeline_configs(rs, programs):
        emit(rss_timeline_chart(rs, config), f"rss-timeline-{config.slug}", "programs",
             f"{config.label}: RSS over time",
             "The parent's samples of the resident memory of the program and its child processes.")
    micro = rs.micro_configs()
    if micro and rs.summaries:
        emit(micro_chart(rs, micro), "microbenchmarks", "micro", "Microbenchmarks",
             "Single calls timed by Google Benchmark in a child per allocator.")
    if base is not None and main:
        emit(compare_chart(rs, base, main), "compare-throughput", "compare",
             "Before and after: throughput change",
             "Each cell is this run's median throughput divided by the base run's, same allocator, "
             "workload and thread count.")
    return charts
