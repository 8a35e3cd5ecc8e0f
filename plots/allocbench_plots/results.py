"""Reading allocbench result files into a small model the charts and the report share.

The formats are defined in harness/RESULTS.md; this module is their only reader here.
Everything downstream works on ResultSet, never on raw JSON.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

# The schema_versions this reader reads (harness/RESULTS.md). Another version is refused:
# a report drawn from keys that changed meaning would look right and be wrong. Version 2
# adds each allocator's chart colour and marker to the context; version 3 ends every
# workload's parameters with `touch` (older files are read as the level they ran at).
KNOWN_SCHEMA_VERSIONS = (1, 2, 3)

# Colours and markers for an allocator the file gives none (a user's NAME=/path one, or
# any in a version 1 file), handed out in the order of ResultSet.allocators().
EXTRA_STYLES = [("#ff7f0e", "P"), ("#e377c2", "*"), ("#17becf", "h"), ("#bcbd22", "<"),
                ("#6e6e6e", "o"), ("#d62728", "s"), ("#1f77b4", "^"), ("#2ca02c", "D"),
                ("#9467bd", "v"), ("#8c564b", "X")]

# Workload whose configurations are Google Benchmark microbenchmarks, one per call type:
# they get their own chart instead of one throughput chart each.
MICRO_WORKLOAD = "micro"

# Workload of a real program run under each allocator (params: its name; threads 1). Its
# runs have no operation count: wall time (smaller is better) and peak RSS of the process
# tree are its figures, with the program's own throughput, if it reports one, in `extra`.
# Programs get their own chart and table, never a place among the ops/s figures.
PROGRAM_WORKLOAD = "program"

BASELINE_ALLOCATOR = "glibc"


class ResultsError(Exception):
    """A result file that cannot be read or does not follow harness/RESULTS.md."""


@dataclass
class Run:
    """One repetition of one benchmark with one allocator."""

    benchmark: str
    config: str
    workload: str
    allocator: str
    threads: int
    repetition: int
    ok: bool
    error: Optional[str]
    metrics: Dict[str, float]
    latency_ns: Optional[Dict[str, float]]
    rss_timeline: Optional[Dict[str, List[float]]]
    extra: Dict[str, float]
    proof: Dict[str, Any]


@dataclass
class Stat:
    """Statistics of one metric over the successful repetitions."""

    median: float
    min: float
    max: float
    mean: float
    stddev: float
    cv: float
    # The confidence interval is the harness's (its statistics module): None when the
    # file gives none.
    ci95_low: Optional[float]
    ci95_high: Optional[float]


@dataclass
class Summary:
    """One benchmark with one allocator, over its repetitions."""

    benchmark: str
    config: str
    workload: str
    allocator: str
    threads: int
    n: int
    failed: int
    stats: Dict[str, Stat]

    def median(self, metric: str) -> Optional[float]:
        stat = self.stats.get(metric)
        return stat.median if stat is not None else None


@dataclass
class Config:
    """A workload with one set of parameters and one size distribution: one chart's
    worth of benchmarks (every allocator, every thread count)."""

    key: str
    workload: str
    params: Dict[str, str]
    size: str
    label: str = ""  # short, unique within the result set (set by ResultSet)
    slug: str = ""  # file-name safe form of label


@dataclass
class ResultSet:
    path: str
    schema_version: int
    context: Dict[str, Any]
    runs: List[Run]
    summaries: List[Summary]
    configs: List[Config] = field(default_factory=list)  # in order of first appearance

    # --- lookups -------------------------------------------------------------------

    def config(self, key: str) -> Config:
        for c in self.configs:
            if c.key == key:
                return c
        raise KeyError(key)

    def allocators(self) -> List[str]:
        """Allocators that produced at least one run, in a stable, readable order:
        glibc first (the baseline), then the order the context lists them."""
        seen = {r.allocator for r in self.runs} | {s.allocator for s in self.summaries}
        order = [a for a in self.context.get("allocators", {}) if a in seen]
        order += sorted(seen - set(order))
        if BASELINE_ALLOCATOR in order:
            order.remove(BASELINE_ALLOCATOR)
            order.insert(0, BASELINE_ALLOCATOR)
        return order

    def style(self, allocator: str) -> Tuple[str, str]:
        """(colour, marker) of an allocator, the same in every chart: the one the context
        records (the allocator catalogue's), else the next unused one of EXTRA_STYLES."""
        styles: Dict[str, Tuple[str, str]] = {}
        for name, info in self.context.get("allocators", {}).items():
            if isinstance(info, dict) and info.get("colour") and info.get("marker"):
                styles[name] = (str(info["colour"]), str(info["marker"]))
        taken = {colour for colour, _ in styles.values()}
        free = [s for s in EXTRA_STYLES if s[0] not in taken] or EXTRA_STYLES
        others = [a for a in self.allocators() if a not in styles]
        if allocator in styles:
            return styles[allocator]
        i = others.index(allocator) if allocator in others else len(others)
        return free[i % len(free)]

    def missing_allocators(self) -> List[Tuple[str, str]]:
        """(name, reason) of allocators the context lists as not available."""
        out = []
        for name, info in self.context.get("allocators", {}).items():
            if isinstance(info, dict) and info.get("available") is False:
                out.append((name, str(info.get("reason") or "not available")))
        return out

    def thread_counts(self, configs: Optional[Iterable[Config]] = None) -> List[int]:
        keys = None if configs is None else {c.key for c in configs}
        return sorted({s.threads for s in self.summaries if keys is None or s.config in keys})

    def summary(self, config: str, allocator: str, threads: int) -> Optional[Summary]:
        return self._summary_index.get((config, allocator, threads))

    def median(self, config: str, allocator: str, threads: int, metric: str) -> Optional[float]:
        """A benchmark's median of `metric` over its successful repetitions (None when
        none succeeded or the metric was not measured)."""
        s = self.summary(config, allocator, threads)
        return s.median(metric) if s is not None and s.n else None

    def runs_of(self, config: str, allocator: Optional[str] = None,
                threads: Optional[int] = None) -> List[Run]:
        return [r for r in self.runs if r.config == config
                and (allocator is None or r.allocator == allocator)
                and (threads is None or r.threads == threads)]

    def failed_runs(self) -> List[Run]:
        return [r for r in self.runs if not r.ok]

    def main_configs(self) -> List[Config]:
        """Workload configurations, charted one by one (not microbenchmarks, not programs)."""
        return [c for c in self.configs if c.workload not in (MICRO_WORKLOAD, PROGRAM_WORKLOAD)]

    def micro_configs(self) -> List[Config]:
        return [c for c in self.configs if c.workload == MICRO_WORKLOAD]

    def program_configs(self) -> List[Config]:
        return [c for c in self.configs if c.workload == PROGRAM_WORKLOAD]

    def program_threads(self, config: Config) -> int:
        """The thread count a program ran at (one: a program's threads are its own)."""
        counts = self.thread_counts([config])
        return counts[0] if counts else 1

    def throughput_configs(self) -> List[Config]:
        """Configurations measured in operations per second: workloads, then microbenchmarks."""
        return self.main_configs() + self.micro_configs()

    def host(self) -> str:
        return str(self.context.get("host") or "unknown host")

    def date(self) -> str:
        """The run's date as 'YYYY-MM-DD HH:MM UTC' (or as written when not ISO 8601)."""
        raw = str(self.context.get("date") or "unknown date")
        if len(raw) >= 16 and raw[4] == "-" and raw[10] == "T":
            return raw[:10] + " " + raw[11:16] + (" UTC" if raw.endswith("Z") else "")
        return raw

    def machine(self) -> str:
        cpu = self.context.get("cpu_model") or "unknown CPU"
        count = self.context.get("cpu_count")
        return f"{count}× {cpu}" if count else str(cpu)

    def footer(self) -> str:
        """The line every chart carries: where and when the numbers were measured."""
        rev = self.context.get("git_revision")
        parts = [self.host(), self.date(), self.machine()]
        if rev:
            parts.append(f"rev {rev}")
        return "  ·  ".join(parts)

    def winner(self, config: str, threads: int, metric: str = "ops_per_s") -> Optional[Summary]:
        best = None
        for alloc in self.allocators():
            s = self.summary(config, alloc, threads)
            if s is None or s.n == 0 or s.median(metric) is None:
                continue
            if best is None or s.median(metric) > best.median(metric):
                best = s
        return best

    def baseline(self) -> Optional[str]:
        """The allocator others are compared with: glibc when it ran."""
        allocs = self.allocators()
        if BASELINE_ALLOCATOR in allocs:
            return BASELINE_ALLOCATOR
        return allocs[0] if allocs else None

    # --- building ------------------------------------------------------------------

    def _index(self) -> None:
        self._summary_index = {(s.config, s.allocator, s.threads): s for s in self.summaries}


def config_key(benchmark: str) -> str:
    """The benchmark key without its trailing '/threads=N' segment."""
    head, sep, last = benchmark.rpartition("/")
    if sep and last.startswith("threads="):
        return head
    return benchmark


def program_name(config: Config) -> str:
    return config.params.get("name") or config.key


def slugify(text: str) -> str:
    out = []
    for ch in text:
        if ch.isalnum() or ch in "-_.":
            out.append(ch)
        elif ch in " =,/;:()" and out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-") or "chart"


def _num(value: Any, where: str, minimum: Optional[float] = None) -> Optional[float]:
    """A finite number (None when absent or null); refused below `minimum`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResultsError(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ResultsError(f"{where}: expected a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ResultsError(f"{where}: expected a number >= {minimum:g}, got {value!r}")
    return float(value)


def _count(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ResultsError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return value


def _require(obj: Dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise ResultsError(f"{where}: missing key '{key}'")
    return obj[key]


def _order_stats(values: List[float]) -> Stat:
    """The order statistics and spread of a benchmark whose summary the file lacks; the
    summaries themselves (and their confidence interval) are the harness's, read from
    the file."""
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return Stat(median=statistics.median(values), min=min(values), max=max(values),
                mean=mean, stddev=sd, cv=sd / mean if mean else 0.0,
                ci95_low=None, ci95_high=None)


def _parse_stat(raw: Any, where: str) -> Optional[Stat]:
    if not isinstance(raw, dict):
        return None
    vals = {}
    for name in ("median", "min", "max", "mean", "stddev", "cv", "ci95_low", "ci95_high"):
        v = _num(raw.get(name), f"{where}.{name}", 0.0 if name == "stddev" else None)
        vals[name] = v
    if vals["median"] is None:
        return None
    med = vals["median"]
    return Stat(median=med,
                min=vals["min"] if vals["min"] is not None else med,
                max=vals["max"] if vals["max"] is not None else med,
                mean=vals["mean"] if vals["mean"] is not None else med,
                stddev=vals["stddev"] or 0.0, cv=vals["cv"] or 0.0,
                ci95_low=vals["ci95_low"], ci95_high=vals["ci95_high"])


def _parse_run(raw: Dict[str, Any], i: int) -> Run:
    where = f"runs[{i}]"
    bench = str(_require(raw, "benchmark", where))
    status = _require(raw, "status", where)
    if status not in ("ok", "failed"):
        raise ResultsError(f"{where}: status must be 'ok' or 'failed', not {status!r}")
    threads = _require(raw, "threads", where)
    if not isinstance(threads, int) or threads < 1:
        raise ResultsError(f"{where}: threads must be a positive integer, not {threads!r}")
    raw_metrics = raw.get("metrics") or {}
    if not isinstance(raw_metrics, dict):
        raise ResultsError(f"{where}.metrics: expected an object")
    metrics = {}
    for k, v in raw_metrics.items():
        # Every measurement is a count, a time, a size or a ratio: never negative.
        num = _num(v, f"{where}.metrics.{k}", 0.0)
        if num is not None:
            metrics[k] = num
    if status == "ok":
        for k in ("ops", "wall_s", "ops_per_s"):
            if metrics.get(k) == 0.0:
                raise ResultsError(f"{where}: a run with status ok has {k} 0 (it did no work)")
    timeline = raw.get("rss_timeline")
    if timeline is not None:
        t = timeline.get("t_ms") if isinstance(timeline, dict) else None
        rss = timeline.get("rss_kib") if isinstance(timeline, dict) else None
        if not isinstance(t, list) or not isinstance(rss, list) or len(t) != len(rss):
            raise ResultsError(f"{where}.rss_timeline: needs t_ms and rss_kib lists of equal length")
        timeline = {"t_ms": [_num(x, f"{where}.rss_timeline.t_ms", 0.0) for x in t],
                    "rss_kib": [_num(x, f"{where}.rss_timeline.rss_kib", 0.0) for x in rss],
                    "interval_ms": timeline.get("interval_ms")}
        if any(x is None for x in timeline["t_ms"] + timeline["rss_kib"]):
            raise ResultsError(f"{where}.rss_timeline: holds a null")
        if not timeline["t_ms"]:
            timeline = None
    latency = raw.get("latency_ns")
    if latency is not None and not isinstance(latency, dict):
        raise ResultsError(f"{where}.latency_ns: expected an object or null")
    if latency is not None:
        for k, v in latency.items():
            _num(v, f"{where}.latency_ns.{k}", 0.0)
    raw_extra = raw.get("extra") or {}
    if not isinstance(raw_extra, dict):
        raise ResultsError(f"{where}.extra: expected an object")
    extra = {k: _num(v, f"{where}.extra.{k}") for k, v in raw_extra.items() if v is not None}
    return Run(benchmark=bench, config=config_key(bench),
               workload=str(_require(raw, "workload", where)),
               allocator=str(_require(raw, "allocator", where)), threads=threads,
               repetition=_count(raw.get("repetition") or 0, f"{where}.repetition"),
               ok=status == "ok",
               error=raw.get("error"), metrics=metrics, latency_ns=latency,
               rss_timeline=timeline, extra=extra, proof=raw.get("proof") or {})


def _parse_summary(raw: Dict[str, Any], i: int) -> Summary:
    where = f"summaries[{i}]"
    bench = str(_require(raw, "benchmark", where))
    stats = {}
    raw_stats = raw.get("stats") or {}
    if not isinstance(raw_stats, dict):
        raise ResultsError(f"{where}.stats: expected an object")
    for metric, sraw in raw_stats.items():
        st = _parse_stat(sraw, f"{where}.stats.{metric}")
        if st is not None:
            stats[metric] = st
    return Summary(benchmark=bench, config=config_key(bench),
                   workload=str(_require(raw, "workload", where)),
                   allocator=str(_require(raw, "allocator", where)),
                   threads=_count(_require(raw, "threads", where), f"{where}.threads", 1),
                   n=_count(raw.get("n") or 0, f"{where}.n"),
                   failed=_count(raw.get("failed") or 0, f"{where}.failed"), stats=stats)


def _summaries_from_runs(runs: List[Run], have: set) -> List[Summary]:
    """Summaries for benchmarks whose runs are in the file but whose summary is not
    (a file written mid-suite, or by a tool that writes runs only)."""
    groups: Dict[Tuple[str, str, int], List[Run]] = {}
    for r in runs:
        key = (r.config, r.allocator, r.threads)
        if key not in have:
            groups.setdefault(key, []).append(r)
    out = []
    for (config, alloc, threads), rs in groups.items():
        ok = [r for r in rs if r.ok]
        stats = {}
        for metric in ("ops_per_s", "peak_rss_kib", "mem_efficiency", "wall_s"):
            vals = [r.metrics[metric] for r in ok if metric in r.metrics]
            if vals:
                stats[metric] = _order_stats(vals)
        out.append(Summary(benchmark=rs[0].benchmark, config=config, workload=rs[0].workload,
                           allocator=alloc, threads=threads, n=len(ok),
                           failed=len(rs) - len(ok), stats=stats))
    return out


def _config_from(raw: Dict[str, Any]) -> Config:
    params = raw.get("params") or {}
    return Config(key=config_key(str(raw["benchmark"])), workload=str(raw["workload"]),
                  params={str(k): str(v) for k, v in params.items()},
                  size=str(raw.get("size") or ""))


def _label_configs(configs: List[Config]) -> None:
    """Label each configuration by its workload plus only the parameters that tell it
    apart from the workload's other configurations."""
    by_workload: Dict[str, List[Config]] = {}
    for c in configs:
        by_workload.setdefault(c.workload, []).append(c)
    used = set()
    for workload, group in by_workload.items():
        if workload == PROGRAM_WORKLOAD:
            # A program is known by its name; "(program)" keeps it apart from a workload
            # of the same name.
            for c in group:
                c.label = f"{program_name(c)} (program)"
        elif len(group) == 1:
            group[0].label = workload
        else:
            keys = sorted({k for c in group for k in c.params} | {"size"})
            differing = [k for k in keys
                         if len({(c.params.get(k) if k != "size" else c.size) for c in group}) > 1]
            for c in group:
                parts = [f"{k}={c.params.get(k) if k != 'size' else c.size}" for k in differing]
                c.label = f"{workload} ({', '.join(parts)})" if parts else c.key
    for c in configs:
        slug = slugify(c.label)
        base, n = slug, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        c.slug = slug


def _add_touch_of_version_2(raw: Dict[str, Any]) -> None:
    """Before schema version 3 no key named the touch level: every workload wrote every
    byte of its objects, except large (which named it) and trace-replay (pages)."""
    workload = raw.get("workload")
    params = raw.get("params")
    benchmark = raw.get("benchmark")
    if workload in ("micro", PROGRAM_WORKLOAD) or not isinstance(params, dict) \
            or not isinstance(benchmark, str) or "touch" in params:
        return
    level = "pages" if workload == "trace-replay" else "full"
    raw["params"] = {**params, "touch": level}
    head, sep, last = benchmark.rpartition("/")
    if sep and last.startswith("threads="):
        joiner = "," if "/" in head else "/"
        raw["benchmark"] = f"{head}{joiner}touch={level}/{last}"


def load(path: str) -> ResultSet:
    """Reads results.json (or the results.json inside a directory)."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file (expected allocbench's results.json or the directory holding it)")
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not valid JSON ({e})")
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not a JSON text file (binary data)")
    except (RecursionError, ValueError) as e:
        raise ResultsError(f"{path}: not valid JSON ({type(e).__name__})")
    except OSError as e:
        raise ResultsError(f"{path}: cannot read ({e.strerror})")
    try:
        return _from_document(doc, path)
    except ResultsError as e:
        raise ResultsError(f"{path}: {e}")


def _from_document(doc: Any, path: str) -> ResultSet:
    if not isinstance(doc, dict):
        raise ResultsError("expected a JSON object at the top level")
    version = doc.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ResultsError("missing or invalid 'schema_version' (is this an allocbench results.json?)")
    if version not in KNOWN_SCHEMA_VERSIONS:
        known = ", ".join(str(v) for v in KNOWN_SCHEMA_VERSIONS[:-1]) + \
            f" or {KNOWN_SCHEMA_VERSIONS[-1]}"
        raise ResultsError(f"schema_version {version} (this program reads {known})")
    context = doc.get("context")
    if not isinstance(context, dict):
        raise ResultsError("missing 'context' object")
    raw_runs = doc.get("runs")
    raw_summaries = doc.get("summaries", [])
    if not isinstance(raw_runs, list) or not isinstance(raw_summaries, list):
        raise ResultsError("'runs' and 'summaries' must be lists")
    for name, items in (("runs", raw_runs), ("summaries", raw_summaries)):
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ResultsError(f"{name}[{i}]: expected an object")
            if version < 3:
                _add_touch_of_version_2(item)
    runs = [_parse_run(r, i) for i, r in enumerate(raw_runs)]
    summaries = [_parse_summary(s, i) for i, s in enumerate(raw_summaries)]
    have = {(s.config, s.allocator, s.threads) for s in summaries}
    summaries += _summaries_from_runs(runs, have)

    configs: Dict[str, Config] = {}
    for raw in list(raw_runs) + list(raw_summaries):
        key = config_key(str(raw["benchmark"]))
        if key not in configs:
            configs[key] = _config_from(raw)
    ordered = list(configs.values())
    _label_configs(ordered)
    rs = ResultSet(path=path, schema_version=version, context=context, runs=runs,
                   summaries=summaries, configs=ordered)
    rs._index()
    return rs
