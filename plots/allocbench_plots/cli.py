"""Command line: allocbench-plots RESULTS [--out DIR] [--compare BASE] ..."""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from .results import ResultsError, load

EPILOG = """\
examples:
  allocbench-plots results/2026-11-27-myhost
      charts in results/2026-11-27-myhost/charts/, report in .../report.html
  allocbench-plots new/results.json --compare old/results.json --out /tmp/cmp
      one report comparing two result sets (before/after)
  allocbench-plots results/2026-11-27-myhost --winners --no-report
      print who won each workload and stop
  allocbench-plots results/2026-11-27-myhost --ratios fio --no-report
      print fio against the others as a Markdown table and stop

exit status: 0 done, 2 bad input (unreadable or malformed results, another schema_version,
a negative or non-finite value, bad option), 4 an output could not be written
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and status 2, like allocbench itself
        self.exit(2, f"allocbench-plots: {message} (see --help)\n")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    p = _Parser(prog="allocbench-plots", formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Draw charts (PNG, SVG) and a self-contained HTML report from "
                            "allocbench's results.json.", epilog=EPILOG)
    p.add_argument("results", help="results.json, or the directory allocbench --out wrote")
    p.add_argument("--out", metavar="DIR",
                   help="where to write charts/ and report.html (default: the results' directory)")
    p.add_argument("--compare", metavar="BASE", help="a base results.json (or its directory): "
                   "the report shows the change from BASE to RESULTS")
    p.add_argument("--latency", metavar="LATENCY", help="results of a separate latency-mode run "
                   "(allocbench --latency) of the same suite: their percentiles are charted "
                   "(default: latency/ beside the results, when it exists)")
    p.add_argument("--format", default="png,svg", metavar="LIST",
                   help="chart formats, from png and svg (default: png,svg; the report needs png)")
    p.add_argument("--memory-threads", type=int, metavar="N",
                   help="thread count for the memory chart (default: the largest measured)")
    p.add_argument("--report", default="report.html", metavar="NAME",
                   help="file name of the report inside --out (default: report.html)")
    p.add_argument("--no-report", action="store_true", help="draw no charts and write no report")
    p.add_argument("--winners", action="store_true",
                   help="print a table of the fastest allocator per workload and thread count")
    p.add_argument("--ratios", metavar="ALLOCATOR",
                   help="print a Markdown table of ALLOCATOR against the others (medians, its "
                        "ratio to glibc and to the fastest other, its peak RSS over the "
                        "smallest other's) per workload and thread count, and one of its "
                        "wall time and peak RSS over glibc's and the best other's per program")
    p.add_argument("--paired", metavar="A,B",
                   help="print a Markdown table of A's throughput over B's within each "
                        "repetition (the median of those ratios and their range) per workload "
                        "and thread count: for a machine whose speed drifts between spells")
    p.add_argument("--quiet", action="store_true",
                   help="print nothing but errors, --winners, --ratios and --paired")
    args = p.parse_args(argv)
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("png", "svg")]
    if bad or not formats:
        p.error(f"--format: unknown format {', '.join(bad) or '(empty)'}; accepted: png, svg")
    if not args.no_report and "png" not in formats:
        p.error("--format: the report embeds PNG charts; include png or pass --no-report")
    if args.paired is not None:
        pair = [a.strip() for a in args.paired.split(",")]
        if len(pair) != 2 or not all(pair) or pair[0] == pair[1]:
            p.error(f"--paired: expected two different allocators as A,B, got '{args.paired}'")
        args.paired = pair
    if args.memory_threads is not None and args.memory_threads < 1:
        p.error("--memory-threads must be a positive thread count")
    if os.sep in args.report or not args.report:
        p.error("--report takes a file name, not a path (use --out for the directory)")
    args.formats = formats
    return args


def main(argv: Optional[List[str]] = None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()
    except OSError as e:
        # What was printed did not all arrive (a full disk, /dev/full): say so, once, and
        # let the interpreter's last flush go nowhere instead of printing a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"allocbench-plots: cannot write standard output: {e.strerror or e}",
              file=sys.stderr)
        return 4
    return status


def _main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        rs = load(args.results)
        base = load(args.compare) if args.compare else None
        latency = load(args.latency) if args.latency else None
        # The suite writes its latency pass to latency/ beside the results: use it unasked.
        beside = os.path.join(os.path.dirname(os.path.abspath(rs.path)), "latency", "results.json")
        if latency is None and os.path.isfile(beside):
            latency = load(beside)
    except ResultsError as e:
        print(f"allocbench-plots: {e}", file=sys.stderr)
        return 2
    measured = rs.thread_counts(rs.main_configs())  # what the memory chart can show
    if args.memory_threads is not None and args.memory_threads not in measured:
        print(f"allocbench-plots: --memory-threads={args.memory_threads} was not measured; "
              f"measured: {', '.join(map(str, measured)) or 'none'}", file=sys.stderr)
        return 2

    if args.ratios is not None and args.ratios not in rs.allocators():
        print(f"allocbench-plots: --ratios={args.ratios} has no runs in {rs.path}; "
              f"allocators there: {', '.join(rs.allocators()) or 'none'}", file=sys.stderr)
        return 2
    for alloc in args.paired or []:
        if alloc not in rs.allocators():
            print(f"allocbench-plots: --paired: {alloc} has no runs in {rs.path}; "
                  f"allocators there: {', '.join(rs.allocators()) or 'none'}", file=sys.stderr)
            return 2
    if args.winners:
        from .report import winners_text
        print(winners_text(rs))
    if args.ratios is not None:
        from .report import ratios_markdown
        print(ratios_markdown(rs, args.ratios))
    if args.paired is not None:
        from .report import paired_markdown
        print(paired_markdown(rs, *args.paired))
    if args.no_report:
        return 0

    # Imported here: matplotlib takes a moment to load and --winners does not need it.
    from .charts import draw_all
    from .report import write_report

    outdir = args.out or os.path.dirname(os.path.abspath(rs.path))
    chart_dir = os.path.join(outdir, "charts")
    report = os.path.join(outdir, args.report)
    try:
        os.makedirs(chart_dir, exist_ok=True)
        charts = draw_all(rs, chart_dir, args.formats, args.memory_threads, base, latency)
        write_report(rs, charts, report, base, latency)
    except OSError as e:
        print(f"allocbench-plots: cannot write to {outdir}: {e.strerror or e}", file=sys.stderr)
        return 4
    if not args.quiet:
        print(f"{len(charts)} charts in {chart_dir}")
        print(f"report: {report}")
    return 0
