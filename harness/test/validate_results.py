#!/usr/bin/env python3
"""Checks an allocbench output directory against harness/RESULTS.md and the golden files.

    validate_results.py DIR [--rows N] [--all-ok] [--expect WORKLOAD:ALLOCATOR:STATUS[:TEXT]]...
                            [--combinations W1,W2 A1,A2 T1,T2]

Exits 1 with one line per problem found.
"""
import argparse
import csv
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--all-ok", action="store_true")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--combinations", nargs=3)
    args = ap.parse_args()
    problems = []

    with open(os.path.join(HERE, "golden", "results_header.csv"), newline="") as f:
        header = next(csv.reader(f))
    with open(os.path.join(HERE, "golden", "results.json")) as f:
        golden = json.load(f)

    with open(os.path.join(args.dir, "results.csv"), newline="") as f:
        reader = csv.reader(f)
        got_header = next(reader)
        rows = [dict(zip(got_header, r)) for r in reader]
        if got_header != header:
            problems.append("CSV header differs from golden/results_header.csv")
    with open(os.path.join(args.dir, "results.json")) as f:
        data = json.load(f)
    if os.path.exists(os.path.join(args.dir, "results.json.tmp")):
        problems.append("results.json.tmp left behind")

    if data.get("schema_version") != golden["schema_version"]:
        problems.append(f"schema_version is not {golden['schema_version']}")
    if set(data) != set(golden):
        problems.append(f"top-level keys {sorted(data)} != {sorted(golden)}")
    if set(data["context"]) != set(golden["context"]):
        problems.append(f"context keys {sorted(data['context'])}")
    allocator_keys = set(next(iter(golden["context"]["allocators"].values())))
    for name, info in data["context"]["allocators"].items():
        if set(info) - {"reason"} != allocator_keys - {"reason"}:
            problems.append(f"context: allocator {name} keys {sorted(info)}")
        if info["available"] and not (info["library"] and info["version"]):
            problems.append(f"context: available allocator {name} without library/version")
    run_keys = set(golden["runs"][0])
    metric_keys = set(golden["runs"][0]["metrics"])
    for run in data["runs"]:
        if set(run) != run_keys:
            problems.append(f"run keys {sorted(run)}")
        if set(run["metrics"]) != metric_keys:
            problems.append(f"metrics keys {sorted(run['metrics'])}")
    for s in data["summaries"]:
        if set(s) != set(golden["summaries"][0]):
            problems.append(f"summary keys {sorted(s)}")
        count = sum(1 for r in data["runs"]
                    if r["benchmark"] == s["benchmark"] and r["allocator"] == s["allocator"])
        if s["n"] + s["failed"] != count:
            problems.append(f"summary {s['benchmark']} {s['allocator']}: n+failed != {count}")
        # A program's figure is its wall time; everything else counts operations.
        metric = "wall_s" if s["workload"] == "program" else "ops_per_s"
        oks = [r["metrics"][metric] for r in data["runs"]
               if r["benchmark"] == s["benchmark"] and r["allocator"] == s["allocator"]
               and r["status"] == "ok"]
        if oks and not math.isclose(s["stats"][metric]["max"], max(oks)):
            problems.append(f"summary {s['benchmark']}: max {metric} is not the runs' max")

    if len(rows) != len(data["runs"]):
        problems.append(f"CSV has {len(rows)} rows, JSON {len(data['runs'])} runs")
    for row, run in zip(rows, data["runs"]):
        where = f"{row['benchmark']} {row['allocator']} rep {row['repetition']}"
        if (row["benchmark"], row["allocator"], row["status"]) != (
                run["benchmark"], run["allocator"], run["status"]):
            problems.append(f"{where}: CSV and JSON disagree")
        if row["status"] == "ok" and row["workload"] == "program":
            if row["ops"] or row["ops_per_s"] or not float(row["wall_s"]) > 0:
                problems.append(f"{where}: a program row with operations, or without a wall time")
        elif row["status"] == "ok":
            ops, allocs, frees = int(row["ops"]), int(row["allocs"]), int(row["frees"])
            if ops != allocs + frees or ops <= 0:
                problems.append(f"{where}: ops {ops} != allocs + frees")
            if not math.isclose(float(row["ops_per_s"]), ops / float(row["wall_s"]), rel_tol=1e-9):
                problems.append(f"{where}: ops_per_s != ops / wall_s")
        if row["status"] == "ok":
            if int(row["peak_rss_kib"]) <= 0 or float(row["user_s"]) < 0:
                problems.append(f"{where}: no peak RSS or CPU time")
            if row["error"]:
                problems.append(f"{where}: ok row with an error")
            # The library the probe proved for this allocator (the context) served every run.
            lib = data["context"]["allocators"].get(row["allocator"], {}).get("library")
            if row["allocator_library"] != lib:
                problems.append(f"{where}: malloc served by {row['allocator_library']}, not {lib}")
            if not row["allocator_version"]:
                problems.append(f"{where}: no allocator version")
        elif row["status"] == "failed":
            if not row["error"]:
                problems.append(f"{where}: failed row without a reason")
        else:
            problems.append(f"{where}: status {row['status']!r}")

    if args.rows is not None and len(rows) != args.rows:
        problems.append(f"{len(rows)} rows, expected {args.rows}")
    if args.all_ok:
        for row in rows:
            if row["status"] != "ok":
                problems.append(f"{row['benchmark']} {row['allocator']}: {row['error']}")
    for expect in args.expect:
        workload, allocator, status, *text = expect.split(":", 3)
        matching = [r for r in rows if r["workload"] == workload and r["allocator"] == allocator]
        if not matching:
            problems.append(f"no row for {workload} {allocator}")
        for r in matching:
            if r["status"] != status or (text and text[0] not in r["error"]):
                problems.append(f"{workload} {allocator}: {r['status']} {r['error']!r}, "
                                f"expected {status} {text[0] if text else ''}")
    if args.combinations:
        workloads, allocators, threads = (x.split(",") for x in args.combinations)
        seen = {(r["workload"], r["allocator"], r["threads"]) for r in rows}
        for w in workloads:
            for a in allocators:
                for t in threads:
                    if (w, a, t) not in seen:
                        problems.append(f"missing {w} {a} threads={t}")

    for p in problems[:40]:
        print(f"validate_results: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
