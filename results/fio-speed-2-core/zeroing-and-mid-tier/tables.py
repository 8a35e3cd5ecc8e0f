#!/usr/bin/python3
"""Before/after tables of one allocbench result file holding the peers, the fio shim of
this revision (`fio`) and an earlier fio shim run side by side (`fio-before`, or the name
given with --before).

    tables.py RESULTS.json [--before NAME] [--metric ops_per_s|wall_s]

For every benchmark (workload, parameters, threads), with medians of the repetitions:
fio / glibc, fio / the best peer (glibc, mimalloc, tcmalloc, jemalloc, whichever is
fastest), fio's peak RSS / the smallest peer's, and the same three for the earlier shim.
Throughput is operations per second, higher is better."""
import argparse
import json
import sys

PEERS = ("glibc", "mimalloc", "tcmalloc", "jemalloc")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--before", default="fio-before")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    a = ap.parse_args()
    with open(a.results) as f:
        data = json.load(f)
    med = {}
    for s in data["summaries"]:
        if not s.get("stats") or "ops_per_s" not in s["stats"]:
            continue
        med[(s["benchmark"], s["allocator"])] = (
            s["stats"]["ops_per_s"]["median"],
            s["stats"]["peak_rss_kib"]["median"],
        )
    benches = []
    for s in data["summaries"]:
        if s["benchmark"] not in benches:
            benches.append(s["benchmark"])

    def ratios(bench, who):
        if (bench, who) not in med:
            return None
        ops, rss = med[(bench, who)]
        peers = [med[(bench, p)] for p in PEERS if (bench, p) in med]
        if not peers or (bench, "glibc") not in med:
            return None
        best = max(p[0] for p in peers)
        least = min(p[1] for p in peers)
        return ops / med[(bench, "glibc")][0], ops / best, rss / least

    head = ["benchmark", "fio/glibc", "fio/best peer", "fio RSS/least", "before: /glibc",
            "/best peer", "RSS/least"]
    rows = []
    for b in benches:
        now, before = ratios(b, "fio"), ratios(b, a.before)
        if now is None:
            continue
        short = b.split("/")[0] + " t" + b.rsplit("threads=", 1)[-1]
        params = b.split("/")[1] if b.count("/") >= 2 else ""
        if "zeroed=true" in params:
            short += " zeroed"
        if "touch=" in params and b.startswith("large"):
            short += " " + [p for p in params.split(",") if p.startswith("touch=")][0]
        fmt = lambda r: ["%.2f" % x for x in r] if r else ["-", "-", "-"]
        rows.append([short] + fmt(now) + fmt(before))
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
        for r in [head] + rows:
            print("  ".join(str(x).ljust(n) for x, n in zip(r, w)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
