#!/usr/bin/env python3
"""Checks allocbench export files against the fields each format documents.

  validate_exports.py github-action-benchmark FILE   array of {name, unit, value[, range, extra]}
  validate_exports.py bencher FILE                   Bencher Metric Format (its JSON schema:
                                                     object -> object -> {value, lower_value?,
                                                     upper_value?}, numbers; slugs <= 64 chars)
  validate_exports.py gbench FILE                    Google Benchmark JSON reporter output

Exit status 0 when valid; 1 with one line per problem otherwise. Standard library only.
"""
import json
import numbers
import sys


def is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def check_github_action_benchmark(doc):
    if not isinstance(doc, list) or not doc:
        yield "not a non-empty JSON array"
        return
    names = set()
    for i, e in enumerate(doc):
        if not isinstance(e, dict):
            yield f"[{i}] is not an object"
            continue
        for key in ("name", "unit"):
            if not isinstance(e.get(key), str) or not e[key]:
                yield f"[{i}].{key} missing or not a non-empty string"
        if not is_number(e.get("value")):
            yield f"[{i}].value missing or not a number"
        for key in ("range", "extra"):
            if key in e and not isinstance(e[key], str):
                yield f"[{i}].{key} is not a string"
        extra_keys = set(e) - {"name", "unit", "value", "range", "extra"}
        if extra_keys:
            yield f"[{i}] has undocumented keys {sorted(extra_keys)}"
        if e.get("name") in names:
            yield f"[{i}].name {e.get('name')!r} is not unique"
        names.add(e.get("name"))


def check_bencher(doc):
    if not isinstance(doc, dict) or not doc:
        yield "not a non-empty JSON object"
        return
    for bench, measures in doc.items():
        if not bench or len(bench) > 1024:
            yield f"benchmark name of length {len(bench)} (1..1024)"
        if not isinstance(measures, dict) or not measures:
            yield f"{bench}: measures are not a non-empty object"
            continue
        for slug, metric in measures.items():
            if not slug or len(slug) > 64:
                yield f"{bench}: measure {slug!r} longer than 64 characters"
            if not isinstance(metric, dict) or "value" not in metric:
                yield f"{bench}/{slug}: no value"
                continue
            for key, value in metric.items():
                if key not in ("value", "lower_value", "upper_value"):
                    yield f"{bench}/{slug}: undocumented key {key}"
                elif not is_number(value):
                    yield f"{bench}/{slug}.{key} is not a number"
            if "lower_value" in metric and metric["lower_value"] > metric["value"]:
                yield f"{bench}/{slug}: lower_value above value"
            if "upper_value" in metric and metric["upper_value"] < metric["value"]:
                yield f"{bench}/{slug}: upper_value below value"


def check_gbench(doc):
    if not isinstance(doc, dict):
        yield "not a JSON object"
        return
    context = doc.get("context")
    if not isinstance(context, dict):
        yield "no context object"
    else:
        for key in ("date", "host_name", "executable", "library_build_type"):
            if not isinstance(context.get(key), str):
                yield f"context.{key} missing or not a string"
    benchmarks = doc.get("benchmarks")
    if not isinstance(benchmarks, list) or not benchmarks:
        yield "no benchmarks array"
        return
    for i, b in enumerate(benchmarks):
        for key in ("name", "run_name", "run_type", "time_unit"):
            if not isinstance(b.get(key), str):
                yield f"benchmarks[{i}].{key} missing or not a string"
        for key in ("family_index", "per_family_instance_index", "repetitions", "threads",
                    "iterations"):
            if not isinstance(b.get(key), int):
                yield f"benchmarks[{i}].{key} missing or not an integer"
        for key in ("real_time", "cpu_time"):
            if not is_number(b.get(key)):
                yield f"benchmarks[{i}].{key} missing or not a number"
        if b.get("time_unit") not in ("ns", "us", "ms", "s"):
            yield f"benchmarks[{i}].time_unit {b.get('time_unit')!r}"
        if b.get("run_type") == "iteration":
            if not isinstance(b.get("repetition_index"), int):
                yield f"benchmarks[{i}].repetition_index missing"
        elif b.get("run_type") == "aggregate":
            if b.get("aggregate_name") not in ("mean", "median", "stddev", "cv"):
                yield f"benchmarks[{i}].aggregate_name {b.get('aggregate_name')!r}"
            if b.get("aggregate_unit") not in ("time", "percentage"):
                yield f"benchmarks[{i}].aggregate_unit {b.get('aggregate_unit')!r}"
        else:
            yield f"benchmarks[{i}].run_type {b.get('run_type')!r}"


CHECKS = {"github-action-benchmark": check_github_action_benchmark, "bencher": check_bencher,
          "gbench": check_gbench}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(CHECKS)}}} FILE")
    with open(sys.argv[2]) as f:
        doc = json.load(f)
    problems = list(CHECKS[sys.argv[1]](doc))
    for p in problems:
        print(f"{sys.argv[2]}: {p}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
