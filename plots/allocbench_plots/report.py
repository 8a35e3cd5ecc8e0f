"""The HTML report: one self-contained file (charts embedded as data URIs, no external
resource of any kind), readable offline and attachable to a bug report.

An inline script checks, once the page has loaded, that every chart decoded, and
records the outcome on <body> (data-render-check) for the browser test.
"""

from __future__ import annotations

import base64
import html
import os
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from .charts import PROGRAM_METRICS, Chart
from .results import Config, ResultSet, program_name

SECTION_ORDER = [
    ("relative", "Who wins where"),
    ("throughput", "Throughput against threads"),
    ("repetitions", "Repetitions"),
    ("memory", "Memory"),
    ("speed-memory", "Speed against memory"),
    ("extra", "Workload figures"),
    ("latency", "Latency per call"),
    ("rss", "RSS over time"),
    ("micro", "Microbenchmarks"),
    ("programs", "Programs"),
]

# What a reader needs before the charts of a section.
SECTION_INTROS = {
    "repetitions": (
        "<p>Each dot is one repetition’s throughput, in its allocator’s colour, the dots of a "
        "benchmark side by side in the order they ran; the black line is their median, the "
        "figure every other chart and table uses. The repetitions of a benchmark do the same "
        "work, so the spread of its dots is the machine’s noise: two allocators whose dots "
        "overlap are not told apart by these runs. CV (coefficient of variation), under each "
        "column, is the standard deviation of the repetitions’ throughput over their mean: at "
        "2% a typical repetition lies about 2% from the mean. Failed repetitions are not drawn; "
        "each panel has its own scale.</p>"),
    "speed-memory": (
        "<p>Each point is one allocator at one thread count (for a program, one allocator): "
        "its median peak RSS across, its median throughput up (for a program its median wall "
        "time, where lower is faster). The ringed points, joined by the dashed steps, are the "
        "Pareto front: no other point of the same chart is both faster and smaller (nor as fast "
        "and smaller, nor faster and as small). Each point off the front has one on it at least "
        "as fast in no more memory; between the points on it, the choice is a trade of memory "
        "for speed.</p>"),
}

CSS = """
:root { --fg:#1d1f21; --muted:#5f6368; --line:#d9dce0; --bad:#b22222; --good:#1b6e20; --bg2:#f6f7f9; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       margin: 0 auto; max-width: 1280px; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 6px; }
.sub { color: var(--muted); margin: 0 0 14px; }
code, .mono { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
nav { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 14px 0;
      display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { white-space: nowrap; }
.notes { border-left: 4px solid #e0a800; background: #fff8e1; padding: 8px 14px; margin: 12px 0; }
.notes.bad { border-color: var(--bad); background: #fdecea; }
.notes ul { margin: 4px 0; padding-left: 20px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13.5px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td { color: var(--bad); }
.win { font-weight: 600; }
.good { color: var(--good); } .bad { color: var(--bad); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: 0; }
figure { margin: 10px 0 22px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 4px; }
figcaption a { margin-left: 8px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 4px 22px; }
details { margin: 6px 0; } summary { cursor: pointer; font-weight: 600; }
#render-check { color: var(--muted); font-size: 12px; margin-top: 40px; }
"""

# Set the marker only when every <img> has decoded; record script errors as they occur.
SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });
  window.addEventListener('load', function () {
    var imgs = Array.prototype.slice.call(document.images);
    var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
    var ok = broken.length === 0 && errors.length === 0;
    document.body.setAttribute('data-images', String(imgs.length));
    document.body.setAttribute('data-broken-images', String(broken.length));
    document.body.setAttribute('data-script-errors', String(errors.length));
    document.body.setAttribute('data-render-check', ok ? 'ok' : 'failed');
    var line = document.getElementById('render-check');
    if (line) {
      line.textContent = 'Render check: ' + (imgs.length - broken.length) + ' of ' + imgs.length +
        ' charts loaded' + (errors.length ? '; script errors: ' + errors.join(' | ') : '') + '.';
    }
  });
})();
"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def fmt_rate(ops_per_s: Optional[float]) -> str:
    """Operations per second with an SI prefix, so slow and fast workloads both read."""
    if ops_per_s is None:
        return "–"
    for div, prefix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(ops_per_s) >= div:
            return f"{ops_per_s / div:.3g}{prefix}"
    return f"{ops_per_s:.3g}"


def fmt_num(value: Optional[float], digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def fmt_mib(kib: Optional[float]) -> str:
    return "–" if kib is None else f"{kib / 1024:,.1f}"


def fmt_seconds(s: Optional[float]) -> str:
    """A duration in seconds with about three significant digits."""
    if s is None:
        return "–"
    return f"{s:,.0f}" if s >= 100 else f"{s:.1f}" if s >= 10 else f"{s:.2f}" if s >= 1 else f"{s:.3g}"


def fmt_ratio(num: Optional[float], den: Optional[float]) -> str:
    return f"{num / den:.2f}" if num and den else "–"


def swatch(alloc: str, rs: ResultSet) -> str:
    return f'<span class="swatch" style="background:{rs.style(alloc)[0]}"></span>'


def _img(chart: Chart, outdir: str) -> str:
    with open(chart.files["png"], "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    links = []
    for fmt in ("svg", "png"):
        if fmt in chart.files:
            rel = os.path.relpath(chart.files[fmt], outdir)
            links.append(f'<a href="{esc(rel)}">{fmt.upper()}</a>')
    return (f'<figure id="chart-{esc(chart.name)}"><img alt="{esc(chart.title)}" '
            f'src="data:image/png;base64,{data}">'
            f'<figcaption>{esc(chart.caption)}{"".join(links)}</figcaption></figure>')


# --- tables ---------------------------------------------------------------------------

def winners_rows(rs: ResultSet) -> List[Tuple[Config, List[Tuple[int, str]]]]:
    """Per configuration and thread count: the winner and its margin, as plain text."""
    base = rs.baseline()
    rows = []
    for config in rs.throughput_configs():
        cells = []
        for t in rs.thread_counts([config]):
            win = rs.winner(config.key, t)
            if win is None:
                cells.append((t, "no successful run"))
                continue
            others = [s for s in (rs.summary(config.key, a, t) for a in rs.allocators())
                      if s is not None and s.n and s is not win and s.median("ops_per_s")]
            text = win.allocator
            b = rs.summary(config.key, base, t) if base else None
            if base and win.allocator != base and b is not None and b.n and b.median("ops_per_s"):
                text += f" {win.median('ops_per_s') / b.median('ops_per_s'):.2f}× {base}"
            elif others:
                runner_up = max(others, key=lambda s: s.median("ops_per_s"))
                text += (f" {win.median('ops_per_s') / runner_up.median('ops_per_s'):.2f}× "
                         f"{runner_up.allocator}")
            cells.append((t, text))
        rows.append((config, cells))
    return rows


def winners_text(rs: ResultSet) -> str:
    """The console table run_suite.sh prints: who won each workload at each thread count."""
    rows = winners_rows(rs)
    if not rows:
        return "no workload results"
    threads = rs.thread_counts(rs.throughput_configs())
    head = ["workload"] + [f"{t} thr" for t in threads]
    body = []
    for config, cells in rows:
        by_t = dict(cells)
        body.append([config.label] + [by_t.get(t, "") for t in threads])
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ratios_markdown(rs: ResultSet, subject: str) -> str:
    """A Markdown table of `subject` against the others, per configuration and thread
    count: every allocator's median throughput (M ops/s), the subject's ratio to the
    baseline and to the fastest other allocator, and its peak RSS over the smallest
    other's. Programs follow in a table of their own (programs_ratios_markdown). A cell
    is '–' where the runs failed or were not made."""
    others = [a for a in rs.allocators() if a != subject]
    base = rs.baseline()
    if base == subject:
        base = None

    head = (["workload", "threads"] + [subject] + others +
            ([f"{subject}/{base}"] if base else []) +
            ["best other", f"{subject}/best", f"{subject} peak RSS / smallest other"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for config in rs.throughput_configs():
        for t in rs.thread_counts([config]):
            def med(alloc: str, metric: str) -> Optional[float]:
                return rs.median(config.key, alloc, t, metric)

            mine = med(subject, "ops_per_s")
            rates = {a: med(a, "ops_per_s") for a in others}
            ok = {a: v for a, v in rates.items() if v}
            best = max(ok, key=ok.get) if ok else None
            rss = [v for v in (med(a, "peak_rss_kib") for a in others) if v]
            cells = [config.label, str(t)]
            cells += [f"{v / 1e6:.1f}" if v else "–" for v in [mine] + [rates[a] for a in others]]
            if base:
                cells.append(fmt_ratio(mine, rates.get(base)))
            cells += [best or "–", fmt_ratio(mine, ok.get(best) if best else None),
                      fmt_ratio(med(subject, "peak_rss_kib"), min(rss) if rss else None)]
            lines.append("| " + " | ".join(cells) + " |")
    tables = ["\n".join(lines)] if rs.throughput_configs() or not rs.program_configs() else []
    if rs.program_configs():
        tables.append(programs_ratios_markdown(rs, subject))
    return "\n\n".join(tables)


def programs_ratios_markdown(rs: ResultSet, subject: str) -> str:
    """A Markdown table of `subject` against the others on each program: every allocator's
    median wall time (s), and the subject's wall time and peak RSS over the baseline's and
    over the best other allocator's (the smallest: for both, smaller is better)."""
    others = [a for a in rs.allocators() if a != subject]
    base = rs.baseline()
    if base == subject:
        base = None
    head = ["program"] + [f"{a} wall s" for a in [subject] + others]
    for _, what, _, _ in PROGRAM_METRICS:
        head += ([f"{subject}/{base} {what}"] if base else []) + [f"best other {what}",
                                                                    f"{subject}/best {what}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for config in rs.program_configs():
        t = rs.program_threads(config)
        cells = [program_name(config)]
        cells += [fmt_seconds(rs.median(config.key, a, t, "wall_s")) for a in [subject] + others]
        for metric, _, _, _ in PROGRAM_METRICS:
            mine = rs.median(config.key, subject, t, metric)
            values = {a: rs.median(config.key, a, t, metric) for a in others}
            ok = {a: v for a, v in values.items() if v}
            best = min(ok, key=ok.get) if ok else None
            if base:
                cells.append(fmt_ratio(mine, values.get(base)))
            cells += [best or "–", fmt_ratio(mine, ok.get(best) if best else None)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired_markdown(rs: ResultSet, num: str, den: str) -> str:
    """A Markdown table of `num`'s throughput over `den`'s within each repetition, per
    configuration and thread count: the median of those ratios, their range, how many
    repetitions both ran, and each one's median throughput (M ops/s). The allocators of
    one repetition run seconds apart, so a machine whose speed drifts between spells
    moves both runs of a pair alike, where it can move two medians apart."""
    head = ["workload", "threads", f"{num}/{den}, median of the repetitions' ratios",
            "min..max", "pairs", num, den]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for config in rs.throughput_configs():
        for t in rs.thread_counts([config]):
            a, b = (_rates_by_repetition(rs, config.key, alloc, t) for alloc in (num, den))
            pairs = sorted(a[k] / b[k] for k in a if k in b)
            if pairs:
                cells = [f"{statistics.median(pairs):.2f}", f"{pairs[0]:.2f}..{pairs[-1]:.2f}"]
            else:
                cells = ["–", "–"]
            cells.append(str(len(pairs)))
            for alloc in (num, den):
                s = rs.summary(config.key, alloc, t)
                med = s.median("ops_per_s") if s is not None and s.n else None
                cells.append(f"{med / 1e6:.1f}" if med else "–")
            lines.append("| " + " | ".join([config.label, str(t)] + cells) + " |")
    return "\n".join(lines)


def _rates_by_repetition(rs: ResultSet, config: str, alloc: str, threads: int) -> Dict[int, float]:
    """The throughput of each successful repetition of one benchmark and allocator."""
    return {r.repetition: r.metrics["ops_per_s"] for r in rs.runs_of(config, alloc, threads)
            if r.ok and r.metrics.get("ops_per_s")}


def _winners_html(rs: ResultSet) -> str:
    threads = rs.thread_counts(rs.throughput_configs())
    allocs = rs.allocators()
    out = ['<table><tr><th>workload</th>']
    out += [f"<th>{t} thread{'s' if t != 1 else ''}</th>" for t in threads]
    out.append("</tr>")
    for config, cells in winners_rows(rs):
        by_t = dict(cells)
        out.append(f"<tr><td>{esc(config.label)}</td>")
        for t in threads:
            text = by_t.get(t, "")
            win = rs.winner(config.key, t)
            mark = swatch(win.allocator, rs) if win else ""
            out.append(f'<td class="win">{mark}{esc(text)}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _summary_table(rs: ResultSet, config: Config) -> str:
    allocs = rs.allocators()
    out = ['<table><tr><th>allocator</th><th>threads</th><th>runs ok</th><th>failed</th>'
           '<th>median ops/s</th><th>min</th><th>max</th><th>CV</th><th>95% CI of the mean</th>'
           '<th>peak RSS MiB</th><th>RSS ÷ live</th></tr>']
    for t in rs.thread_counts([config]):
        best = rs.winner(config.key, t)
        for alloc in allocs:
            s = rs.summary(config.key, alloc, t)
            if s is None:
                continue
            tp = s.stats.get("ops_per_s")
            rss = s.stats.get("peak_rss_kib")
            eff = s.stats.get("mem_efficiency")
            cls = ' class="failed"' if s.n == 0 else ""
            name = esc(alloc) + (" ★" if best is s else "")
            out.append(
                f"<tr{cls}><td>{swatch(alloc, rs)}{name}</td><td class=num>{t}</td>"
                f"<td class=num>{s.n}</td><td class=num>{s.failed or ''}</td>"
                f"<td class=num>{fmt_rate(tp.median if tp else None)}</td>"
                f"<td class=num>{fmt_rate(tp.min if tp else None)}</td>"
                f"<td class=num>{fmt_rate(tp.max if tp else None)}</td>"
                f"<td class=num>{'–' if not tp else f'{tp.cv * 100:.1f}%'}</td>"
                f"<td class=num>{'–' if not tp or tp.ci95_low is None else fmt_rate(tp.ci95_low) + ' … ' + fmt_rate(tp.ci95_high)}</td>"
                f"<td class=num>{fmt_mib(rss.median if rss else None)}</td>"
                f"<td class=num>{fmt_num(eff.median if eff else None)}</td></tr>")
    out.append("</table>")
    extras = _extra_table(rs, config)
    return "".join(out) + extras


def _extra_table(rs: ResultSet, config: Config) -> str:
    """Workload-specific figures (`extra` in the runs), median over the successful runs."""
    names = sorted({k for r in rs.runs_of(config.key) if r.ok for k in r.extra})
    if not names:
        return ""
    out = ["<table><tr><th>allocator</th><th>threads</th>"]
    out += [f"<th>{esc(n)}</th>" for n in names]
    out.append("</tr>")
    for t in rs.thread_counts([config]):
        for alloc in rs.allocators():
            runs = [r for r in rs.runs_of(config.key, alloc, t) if r.ok]
            if not runs:
                continue
            out.append(f"<tr><td>{esc(alloc)}</td><td class=num>{t}</td>")
            for n in names:
                vals = [r.extra[n] for r in runs if n in r.extra]
                out.append(f"<td class=num>{fmt_num(statistics.median(vals)) if vals else '–'}</td>")
            out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _programs_table(rs: ResultSet) -> str:
    """Per program and allocator: median wall time and its CV, median peak RSS, both over
    the baseline's, the program's own figures (`extra`) and why runs failed."""
    base = rs.baseline()
    programs = rs.program_configs()
    out = ['<table id="programs-table"><tr><th>program</th><th>allocator</th><th>runs ok</th>'
           "<th>failed</th><th>median wall time (s)</th><th>CV</th>"
           f"<th>time ÷ {esc(base)}</th><th>median peak RSS (MiB)</th><th>RSS ÷ {esc(base)}</th>"
           "<th>program’s own figures (median)</th><th>why runs failed</th></tr>"]
    for config in programs:
        t = rs.program_threads(config)
        for alloc in rs.allocators():
            s = rs.summary(config.key, alloc, t)
            if s is None:
                continue
            wall = s.stats.get("wall_s") if s.n else None
            ratios = []
            for metric, _, _, _ in PROGRAM_METRICS:
                ratios.append(fmt_ratio(rs.median(config.key, alloc, t, metric),
                                        rs.median(config.key, base, t, metric)))
            runs = rs.runs_of(config.key, alloc, t)
            ok = [r for r in runs if r.ok]
            figures = []
            for name in sorted({k for r in ok for k in r.extra}):
                vals = [r.extra[name] for r in ok if name in r.extra]
                figures.append(f"{name} {fmt_rate(statistics.median(vals))}")
            reasons: Dict[str, int] = {}
            for r in runs:
                if not r.ok:
                    reason = r.error or "no reason recorded"
                    reasons[reason] = reasons.get(reason, 0) + 1
            why = "; ".join(f"{k} (×{n})" if n > 1 else k for k, n in reasons.items())
            cls = ' class="failed"' if s.n == 0 else ""
            out.append(
                f"<tr{cls}><td>{esc(program_name(config))}</td><td>{swatch(alloc, rs)}{esc(alloc)}</td>"
                f"<td class=num>{s.n}</td><td class=num>{s.failed or ''}</td>"
                f"<td class=num>{fmt_seconds(wall.median if wall else None)}</td>"
                f"<td class=num>{'–' if not wall else f'{wall.cv * 100:.1f}%'}</td>"
                f"<td class=num>{ratios[0]}</td>"
                f"<td class=num>{fmt_mib(rs.median(config.key, alloc, t, 'peak_rss_kib'))}</td>"
                f"<td class=num>{ratios[1]}</td>"
                f"<td>{esc('; '.join(figures)) or '–'}</td><td>{esc(why)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _failed_table(rs: ResultSet) -> str:
    failed = rs.failed_runs()
    if not failed:
        return "<p>None: every run finished and passed its content check.</p>"
    out = ["<table><tr><th>benchmark</th><th>allocator</th><th>repetition</th><th>reason</th></tr>"]
    for r in failed:
        out.append(f'<tr class="failed"><td class="mono">{esc(r.benchmark)}</td><td>{esc(r.allocator)}</td>'
                   f"<td class=num>{r.repetition}</td><td>{esc(r.error or 'no reason recorded')}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _allocator_table(rs: ResultSet) -> str:
    """What the context says about each allocator, beside what the children proved."""
    ran = rs.allocators()
    listed = list(rs.context.get("allocators", {}).keys())
    names = listed + [a for a in ran if a not in listed]
    out = ['<table><tr><th>allocator</th><th>status</th><th>version</th><th>library</th>'
           "<th>runs ok / failed</th><th>served malloc in the children (proof)</th></tr>"]
    for name in names:
        info = rs.context.get("allocators", {}).get(name) or {}
        runs = [r for r in rs.runs if r.allocator == name]
        ok = sum(1 for r in runs if r.ok)
        proofs = sorted({f"{r.proof.get('malloc_from', '?')} (version {r.proof.get('version', '?')})"
                         for r in runs if r.ok and r.proof})
        if info.get("available") is False:
            status = f'<span class="bad">not installed: {esc(info.get("reason") or "not available")}</span>'
        elif runs:
            status = "ran"
        else:
            status = "available, not run"
        out.append(f"<tr><td>{swatch(name, rs) if name in ran else ''}{esc(name)}</td><td>{status}</td>"
                   f"<td class=mono>{esc(info.get('version') or '–')}</td>"
                   f"<td class=mono>{esc(info.get('library') or '–')}</td>"
                   f"<td class=num>{ok} / {len(runs) - ok}</td>"
                   f"<td class=mono>{'<br>'.join(esc(p) for p in proofs) or '–'}</td></tr>")
    out.append("</table>")
    return "".join(out)


TOUCH_MEANING = {"full": "every byte", "lines": "a word per 64-byte line",
                 "pages": "a word per 4 KiB page", "ends": "16 bytes at each end"}


def _touch_line(rs: ResultSet) -> str:
    """How much of each object the workloads wrote (their `touch` level), which bounds how
    far the allocators' own costs show in the figures."""
    levels: Dict[str, List[str]] = {}
    for config in rs.configs:
        level = config.params.get("touch")
        if level:
            levels.setdefault(level, [])
            if config.workload not in levels[level]:
                levels[level].append(config.workload)
    if not levels:
        return ""
    parts = [f"<b>{esc(level)}</b> ({esc(TOUCH_MEANING.get(level, level))}): "
             f"{esc(', '.join(sorted(workloads)))}" for level, workloads in sorted(levels.items())]
    return "objects written and checked (touch): " + "; ".join(parts)


def _context_table(rs: ResultSet) -> str:
    out = ["<table>"]
    for key, value in rs.context.items():
        if key == "allocators":
            continue
        out.append(f"<tr><th>{esc(key)}</th><td class=mono>{esc(value)}</td></tr>")
    out.append(f"<tr><th>schema_version</th><td class=mono>{rs.schema_version}</td></tr>")
    out.append(f"<tr><th>results file</th><td class=mono>{esc(os.path.abspath(rs.path))}</td></tr>")
    out.append("</table>")
    return "".join(out)


# --- before / after -------------------------------------------------------------------

def compare_rows(new: ResultSet, base: ResultSet):
    """(config label, allocator, threads, base median, new median, ratio, verdict) for every
    benchmark in both sets. The verdict is deliberately modest: 'faster'/'slower' only when
    the min–max ranges of the repetitions do not overlap; significance testing is
    `allocbench compare`'s job."""
    rows = []
    for config in new.throughput_configs():
        for t in new.thread_counts([config]):
            for alloc in new.allocators():
                s = new.summary(config.key, alloc, t)
                b = base.summary(config.key, alloc, t)
                if s is None or b is None:
                    continue
                sn, bn = s.stats.get("ops_per_s"), b.stats.get("ops_per_s")
                if not s.n or not b.n or sn is None or bn is None or not bn.median:
                    rows.append((config.label, alloc, t, bn.median if bn and b.n else None,
                                 sn.median if sn and s.n else None, None, "failed"))
                    continue
                ratio = sn.median / bn.median
                if sn.min > bn.max:
                    verdict = "faster"
                elif sn.max < bn.min:
                    verdict = "slower"
                else:
                    verdict = "ranges overlap"
                rows.append((config.label, alloc, t, bn.median, sn.median, ratio, verdict))
    return rows


def _unmatched(new: ResultSet, base: ResultSet) -> Tuple[List[str], List[str]]:
    def keys(rs):
        return {(s.config, s.allocator, s.threads) for s in rs.summaries}
    fmt = lambda k: f"{k[0]}/threads={k[2]} ({k[1]})"  # noqa: E731
    return (sorted(fmt(k) for k in keys(new) - keys(base)),
            sorted(fmt(k) for k in keys(base) - keys(new)))


def _compare_table(rows) -> str:
    out = ["<table><tr><th>workload</th><th>allocator</th><th>threads</th><th>base ops/s</th>"
           "<th>new ops/s</th><th>change</th><th>verdict</th></tr>"]
    for label, alloc, t, bm, nm, ratio, verdict in rows:
        change = "–" if ratio is None else f"{(ratio - 1) * 100:+.1f}%"
        cls = {"faster": "good", "slower": "bad", "failed": "bad"}.get(verdict, "")
        out.append(f"<tr><td>{esc(label)}</td><td>{esc(alloc)}</td><td class=num>{t}</td>"
                   f"<td class=num>{fmt_rate(bm)}</td><td class=num>{fmt_rate(nm)}</td>"
                   f'<td class="num {cls}">{change}</td><td class="{cls}">{esc(verdict)}</td></tr>')
    out.append("</table>")
    return "".join(out)


def _compare_html(new: ResultSet, base: ResultSet, charts: List[Chart], outdir: str) -> str:
    out = ['<h2 id="compare">Before and after</h2>',
           f'<p class="sub">Base: <code>{esc(os.path.abspath(base.path))}</code> — {esc(base.host())}, '
           f"{esc(base.date())}, revision <code>{esc(base.context.get('git_revision'))}</code>.<br>"
           f"New: this report's results — {esc(new.host())}, {esc(new.date())}, revision "
           f"<code>{esc(new.context.get('git_revision'))}</code>.</p>"]
    if base.host() != new.host() or base.machine() != new.machine():
        out.append('<div class="notes bad">The two result sets come from different machines '
                   f"({esc(base.machine())} vs {esc(new.machine())}): differences mix the change "
                   "with the hardware.</div>")
    for c in charts:
        if c.section == "compare":
            out.append(_img(c, outdir))
    rows = compare_rows(new, base)
    notable = [r for r in rows if r[6] != "ranges overlap"]
    out.append('<p>“faster” / “slower”: the new repetitions’ range lies wholly above / below the '
               "base’s. For a significance test per benchmark use <code>allocbench compare</code>.</p>")
    out.append(f"<h3>Changes beyond the noise ({len(notable)} of {len(rows)} benchmarks)</h3>")
    out.append(_compare_table(notable) if notable else "<p>None: every range overlaps.</p>")
    out.append(f"<details><summary>Every benchmark in both sets ({len(rows)})</summary>"
               f"{_compare_table(rows)}</details>")
    only_new, only_base = _unmatched(new, base)
    for title, items in (("Only in the new results", only_new), ("Only in the base results", only_base)):
        if items:
            out.append(f"<details><summary>{title} ({len(items)})</summary><ul>")
            out += [f"<li><code>{esc(i)}</code></li>" for i in items]
            out.append("</ul></details>")
    return "".join(out)


# --- the page -------------------------------------------------------------------------

def _programs_html(rs: ResultSet, charts: List[Chart], outdir: str) -> str:
    """The programs section: the ratios chart, the table, then each program's RSS over time."""
    base = rs.baseline()
    out = ["<p>Each program run whole under each allocator, its repetitions summarised by "
           "their median: wall time, and the peak resident memory of the program and the "
           f"processes it starts, each also over {esc(base)}’s on the same program (below 1: "
           f"faster or smaller; – where {esc(base)} or the allocator has no successful run). "
           "CV is the wall times’ standard deviation over their mean. A program’s own figures "
           "(a rate it reports, bigger is better) are as it printed them.</p>"]
    out += [_img(c, outdir) for c in charts if c.name == "programs"]
    out.append(_programs_table(rs))
    out += [_img(c, outdir) for c in charts if c.name != "programs"]
    return "".join(out)


def write_report(rs: ResultSet, charts: List[Chart], path: str, base: Optional[ResultSet] = None,
                 latency: Optional[ResultSet] = None) -> None:
    outdir = os.path.dirname(os.path.abspath(path))
    allocs = rs.allocators()
    failed = rs.failed_runs()
    missing = rs.missing_allocators()
    title = f"allocbench results — {rs.host()}, {rs.date()}"
    if base is not None:
        title = f"allocbench before/after — {rs.host()}, {base.date()} → {rs.date()}"

    body: List[str] = [f"<h1>{esc(title)}</h1>",
                       f'<p class="sub">{esc(rs.machine())} · {esc(rs.context.get("kernel", ""))} · '
                       f'revision <code>{esc(rs.context.get("git_revision", "?"))}</code> · '
                       f'<code>{esc(rs.context.get("command_line", ""))}</code></p>']
    if touch := _touch_line(rs):
        body.append(f'<p class="sub">{touch}</p>')
    ok_runs = sum(1 for r in rs.runs if r.ok)
    measured = rs.throughput_configs()
    programs = rs.program_configs()
    threads = rs.thread_counts(measured)
    def count(n: int, what: str) -> str:
        return f"{n} {what}{'s' if n != 1 else ''}"

    what = [count(len(measured), "workload configuration")] if measured or not programs else []
    what += [count(len(programs), "program")] if programs else []
    what.append(count(len(allocs), "allocator")
                + f" ({', '.join(swatch(a, rs) + esc(a) for a in allocs)})")
    if threads:
        what.append(f"threads {', '.join(str(t) for t in threads)}")
    body.append(f"<p>{', '.join(what)}: {ok_runs} runs succeeded, {len(failed)} failed.</p>")
    notes = []
    for name, reason in missing:
        notes.append(f"<li><b>{esc(name)}</b> was not measured: {esc(reason)}.</li>")
    if failed:
        notes.append(f'<li><b>{len(failed)} run{"s" if len(failed) != 1 else ""} failed</b> '
                     '(see <a href="#failed">Failed runs</a>); their benchmarks are summarised over '
                     "the remaining repetitions.</li>")
    if notes:
        cls = "notes bad" if failed else "notes"
        body.append(f'<div class="{cls}"><ul>{"".join(notes)}</ul></div>')

    sections = [(key, name) for key, name in SECTION_ORDER
                if any(c.section == key for c in charts) or (key == "relative" and measured)
                or (key == "programs" and programs)]
    nav = [f'<a href="#{key}">{esc(name)}</a>' for key, name in sections]
    if base is not None:
        nav.insert(0, '<a href="#compare">Before and after</a>')
    nav += (['<a href="#tables">Tables</a>'] if measured else []) + [
        '<a href="#failed">Failed runs</a>', '<a href="#allocators">Allocators</a>',
        '<a href="#context">Context</a>']
    body.append(f"<nav>{''.join(nav)}</nav>")

    if base is not None:
        body.append(_compare_html(rs, base, charts, outdir))

    for key, name in sections:
        body.append(f'<h2 id="{key}">{esc(name)}</h2>')
        if key == "latency" and latency is not None:
            body.append("<p>From a separate latency-mode pass (<code>"
                        f"{esc(latency.context.get('command_line', ''))}</code>, "
                        f"{esc(latency.date())}): every call timed costs a clock read, so that "
                        "pass's throughput is not used anywhere in this report.</p>")
        if key == "relative":
            body.append("<p>The fastest allocator (highest median throughput) at each thread count, "
                        f"with its ratio to {esc(rs.baseline())} (or to the runner-up where "
                        f"{esc(rs.baseline())} won).</p>")
            body.append(_winners_html(rs))
        if key in SECTION_INTROS:
            body.append(SECTION_INTROS[key])
        group = [c for c in charts if c.section == key]
        singles = [c for c in group if c.name != "throughput-overview"]
        if key == "programs":
            body.append(_programs_html(rs, singles, outdir))
        elif key in ("throughput", "speed-memory") and len(singles) > 1:
            # The programs' chart has a panel per program: it takes the page's width.
            wide = [c for c in singles if c.name == "speed-memory-programs"]
            grid = [c for c in singles if c not in wide]
            if len(grid) > 1:
                body.append('<div class="grid">' + "".join(_img(c, outdir) for c in grid) + "</div>")
            else:
                body.extend(_img(c, outdir) for c in grid)
            body.extend(_img(c, outdir) for c in wide)
        else:
            body.extend(_img(c, outdir) for c in singles)

    if measured:
        body.append('<h2 id="tables">Tables</h2>'
                    "<p>Every benchmark"
                    + (" but the programs (theirs is under Programs)" if programs else "")
                    + ": throughput over the successful repetitions (ops/s = allocating calls "
                    "and frees per second; k, M: thousands, millions), its spread, and memory. "
                    "★ marks the fastest allocator at that thread count.</p>")
    for config in measured:
        body.append(f'<details open><summary>{esc(config.label)} '
                    f'<span class="sub mono">{esc(config.key)}</span></summary>'
                    f"{_summary_table(rs, config)}</details>")

    body.append(f'<h2 id="failed">Failed runs ({len(failed)})</h2>')
    body.append(_failed_table(rs))
    if latency is not None and latency.failed_runs():
        body.append(f"<h3>Failed runs of the latency pass ({len(latency.failed_runs())})</h3>")
        body.append(_failed_table(latency))
    body.append('<h2 id="allocators">Allocators</h2>'
                "<p>Versions as recorded in the results’ context, and the library each child "
                "reported as the one serving its <code>malloc</code>.</p>")
    body.append(_allocator_table(rs))
    body.append('<h2 id="context">Context</h2>')
    body.append(_context_table(rs))
    body.append('<p id="render-check">Render check: pending (needs JavaScript).</p>')

    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style><script>{SCRIPT}</script></head>"
            f"<body>{''.join(body)}</body></html>\n")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, path)

