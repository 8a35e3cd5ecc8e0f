#!/usr/bin/python3
"""Writes the hand-made result fixtures under plots/test/fixtures/ (committed).

The numbers are chosen by hand below, not measured: they exist to exercise every path
of the plotting program (failed runs, a missing allocator, latency and RSS timelines
present and absent, several configurations of one workload, microbenchmarks, a file
without summaries, programs). The layout follows harness/RESULTS.md, schema_version 1
(schema_version 2, with the allocators' colours, for the programs fixture).

Run it again only when the fixtures must change:  /usr/bin/python3 plots/test/make_fixtures.py
"""

import json
import math
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

LIBS = {
    "glibc": ("/lib/x86_64-linux-gnu/libc.so.6", "2.36"),
    "fio": ("/work/main/build/release/allocator/libfio-malloc.so", "0.1.0"),
    "mimalloc": ("/usr/lib/x86_64-linux-gnu/libmimalloc.so.2", "2.0.9"),
    "jemalloc": ("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"),
}

# Millions of operations per second at one thread, by workload configuration and allocator.
BASE_MOPS = {
    "group-free/size=16..512,group=4096,zeroed=0": {"glibc": 31, "fio": 52, "mimalloc": 88, "jemalloc": 61},
    "group-free/size=16..512,group=4096,zeroed=1": {"glibc": 22, "fio": 50, "mimalloc": 60, "jemalloc": 44},
    "alloc-free/size=16..1024": {"glibc": 45, "fio": 39, "mimalloc": 95, "jemalloc": 70},
    "random-lifetime/size=16..512,window=1000": {"glibc": 28, "fio": 24, "mimalloc": 47, "jemalloc": 40},
    "larson/size=16..512,rounds=100,slots=1000": {"glibc": 18, "fio": 21, "mimalloc": 35, "jemalloc": 29},
    "long-lived/size=16..512,keep_one_in=64": {"glibc": 26, "fio": 33, "mimalloc": 55, "jemalloc": 41},
}
# Speed-up over one thread, per thread count (a 2-core machine: 4 threads oversubscribe).
SCALE = {1: 1.0, 2: 1.85, 4: 1.7}
# Relative deviation of each repetition from the configuration's value.
JITTER = [-0.031, 0.004, 0.022]
# Peak RSS in KiB at one thread and the workload's peak live bytes.
RSS_KIB = {"glibc": 9800, "fio": 14200, "mimalloc": 11800, "jemalloc": 10900}
LIVE_BYTES = 4_300_000
LONG_LIVED_GROWTH = {"glibc": 1.6, "fio": 5.5, "mimalloc": 2.1, "jemalloc": 1.9}

FAILURES = {
    # (config, allocator, threads): {repetition: reason}
    ("larson/size=16..512,rounds=100,slots=1000", "fio", 4): {1: "crashed: SIGSEGV"},
    ("alloc-free/size=16..1024", "jemalloc", 4): {0: "timeout after 60 s", 1: "timeout after 60 s",
                                                   2: "timeout after 60 s"},
}
LATENCY_CONFIG = "random-lifetime/size=16..512,window=1000"
TIMELINE_CONFIGS = {"long-lived/size=16..512,keep_one_in=64", "group-free/size=16..512,group=4096,zeroed=0"}


def params_of(config):
    workload, _, rest = config.partition("/")
    params = {}
    for kv in rest.split(","):
        k, _, v = kv.partition("=")
        params[k] = v
    size = params.pop("size")
    return workload, params, size


def stat(values):
    n = len(values)
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if n > 1 else 0.0
    t = {2: 12.706, 3: 4.303}.get(n, 0.0)
    half = t * sd / math.sqrt(n) if n > 1 else 0.0
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "mean": mean, "stddev": sd, "cv": sd / mean if mean else 0.0,
            "ci95_low": mean - half, "ci95_high": mean + half}


def context(date, rev, allocators, command):
    ctx = {
        "date": date, "host": "fixture-host", "cpu_model": "AMD EPYC 7B13 (fixture)",
        "cpu_count": 2, "kernel": "Linux 6.1.0-28-cloud-amd64 x86_64", "compiler": "GCC 12.2.0",
        "build_type": "Release", "git_revision": rev, "allocbench_version": "0.1.0",
        "command_line": command, "allocators": {},
    }
    for name in ("glibc", "fio", "mimalloc", "tcmalloc", "jemalloc"):
        if name in allocators:
            lib, ver = LIBS[name]
            ctx["allocators"][name] = {"library": lib, "version": ver, "available": True}
        else:
            ctx["allocators"][name] = {"library": None, "version": None, "available": False,
                                       "reason": f"lib{name}.so not found"}
    return ctx


def run_record(config, alloc, threads, rep, ops_per_s, failed_reason, with_latency, with_timeline):
    workload, params, size = params_of(config)
    bench = f"{config}/threads={threads}"
    lib, ver = LIBS[alloc]
    rec = {"benchmark": bench, "workload": workload, "params": params, "size": size,
           "allocator": alloc, "threads": threads, "repetition": rep,
           "status": "failed" if failed_reason else "ok", "error": failed_reason,
           "metrics": {}, "latency_ns": None, "rss_timeline": None, "extra": {},
           "proof": {"malloc_from": lib, "version": ver}}
    if failed_reason:
        return rec
    ops = int(ops_per_s * 0.5)
    rss = int(RSS_KIB[alloc] * (1 + 0.35 * (threads - 1)) * (1 + JITTER[rep] / 3))
    if workload == "long-lived":
        rss = int(rss * LONG_LIVED_GROWTH[alloc])
    live = LIVE_BYTES * threads
    rec["metrics"] = {
        "ops": ops, "allocs": ops // 2, "frees": ops - ops // 2, "wall_s": ops / ops_per_s,
        "ops_per_s": ops_per_s, "user_s": 0.5 * min(threads, 2) * 0.97, "sys_s": 0.012 * threads,
        "peak_rss_kib": rss, "minor_faults": rss // 4, "major_faults": 0,
        "vol_ctx_switches": 3 * threads, "invol_ctx_switches": 40 * threads,
        "peak_live_bytes": live, "mem_efficiency": rss * 1024 / live,
    }
    if workload == "long-lived":
        rec["extra"] = {"rss_growth_kib": int(rss * 0.6)}
    if with_latency:
        scale = 1e9 / ops_per_s * threads
        rec["latency_ns"] = {"p50": round(scale * 0.8), "p99": round(scale * 3.1 + 40),
                             "p999": round(scale * 9 + 300), "max": round(scale * 400 + 21000),
                             "samples": 100000, "sampling_overhead_ns": 19}
    if with_timeline:
        interval = 10
        steps = max(3, min(40, int(rec["metrics"]["wall_s"] * 1000 / interval)))
        t = [interval * i for i in range(steps)]
        grow = 1.0 if workload != "long-lived" else 1.0
        curve = [int(2000 + (rss - 2000) * min(1.0, (i + 1) / (steps * 0.3)) ** grow) for i in range(steps)]
        if workload == "long-lived":
            curve = [int(2000 + (rss - 2000) * (i + 1) / steps) for i in range(steps)]
        rec["rss_timeline"] = {"interval_ms": interval, "t_ms": t, "rss_kib": curve}
    return rec


def build(allocators, threads_list, scale_by=lambda config, alloc: 1.0, date="2026-11-27T03:10:00Z",
          rev="3f2c9a1", failures=FAILURES, configs=None, micro=True):
    runs = []
    configs = configs or list(BASE_MOPS)
    for config in configs:
        for threads in threads_list:
            for alloc in allocators:
                for rep in range(len(JITTER)):
                    reason = failures.get((config, alloc, threads), {}).get(rep)
                    ops = BASE_MOPS[config][alloc] * 1e6 * SCALE[threads] * scale_by(config, alloc)
                    ops *= 1 + JITTER[(rep + len(alloc)) % len(JITTER)]
                    runs.append(run_record(config, alloc, threads, rep, ops, reason,
                                           config == LATENCY_CONFIG, config in TIMELINE_CONFIGS))
    if micro:
        for bench, base in (("BM_malloc_free/64", 61), ("BM_malloc_free/4096", 23), ("BM_calloc/64", 40),
                            ("BM_realloc_grow/64", 17)):
            for alloc in allocators:
                for rep in range(len(JITTER)):
                    ops = base * 1e6 * {"glibc": 1, "fio": 1.4, "mimalloc": 2.2, "jemalloc": 1.7}[alloc]
                    ops *= 1 + JITTER[rep] / 2
                    lib, ver = LIBS[alloc]
                    runs.append({"benchmark": f"micro/bench={bench}/threads=1", "workload": "micro",
                                 "params": {"bench": bench}, "size": "", "allocator": alloc,
                                 "threads": 1, "repetition": rep, "status": "ok", "error": None,
                                 "metrics": {"ops": int(ops), "allocs": int(ops) // 2,
                                             "frees": int(ops) - int(ops) // 2, "wall_s": 1.0,
                                             "ops_per_s": ops},
                                 "latency_ns": None, "rss_timeline": None, "extra": {},
                                 "proof": {"malloc_from": lib, "version": ver}})
    threads_arg = ",".join(str(t) for t in threads_list)
    command = f"./allocbench --workload=all --threads={threads_arg} --repetitions={len(JITTER)} --out=results"
    return {"schema_version": 1, "context": context(date, rev, allocators, command),
            "runs": runs, "summaries": summarise(runs)}


def summarise(runs):
    summaries = []
    seen = {}
    for r in runs:
        seen.setdefault((r["benchmark"], r["allocator"]), []).append(r)
    for (bench, alloc), rs in seen.items():
        ok = [r for r in rs if r["status"] == "ok"]
        first = rs[0]
        stats = {}
        for metric in ("ops_per_s", "peak_rss_kib", "mem_efficiency", "wall_s"):
            vals = [r["metrics"][metric] for r in ok if r["metrics"].get(metric) is not None]
            if vals:
                stats[metric] = stat(vals)
        summaries.append({"benchmark": bench, "workload": first["workload"], "params": first["params"],
                          "size": first["size"], "allocator": alloc, "threads": first["threads"],
                          "n": len(ok), "failed": len(rs) - len(ok), "stats": stats})
    return summaries


# Programs, each run whole under each allocator: wall seconds and peak RSS (KiB) of each
# repetition, or the reason it failed. Chosen so the ratios are easy to check by hand:
# on sortseq fio takes half of glibc's median time (1.0 s over 2.0 s) and 0.80 of its RSS.
# On webserve every glibc run crashed (no ratios), and it reports its own throughput.
PROGRAMS = {
    "sortseq": {"glibc": [(1.9, 102400), (2.0, 104448), (2.2, 102400)],
                "fio": [(1.1, 83968), (0.95, 80896), (1.0, 81920)],
                "mimalloc": [(1.5, 122880), (1.4, 122880), (1.6, 124928)]},
    "webserve": {"glibc": ["crashed: SIGSEGV", "crashed: SIGSEGV", "crashed: SIGSEGV"],
                 "fio": [(4.8, 51200), "timeout after 60 s", (5.0, 52224)],
                 "mimalloc": [(5.5, 61440), (5.3, 60416), (5.4, 61440)]},
}
PROGRAM_THROUGHPUT = {"webserve": "requests_per_s"}
# The allocators' chart styles as the allocator catalogue records them.
STYLES = {"glibc": ("#6e6e6e", "o"), "fio": ("#d62728", "s"), "mimalloc": ("#1f77b4", "^"),
          "jemalloc": ("#9467bd", "v"), "tcmalloc": ("#2ca02c", "D")}


def program_record(name, alloc, rep, outcome):
    """A run of a program as the harness writes it: no operation count, so no ops, ops/s
    or memory efficiency; wall time, CPU time, peak RSS of the process tree."""
    lib, ver = LIBS[alloc]
    failed = isinstance(outcome, str)
    rec = {"benchmark": f"program/name={name}/threads=1", "workload": "program",
           "params": {"name": name}, "size": "", "allocator": alloc, "threads": 1,
           "repetition": rep, "status": "failed" if failed else "ok",
           "error": outcome if failed else None, "metrics": {}, "latency_ns": None,
           "rss_timeline": None, "extra": {}, "proof": {"malloc_from": lib, "version": ver}}
    if failed:
        return rec
    wall, rss = outcome
    rec["metrics"] = {"ops": None, "allocs": None, "frees": None, "wall_s": wall, "ops_per_s": None,
                      "user_s": wall * 0.9, "sys_s": wall * 0.05, "peak_rss_kib": rss,
                      "minor_faults": rss // 4, "major_faults": 0, "vol_ctx_switches": 40,
                      "invol_ctx_switches": 12, "peak_live_bytes": None, "mem_efficiency": None}
    if name in PROGRAM_THROUGHPUT:
        rec["extra"] = {PROGRAM_THROUGHPUT[name]: round(250000 / wall, 1)}
    if name == "sortseq":
        steps = 6
        rec["rss_timeline"] = {"interval_ms": 400, "t_ms": [400 * i for i in range(steps)],
                               "rss_kib": [4 + (rss - 4) * min(i, 3) // 3 for i in range(steps)]}
    return rec


def programs_fixture(allocs):
    """One small workload at two thread counts, and the programs above."""
    doc = build(allocs, [1, 2], failures={}, configs=["alloc-free/size=16..1024"], micro=False)
    runs = doc["runs"]
    for name, by_alloc in PROGRAMS.items():
        for rep in range(len(JITTER)):
            for alloc in allocs:
                runs.append(program_record(name, alloc, rep, by_alloc[alloc][rep]))
    doc["summaries"] = summarise(runs)
    doc["schema_version"] = 2
    for name, info in doc["context"]["allocators"].items():
        info["colour"], info["marker"] = STYLES[name]
    doc["context"]["command_line"] += " --program=sortseq,webserve"
    return doc


def write(name, doc):
    os.makedirs(os.path.join(OUT, name), exist_ok=True)
    with open(os.path.join(OUT, name, "results.json"), "w", encoding="utf-8") as f:
        # One run or summary per line: small, and diffs stay readable.
        f.write('{"schema_version": %d,\n "context": %s,\n "runs": [\n' % (doc["schema_version"], json.dumps(doc["context"])))
        f.write(",\n".join("  " + json.dumps(r) for r in doc["runs"]))
        f.write('\n ],\n "summaries": [\n')
        f.write(",\n".join("  " + json.dumps(s) for s in doc["summaries"]))
        f.write("\n ]\n}\n")


def main():
    allocs = ["glibc", "fio", "mimalloc", "jemalloc"]  # tcmalloc: missing
    full = build(allocs, [1, 2, 4])
    write("full", full)

    # The same suite measured earlier, before a change that sped fio up on group-free.
    def before(config, alloc):
        if alloc == "fio" and config.startswith("group-free"):
            return 0.62
        if alloc == "mimalloc" and config.startswith("larson"):
            return 1.08
        return 1.0
    write("base", build(allocs, [1, 2, 4], scale_by=before, date="2026-11-20T09:00:00Z",
                        rev="a91e07b", failures={}))

    # Runs only (as after a crash before the first summary was written), one allocator
    # available, no latency, no timelines, one thread count.
    minimal = build(["glibc"], [1], failures={}, configs=["alloc-free/size=16..1024",
                                                          "larson/size=16..512,rounds=100,slots=1000"],
                    micro=False)
    minimal["summaries"] = []
    for r in minimal["runs"]:
        r["latency_ns"] = None
        r["rss_timeline"] = None
    write("minimal", minimal)

    write("programs", programs_fixture(["glibc", "fio", "mimalloc"]))


if __name__ == "__main__":
    main()
