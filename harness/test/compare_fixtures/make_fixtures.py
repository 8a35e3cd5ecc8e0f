#!/usr/bin/env python3
"""Writes the constructed result files that harness/test/compare_test.cpp feeds to
`allocbench compare` and `allocbench export`. Deterministic (fixed seed): rerun it after a
change to harness/RESULTS.md and commit the output.

Every file holds the same benchmarks as base.json unless its purpose says otherwise:
  base.json          6 repetitions per benchmark, about 1.5% noise
  same.json          the same runs as base.json
  regressed.json     fio on group-free 30% slower; one crashed glibc repetition
  improved.json      fio on group-free 25% faster
  few_reps.json      2 repetitions per benchmark: no verdict is possible at alpha 0.05
  missing.json       fio on alloc-free absent, one random-lifetime benchmark added
  other_machine.json same figures measured on another CPU, another fio version
  slow_machine.json  every allocator 50% slower (a slower CI machine): ratio mode passes
"""
import copy
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365}

BENCHMARKS = [
    # (workload, params, size, threads, base throughput per allocator)
    ("group-free", [("group", "4096"), ("zeroed", "0")], "16..512", 1,
     {"glibc": 40e6, "fio": 60e6}),
    ("alloc-free", [("live", "0")], "16..512", 2, {"glibc": 90e6, "fio": 70e6}),
    ("micro", [("bench", "BM_malloc_free/64")], "64", 1, {"glibc": 120e6, "fio": 150e6}),
]
EXTRA_BENCHMARK = ("random-lifetime", [("window", "1000")], "16..512", 1,
                   {"glibc": 30e6, "fio": 25e6})
VERSIONS = {"glibc": "2.36", "fio": "0.1.0"}
LIBRARIES = {"glibc": "/usr/lib/x86_64-linux-gnu/libc.so.6",
             "fio": "/work/build/allocator/override/libfio-malloc.so"}


def key(workload, params, size, threads):
    if workload == "micro":
        return "micro/" + ",".join(f"{k}={v}" for k, v in params) + f"/threads={threads}"
    return (f"{workload}/size={size}," + ",".join(f"{k}={v}" for k, v in params) +
            f"/threads={threads}")


def context(cpu_model="AMD EPYC 7B13 64-Core Processor", cpu_count=2, fio_version="0.1.0"):
    return {
        "date": "2026-11-27T10:00:00Z", "host": "ci-runner", "cpu_model": cpu_model,
        "cpu_count": cpu_count, "kernel": "Linux 6.1.0 x86_64", "compiler": "GCC 12.2.0",
        "build_type": "Release", "git_revision": "0123abc", "allocbench_version": "0.1.0",
        "command_line": "./allocbench --workload=group-free,alloc-free --repetitions=6",
        "allocators": {
            a: {"library": LIBRARIES[a], "version": fio_version if a == "fio" else VERSIONS[a],
                "available": True} for a in ("glibc", "fio")},
    }


def stats(values):
    n = len(values)
    s = sorted(values)
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    half = T95[n - 1] * sd / math.sqrt(n) if n > 1 else 0.0
    return {"median": median, "min": s[0], "max": s[-1], "mean": mean, "stddev": sd,
            "cv": sd / mean if mean else 0.0, "ci95_low": mean - half, "ci95_high": mean + half}


def make(rng, reps, factor=lambda bench, alloc: 1.0, benchmarks=BENCHMARKS, skip=(),
         failed=(), ctx=None, fio_version="0.1.0"):
    runs = []
    for workload, params, size, threads, base in benchmarks:
        for alloc, rate in base.items():
            if (workload, alloc) in skip:
                continue
            for rep in range(reps):
                ok = (workload, alloc, rep) not in failed
                ops = 2_000_000
                ops_per_s = rate * factor(workload, alloc) * (1 + rng.gauss(0, 0.015))
                wall = ops / ops_per_s
                metrics = {
                    "ops": ops, "allocs": ops // 2, "frees": ops // 2, "wall_s": wall,
                    "ops_per_s": ops_per_s, "user_s": wall * threads * 0.97,
                    "sys_s": wall * threads * 0.03,
                    "peak_rss_kib": int(9000 * (1 + rng.gauss(0, 0.01))),
                    "minor_faults": 2100, "major_faults": 0, "vol_ctx_switches": 3,
                    "invol_ctx_switches": 1, "peak_live_bytes": 1081344,
                }
                metrics["mem_efficiency"] = metrics["peak_rss_kib"] * 1024 / 1081344
                runs.append({
                    "benchmark": key(workload, params, size, threads), "workload": workload,
                    "params": dict(params), "size": size, "allocator": alloc,
                    "threads": threads, "repetition": rep,
                    "status": "ok" if ok else "failed",
                    "error": None if ok else "crashed: SIGSEGV",
                    "metrics": metrics if ok else {},
                    "latency_ns": None, "rss_timeline": None, "extra": {},
                    "proof": {"malloc_from": LIBRARIES[alloc],
                              "version": fio_version if alloc == "fio" else VERSIONS[alloc]},
                })
    summaries = []
    seen = []
    for r in runs:
        if (r["benchmark"], r["allocator"]) not in seen:
            seen.append((r["benchmark"], r["allocator"]))
    for bench, alloc in seen:
        mine = [r for r in runs if r["benchmark"] == bench and r["allocator"] == alloc]
        ok = [r for r in mine if r["status"] == "ok"]
        first = mine[0]
        summary = {k: first[k] for k in ("benchmark", "workload", "params", "size",
                                         "allocator", "threads")}
        summary["n"] = len(ok)
        summary["failed"] = len(mine) - len(ok)
        summary["stats"] = {m: stats([r["metrics"][m] for r in ok]) for m in
                            ("ops_per_s", "peak_rss_kib", "mem_efficiency", "wall_s")} if ok else {}
        summaries.append(summary)
    return {"schema_version": 1, "context": ctx or context(fio_version=fio_version),
            "runs": runs, "summaries": summaries}


def write(name, doc):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    base = make(random.Random(1), 6)
    write("base.json", base)
    write("same.json", copy.deepcopy(base))
    write("regressed.json", make(random.Random(2), 6,
                                 factor=lambda b, a: 0.7 if (b, a) == ("group-free", "fio") else 1,
                                 failed={("alloc-free", "glibc", 3)}))
    write("improved.json", make(random.Random(3), 6,
                                factor=lambda b, a: 1.25 if (b, a) == ("group-free", "fio") else 1))
    write("few_reps.json", make(random.Random(4), 2))
    write("missing.json", make(random.Random(5), 6, benchmarks=BENCHMARKS + [EXTRA_BENCHMARK],
                               skip={("alloc-free", "fio")}))
    other = make(random.Random(1), 6, fio_version="0.2.0",
                 ctx=context(cpu_model="Intel(R) Xeon(R) Platinum 8375C", cpu_count=4,
                             fio_version="0.2.0"))
    write("other_machine.json", other)
    write("slow_machine.json", make(random.Random(6), 6, factor=lambda b, a: 0.5))


if __name__ == "__main__":
    main()
