"""Tests of the plotting program against the hand-made fixtures in plots/test/fixtures/.

Run by ctest (label `plots`) as: /usr/bin/python3 -m unittest discover -s plots/test -p 'test_*.py'
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
PLOTS = os.path.dirname(HERE)
FIXTURES = os.path.join(HERE, "fixtures")
LAUNCHER = os.path.join(PLOTS, "allocbench-plots")
sys.path.insert(0, PLOTS)

from allocbench_plots import charts, results  # noqa: E402
from allocbench_plots.report import (compare_rows, paired_markdown, ratios_markdown,  # noqa: E402
                                     winners_text)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_plots(*args):
    return subprocess.run([sys.executable, LAUNCHER, *args], capture_output=True, text=True,
                          timeout=300)


def expected_charts(rs, compare=False):
    """The chart files the program must draw for a result set, derived from its content."""
    main = rs.main_configs()
    programs = rs.program_configs()
    names = set()
    if main:
        names |= {"memory"} | {f"throughput-{c.slug}" for c in main}
        names |= {f"repetitions-{c.slug}" for c in main}
        # Speed against memory needs two benchmarks with both medians to compare.
        names |= {f"speed-memory-{c.slug}" for c in main
                  if len({(r.allocator, r.threads) for r in rs.runs_of(c.key)
                          if r.ok and "peak_rss_kib" in r.metrics}) > 1}
        if len(main) > 1:
            names.add("throughput-overview")
        if len(rs.allocators()) > 1:
            names.add("relative-throughput")
    names |= {f"latency-{c.slug}" for c in main
              if any(r.latency_ns for r in rs.runs_of(c.key) if r.ok)}
    names |= {f"rss-timeline-{c.slug}" for c in main + programs
              if any(r.rss_timeline for r in rs.runs_of(c.key) if r.ok)}
    if programs and len(rs.allocators()) > 1:
        names |= {"programs", "speed-memory-programs"}
    names |= {f"figures-{c.slug}" for c in main if any(r.extra for r in rs.runs_of(c.key) if r.ok)}
    if rs.micro_configs():
        names.add("microbenchmarks")
    if compare:
        names.add("compare-throughput")
    return names


class _TableCells(HTMLParser):
    """The rows of one <table id=...> of a page, each a list of its cells' text."""

    def __init__(self, table_id):
        super().__init__()
        self.table_id, self.depth, self.rows, self.cell = table_id, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (self.depth or dict(attrs).get("id") == self.table_id):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(page, table_id):
    """The rows of a table of the report as dicts keyed by its header."""
    parser = _TableCells(table_id)
    parser.feed(page)
    head, *body = parser.rows
    return [dict(zip(head, row)) for row in body]


def svg_dots(path):
    """The dots of a repetitions chart's SVG, by the id of their group
    (repetition-dots-THREADS-COLUMN): one <use> of the marker per dot."""
    root = ET.parse(path).getroot()
    dots = {}
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        gid = group.get("id", "")
        if gid.startswith("repetition-dots-"):
            dots[gid] = sum(1 for _ in group.iter("{http://www.w3.org/2000/svg}use"))
    return dots


def sections(page):
    """The report's <h2> sections: id -> the HTML up to the next <h2>."""
    parts = page.split('<h2 id="')[1:]
    return {part[:part.index('"')]: part for part in parts}


def markdown_rows(text, first_column):
    """The rows of the Markdown table whose first header is `first_column`, as dicts."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_column} |"))
    head = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(head, (c.strip() for c in line.strip("|").split("|")))))
    return rows


class OutputTest(unittest.TestCase):
    """Draws each fixture once and checks every expected file is there, non-empty and valid."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="allocbench-plots-test-")
        cls.out = {
            "full": cls.draw("full"),
            "compare": cls.draw("full", "--compare", os.path.join(FIXTURES, "base"), name="compare"),
            "minimal": cls.draw("minimal"),
            "latency": cls.draw("minimal", "--latency", os.path.join(FIXTURES, "full"), name="latency"),
            "programs": cls.draw("programs"),
            "programs-only": cls.draw(cls.programs_only()),
        }

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def programs_only(cls):
        """The programs fixture without its workload: a file of programs alone."""
        with open(os.path.join(FIXTURES, "programs", "results.json"), encoding="utf-8") as f:
            doc = json.load(f)
        for key in ("runs", "summaries"):
            doc[key] = [r for r in doc[key] if r["workload"] == "program"]
        path = os.path.join(cls.tmp, "programs-only")
        os.makedirs(path)
        with open(os.path.join(path, "results.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return path

    @classmethod
    def draw(cls, fixture, *extra, name=None):
        out = os.path.join(cls.tmp, (name or os.path.basename(fixture)) + "-out")
        proc = run_plots(os.path.join(FIXTURES, fixture), "--out", out, *extra)
        if proc.returncode != 0 or os.path.join(out, "report.html") not in proc.stdout:
            raise AssertionError(f"allocbench-plots {fixture} {extra} failed: {proc.stderr}")
        return out

    def check_charts(self, out, names):
        charts = os.path.join(out, "charts")
        written = {os.path.splitext(f)[0] for f in os.listdir(charts)}
        self.assertEqual(written, names)
        for name in names:
            png = os.path.join(charts, name + ".png")
            svg = os.path.join(charts, name + ".svg")
            with open(png, "rb") as f:
                data = f.read()
            self.assertTrue(data.startswith(PNG_MAGIC), png)
            self.assertGreater(len(data), 10_000, f"{png} is suspiciously small")
            self.assertGreater(os.path.getsize(svg), 10_000, svg)
            root = ET.parse(svg).getroot()
            self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg", svg)
            # Every chart says where and when: the footer's host is in the SVG's text.
            with open(svg, encoding="utf-8") as f:
                self.assertIn("fixture-host", f.read(), svg)

    def read_report(self, out):
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            return f.read()

    def test_full_fixture(self):
        out = self.out["full"]
        rs = results.load(os.path.join(FIXTURES, "full"))
        names = expected_charts(rs)
        self.assertIn("latency-random-lifetime", names)
        self.assertIn("rss-timeline-long-lived", names)
        self.check_charts(out, names)
        page = self.read_report(out)
        # Self-contained: every chart embedded, nothing fetched from elsewhere.
        # (The overview repeats the single charts; it is drawn for READMEs, not embedded.)
        self.assertEqual(page.count('src="data:image/png;base64,'), len(names - {"throughput-overview"}))
        self.assertNotIn("http://", page.replace("http://www.w3.org", ""))
        self.assertNotRegex(page, r'src="(?!data:)')
        # Missing allocator, failed runs with their reasons, versions, context.
        self.assertIn("tcmalloc</b> was not measured: libtcmalloc.so not found", page)
        self.assertIn("crashed: SIGSEGV", page)
        self.assertEqual(page.count("timeout after 60 s"), 3)
        self.assertIn("5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c", page)
        self.assertIn("AMD EPYC 7B13 (fixture)", page)
        self.assertIn("rss_growth_kib", page)

    def test_minimal_fixture_without_summaries_latency_or_timelines(self):
        out = self.out["minimal"]
        rs = results.load(os.path.join(FIXTURES, "minimal"))
        names = expected_charts(rs)
        self.assertFalse(any(n.startswith(("latency-", "rss-timeline-", "relative")) for n in names))
        self.check_charts(out, names)
        page = self.read_report(out)
        for name in ("fio", "mimalloc", "tcmalloc", "jemalloc"):
            self.assertIn(f"<b>{name}</b> was not measured", page)
        self.assertIn("Failed runs (0)", page)
        # A version 1 file's workloads ran at full touch, and the report says so.
        self.assertIn("objects written and checked (touch): <b>full</b> (every byte): "
                      "alloc-free, larson", page)

    def test_separate_latency_results(self):
        out = self.out["latency"]
        rs = results.load(os.path.join(FIXTURES, "minimal"))
        self.check_charts(out, expected_charts(rs) | {"latency-random-lifetime"})
        page = self.read_report(out)
        self.assertIn("separate latency-mode pass", page)
        self.assertIn("Failed runs of the latency pass (4)", page)

    def test_compare_report(self):
        out = self.out["compare"]
        rs = results.load(os.path.join(FIXTURES, "full"))
        self.check_charts(out, expected_charts(rs, compare=True))
        page = self.read_report(out)
        self.assertIn('id="compare"', page)
        self.assertIn("a91e07b", page)  # the base's revision

    def test_programs_chart_and_table(self):
        out = self.out["programs"]
        rs = results.load(os.path.join(FIXTURES, "programs"))
        names = expected_charts(rs)
        self.assertIn("programs", names)
        self.assertIn("rss-timeline-sortseq-program", names)
        self.check_charts(out, names)
        # Each allocator's bars in its catalogue colour (fio's red, mimalloc's blue).
        with open(os.path.join(out, "charts", "programs.svg"), encoding="utf-8") as f:
            svg = f.read()
        self.assertIn("#d62728", svg)
        self.assertIn("#1f77b4", svg)
        page = self.read_report(out)
        self.assertIn('<h2 id="programs">Programs</h2>', page)
        self.assertIn('<a href="#programs">', page)
        rows = {(r["program"], r["allocator"]): r for r in table_rows(page, "programs-table")}
        # Hand-made: glibc's median 2.0 s and 100 MiB, fio's 1.0 s and 80 MiB.
        fio = rows[("sortseq", "fio")]
        self.assertEqual(fio["median wall time (s)"], "1.00")
        self.assertEqual(fio["time ÷ glibc"], "0.50")
        self.assertEqual(fio["median peak RSS (MiB)"], "80.0")
        self.assertEqual(fio["RSS ÷ glibc"], "0.80")
        self.assertEqual(rows[("sortseq", "mimalloc")]["time ÷ glibc"], "0.75")
        self.assertEqual(rows[("sortseq", "glibc")]["median wall time (s)"], "2.00")
        # Every glibc run of webserve crashed: absolute values, no ratios, the reasons.
        self.assertEqual(rows[("webserve", "glibc")]["why runs failed"], "crashed: SIGSEGV (×3)")
        web = rows[("webserve", "fio")]
        self.assertEqual((web["median wall time (s)"], web["time ÷ glibc"], web["RSS ÷ glibc"]),
                         ("4.90", "–", "–"))
        self.assertEqual(web["why runs failed"], "timeout after 60 s")
        self.assertIn("requests_per_s", web["program’s own figures (median)"])
        self.assertEqual(rows[("sortseq", "fio")]["program’s own figures (median)"], "–")

    def test_programs_stay_out_of_the_throughput_figures(self):
        out = self.out["programs"]
        rs = results.load(os.path.join(FIXTURES, "programs"))
        self.assertEqual([c.label for c in rs.main_configs()], ["alloc-free"])
        self.assertEqual([c.label for c in rs.program_configs()],
                         ["sortseq (program)", "webserve (program)"])
        # No throughput, memory or figures chart of a program (check_charts: exactly the
        # expected files), and none names one.
        written = os.listdir(os.path.join(out, "charts"))
        self.assertFalse([f for f in written if f.startswith(("throughput-", "figures-"))
                          and "program" in f])
        self.assertFalse([f for f in written if f.startswith("repetitions-") and "program" in f])
        for name in ("relative-throughput", "memory", "throughput-alloc-free",
                     "repetitions-alloc-free", "speed-memory-alloc-free"):
            with open(os.path.join(out, "charts", name + ".svg"), encoding="utf-8") as f:
                svg = f.read()
            for program in ("sortseq", "webserve"):
                self.assertNotIn(program, svg, name)
        page = self.read_report(out)
        winners = page[page.index('<h2 id="relative">'):page.index('<h2 id="throughput">')]
        tables = page[page.index('<h2 id="tables">'):page.index('<h2 id="failed">')]
        for program in ("sortseq", "webserve"):
            self.assertNotIn(program, winners)
            self.assertNotIn(program, tables)
            self.assertNotIn(program, winners_text(rs))
        self.assertEqual(winners_text(rs).splitlines()[0].split(), ["workload", "1", "thr", "2", "thr"])
        ratios = ratios_markdown(rs, "fio")
        self.assertEqual([r["workload"] for r in markdown_rows(ratios, "workload")],
                         ["alloc-free", "alloc-free"])
        self.assertNotIn("program", paired_markdown(rs, "fio", "glibc"))

    def test_repetitions_charts_draw_a_dot_per_successful_repetition(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        allocs = rs.allocators()
        self.assertGreater(len(rs.main_configs()), 1)
        for config in rs.main_configs():
            path = os.path.join(self.out["full"], "charts", f"repetitions-{config.slug}.svg")
            dots = svg_dots(path)
            expected = {}
            for r in rs.runs_of(config.key):
                if r.ok:
                    gid = f"repetition-dots-{r.threads}-{allocs.index(r.allocator)}"
                    expected[gid] = expected.get(gid, 0) + 1
            self.assertEqual(dots, expected, config.label)
        # Failed repetitions are not dots, and the chart says so: fio lost one larson run at
        # 4 threads, jemalloc every alloc-free run at 4 threads.
        larson = os.path.join(self.out["full"], "charts", "repetitions-larson.svg")
        self.assertEqual(svg_dots(larson)[f"repetition-dots-4-{allocs.index('fio')}"], 2)
        with open(larson, encoding="utf-8") as f:
            self.assertIn("failed repetitions are not drawn: fio at 4 thr: 1 of 3 runs failed",
                          f.read())
        alloc_free = os.path.join(self.out["full"], "charts", "repetitions-alloc-free.svg")
        self.assertNotIn(f"repetition-dots-4-{allocs.index('jemalloc')}", svg_dots(alloc_free))
        self.assertIn(f"repetition-dots-2-{allocs.index('jemalloc')}", svg_dots(alloc_free))

    def test_repetitions_and_speed_memory_sections(self):
        page = self.read_report(self.out["full"])
        parts = sections(page)
        self.assertIn('<a href="#repetitions">Repetitions</a>', page)
        self.assertIn('<a href="#speed-memory">Speed against memory</a>', page)
        self.assertIn("the spread of its dots is the machine’s noise", parts["repetitions"])
        self.assertIn("CV (coefficient of variation)", parts["repetitions"])
        self.assertIn("Pareto front", parts["speed-memory"])
        rs = results.load(os.path.join(FIXTURES, "full"))
        for config in rs.main_configs():
            self.assertIn(f'id="chart-repetitions-{config.slug}"', parts["repetitions"])
            self.assertIn(f'id="chart-speed-memory-{config.slug}"', parts["speed-memory"])
        # The order of the page: after the charts they follow.
        ids = list(parts)
        self.assertLess(ids.index("throughput"), ids.index("repetitions"))
        self.assertLess(ids.index("memory"), ids.index("speed-memory"))
        # The programs' speed against memory sits in the same section.
        parts = sections(self.read_report(self.out["programs"]))
        self.assertIn('id="chart-speed-memory-programs"', parts["speed-memory"])
        self.assertIn('id="chart-speed-memory-alloc-free"', parts["speed-memory"])

    def test_programs_alone(self):
        out = self.out["programs-only"]
        rs = results.load(os.path.join(self.tmp, "programs-only"))
        self.assertEqual(rs.main_configs(), [])
        names = expected_charts(rs)
        self.assertEqual(names, {"programs", "speed-memory-programs", "rss-timeline-sortseq-program"})
        self.check_charts(out, names)
        page = self.read_report(out)
        parts = sections(page)
        self.assertEqual(list(parts), ["speed-memory", "programs", "failed", "allocators", "context"])
        # No section without a chart or a table, and no link to a section that is not there.
        for key, html in parts.items():
            self.assertRegex(html, "<figure|<table", key)
        for link in ("#repetitions", "#relative", "#throughput", "#memory", "#tables"):
            self.assertNotIn(f'href="{link}"', page)

    def test_no_programs_section_without_programs(self):
        for name in ("full", "minimal"):
            page = self.read_report(self.out[name])
            self.assertNotIn('id="programs"', page)
            self.assertNotIn("programs-table", page)
            self.assertNotRegex(page, r"\d+ programs?\b")
        rs = results.load(os.path.join(FIXTURES, "full"))
        self.assertEqual(rs.program_configs(), [])
        self.assertNotIn("| program |", ratios_markdown(rs, "fio"))

    def test_svg_only_without_report(self):
        out = os.path.join(self.tmp, "svg")
        proc = run_plots(os.path.join(FIXTURES, "minimal"), "--out", out, "--format=svg",
                         "--no-report")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "report.html")))

    def test_same_results_same_svg(self):
        a = self.out["minimal"]
        b = os.path.join(self.tmp, "again")
        self.assertEqual(run_plots(os.path.join(FIXTURES, "minimal"), "--out", b).returncode, 0)
        for name in os.listdir(os.path.join(a, "charts")):
            if name.endswith(".svg"):
                with open(os.path.join(a, "charts", name), "rb") as f1, \
                        open(os.path.join(b, "charts", name), "rb") as f2:
                    self.assertEqual(f1.read(), f2.read(), name)


class BadInputTest(unittest.TestCase):
    """Bad input: one line naming the problem, exit status 2, nothing written."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="allocbench-plots-bad-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def refuse(self, args, needle):
        proc = run_plots(*args)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn(needle, lines[0])
        self.assertEqual(proc.stdout, "")

    def write(self, doc):
        path = os.path.join(self.tmp, "results.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    def test_missing_file(self):
        self.refuse([os.path.join(self.tmp, "nope.json")], "no such file")

    def test_not_json(self):
        self.refuse([self.write("{not json")], "not valid JSON")

    def test_no_schema_version(self):
        self.refuse([self.write({"context": {}, "runs": []})], "schema_version")

    def test_bad_status(self):
        with open(os.path.join(FIXTURES, "minimal", "results.json"), encoding="utf-8") as f:
            doc = json.load(f)
        doc["runs"][0]["status"] = "maybe"
        self.refuse([self.write(doc)], "runs[0]: status must be 'ok' or 'failed'")

    def test_bad_metric(self):
        with open(os.path.join(FIXTURES, "minimal", "results.json"), encoding="utf-8") as f:
            doc = json.load(f)
        doc["runs"][1]["metrics"]["ops_per_s"] = "fast"
        self.refuse([self.write(doc)], "runs[1].metrics.ops_per_s: expected a number")

    def minimal(self):
        with open(os.path.join(FIXTURES, "minimal", "results.json"), encoding="utf-8") as f:
            return json.load(f)

    def test_binary_file(self):
        path = os.path.join(self.tmp, "results.json")
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00")
        self.refuse([path], "not a JSON text file")

    def test_other_schema_version(self):
        doc = self.minimal()
        doc["schema_version"] = 4
        self.refuse([self.write(doc)], "schema_version 4 (this program reads 1, 2 or 3)")

    def test_version_2_keys_gain_their_touch_level(self):
        doc = self.minimal()
        doc["schema_version"] = 2
        rs = results.load(self.write(doc))
        for config in rs.configs:
            self.assertEqual(config.params.get("touch"), "full", config.key)
            self.assertIn("touch=full", config.key)

    def test_negative_metric(self):
        doc = self.minimal()
        doc["runs"][1]["metrics"]["ops_per_s"] = -5.0
        self.refuse([self.write(doc)], "runs[1].metrics.ops_per_s: expected a number >= 0")

    def test_infinite_metric(self):
        doc = self.minimal()
        doc["runs"][1]["metrics"]["peak_rss_kib"] = float("inf")
        self.refuse([self.write(json.dumps(doc))], "expected a finite number")

    def test_ok_run_without_work(self):
        doc = self.minimal()
        ok = next(i for i, r in enumerate(doc["runs"]) if r["status"] == "ok")
        doc["runs"][ok]["metrics"]["ops_per_s"] = 0.0
        self.refuse([self.write(doc)], f"runs[{ok}]: a run with status ok has ops_per_s 0")

    def test_runs_that_are_not_objects(self):
        doc = self.minimal()
        doc["runs"] = [1, 2]
        self.refuse([self.write(doc)], "runs[0]: expected an object")

    def test_full_stdout_is_status_4(self):
        with open("/dev/full", "w") as full:
            proc = subprocess.run([sys.executable, LAUNCHER, os.path.join(FIXTURES, "full"),
                                   "--winners", "--no-report"], stdout=full,
                                  stderr=subprocess.PIPE, text=True)
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertEqual(proc.stderr.strip().splitlines(),
                         ["allocbench-plots: cannot write standard output: No space left on device"])

    def test_unknown_format(self):
        self.refuse([os.path.join(FIXTURES, "minimal"), "--format=gif"], "unknown format gif")

    def test_unmeasured_memory_threads(self):
        self.refuse([os.path.join(FIXTURES, "minimal"), "--memory-threads=8"], "was not measured")
        self.assertFalse(os.path.exists(os.path.join(FIXTURES, "minimal", "charts")))


class ModelTest(unittest.TestCase):
    def test_config_key(self):
        self.assertEqual(results.config_key("group-free/size=16..512,group=4096/threads=32"),
                         "group-free/size=16..512,group=4096")
        self.assertEqual(results.config_key("micro/bench=BM_malloc_free/64/threads=1"),
                         "micro/bench=BM_malloc_free/64")

    def test_labels_name_only_differing_parameters(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        labels = [c.label for c in rs.main_configs()]
        self.assertIn("group-free (zeroed=0)", labels)
        self.assertIn("larson", labels)
        self.assertEqual(len({c.slug for c in rs.configs}), len(rs.configs))

    def test_styles_come_from_the_context(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        names = rs.allocators()
        self.assertGreaterEqual(len(names), 2)
        # Version 1: no colours recorded; each allocator gets a style of its own.
        self.assertEqual(len({rs.style(a) for a in names}), len(names))
        # Version 2: the context's colour and marker (the allocator catalogue's); the
        # others get styles of other colours.
        rs.context["allocators"][names[0]] = {"available": True, "colour": "#ff7f0e",
                                              "marker": "X"}
        self.assertEqual(rs.style(names[0]), ("#ff7f0e", "X"))
        self.assertNotIn(rs.style(names[1])[0], {"#ff7f0e"})

    def test_summaries_computed_from_runs_when_absent(self):
        rs = results.load(os.path.join(FIXTURES, "minimal"))
        cfg = rs.configs[0]
        s = rs.summary(cfg.key, "glibc", 1)
        vals = sorted(r.metrics["ops_per_s"] for r in rs.runs_of(cfg.key, "glibc", 1))
        self.assertEqual(s.n, len(vals))
        self.assertAlmostEqual(s.stats["ops_per_s"].median, vals[len(vals) // 2])
        self.assertAlmostEqual(s.stats["ops_per_s"].min, vals[0])

    def test_all_failed_benchmark_has_no_winner_entry(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        key = next(c.key for c in rs.configs if c.workload == "alloc-free")
        s = rs.summary(key, "jemalloc", 4)
        self.assertEqual((s.n, s.failed), (0, 3))
        self.assertNotEqual(rs.winner(key, 4).allocator, "jemalloc")

    def test_winners_table(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        text = winners_text(rs)
        row = next(line for line in text.splitlines() if line.startswith("group-free (zeroed=0)"))
        # mimalloc has the highest throughput in this fixture, at every thread count.
        self.assertEqual(row.count("mimalloc"), 3)
        self.assertIn("× glibc", row)

    def test_ratios_table(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        lines = ratios_markdown(rs, "fio").splitlines()
        head = [c.strip() for c in lines[0].strip("|").split("|")]
        self.assertEqual(head[:3], ["workload", "threads", "fio"])
        self.assertIn("fio/glibc", head)
        key = next(c.key for c in rs.configs if c.label == "group-free (zeroed=0)")
        for t in (1, 4):
            row = next(line for line in lines
                       if line.startswith(f"| group-free (zeroed=0) | {t} |"))
            cells = dict(zip(head, (c.strip() for c in row.strip("|").split("|"))))
            fio = rs.summary(key, "fio", t).median("ops_per_s")
            glibc = rs.summary(key, "glibc", t).median("ops_per_s")
            mimalloc = rs.summary(key, "mimalloc", t).median("ops_per_s")
            self.assertEqual(cells["fio/glibc"], f"{fio / glibc:.2f}")
            # mimalloc is the fastest in this fixture, at every thread count.
            self.assertEqual(cells["best other"], "mimalloc")
            self.assertEqual(cells["fio/best"], f"{fio / mimalloc:.2f}")
        # jemalloc failed every alloc-free run at 4 threads: a dash, not a number.
        row = next(line for line in lines if line.startswith("| alloc-free | 4 |"))
        cells = dict(zip(head, (c.strip() for c in row.strip("|").split("|"))))
        self.assertEqual(cells["jemalloc"], "–")
        self.assertNotEqual(cells["best other"], "jemalloc")

    def test_ratios_of_programs(self):
        rs = results.load(os.path.join(FIXTURES, "programs"))
        proc = run_plots(os.path.join(FIXTURES, "programs"), "--ratios", "fio", "--no-report")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), ratios_markdown(rs, "fio"))
        rows = {r["program"]: r for r in markdown_rows(proc.stdout, "program")}
        self.assertEqual(set(rows), {"sortseq", "webserve"})
        sort = rows["sortseq"]
        self.assertEqual((sort["fio wall s"], sort["glibc wall s"], sort["mimalloc wall s"]),
                         ("1.00", "2.00", "1.50"))
        self.assertEqual(sort["fio/glibc time"], "0.50")
        self.assertEqual(sort["fio/glibc RSS"], "0.80")
        # Best is the smallest: mimalloc's 1.5 s for time, glibc's 100 MiB for RSS.
        self.assertEqual((sort["best other time"], sort["fio/best time"]), ("mimalloc", "0.67"))
        self.assertEqual((sort["best other RSS"], sort["fio/best RSS"]), ("glibc", "0.80"))
        # No successful glibc run of webserve: no ratio to it; mimalloc is the best other.
        web = rows["webserve"]
        self.assertEqual((web["glibc wall s"], web["fio/glibc time"], web["fio/glibc RSS"]),
                         ("–", "–", "–"))
        self.assertEqual((web["best other time"], web["fio/best time"]), ("mimalloc", f"{4.9 / 5.4:.2f}"))
        # The baseline against the others: no column of itself over itself.
        head = markdown_rows(ratios_markdown(rs, "glibc"), "program")[0]
        self.assertNotIn("glibc/glibc time", head)
        self.assertEqual(head["best other time"], "fio")

    def test_ratios_of_an_allocator_that_did_not_run(self):
        r = run_plots(os.path.join(FIXTURES, "full"), "--ratios", "hoard", "--no-report")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ratios=hoard", r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1)

    def test_paired_table(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        lines = paired_markdown(rs, "fio", "glibc").splitlines()
        key = next(c.key for c in rs.configs if c.label == "group-free (zeroed=0)")
        for t in (1, 4):
            row = next(line for line in lines
                       if line.startswith(f"| group-free (zeroed=0) | {t} |"))
            cells = [c.strip() for c in row.strip("|").split("|")]
            fio = {r.repetition: r.metrics["ops_per_s"] for r in rs.runs_of(key, "fio", t) if r.ok}
            glibc = {r.repetition: r.metrics["ops_per_s"]
                     for r in rs.runs_of(key, "glibc", t) if r.ok}
            ratios = sorted(fio[k] / glibc[k] for k in fio if k in glibc)
            self.assertGreater(len(ratios), 1)
            mid = len(ratios) // 2
            median = ratios[mid] if len(ratios) % 2 else (ratios[mid - 1] + ratios[mid]) / 2
            self.assertEqual(cells[2], f"{median:.2f}")
            self.assertEqual(cells[3], f"{ratios[0]:.2f}..{ratios[-1]:.2f}")
            self.assertEqual(cells[4], str(len(ratios)))
        # jemalloc failed every alloc-free run at 4 threads: no pair, a dash.
        row = next(line for line in paired_markdown(rs, "fio", "jemalloc").splitlines()
                   if line.startswith("| alloc-free | 4 |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        self.assertEqual(cells[2:5], ["–", "–", "0"])

    def test_paired_needs_two_allocators_that_ran(self):
        r = run_plots(os.path.join(FIXTURES, "full"), "--paired", "fio,hoard", "--no-report")
        self.assertEqual(r.returncode, 2)
        self.assertIn("hoard has no runs", r.stderr)
        r = run_plots(os.path.join(FIXTURES, "full"), "--paired", "fio", "--no-report")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--paired", r.stderr)
        r = run_plots(os.path.join(FIXTURES, "full"), "--paired", "fio,glibc", "--no-report")
        self.assertEqual(r.returncode, 0)
        self.assertIn("fio/glibc, median of the repetitions' ratios", r.stdout)

    def test_pareto_front(self):
        # (peak RSS, ops/s): (15, 90) is beaten by (10, 100), (30, 150) by (20, 200).
        points = [(10, 100), (20, 200), (15, 90), (30, 150)]
        self.assertEqual(charts.pareto_front(points), [(10, 100), (20, 200)])
        self.assertEqual(charts.pareto_front([]), [])
        self.assertEqual(charts.pareto_front([(5, 1)]), [(5, 1)])
        # A point as fast as another in more memory, or as small and slower, is off the
        # front; the same point twice is on it once.
        self.assertEqual(charts.pareto_front([(10, 100), (12, 100), (10, 90), (10, 100)]),
                         [(10, 100)])
        # (peak RSS, wall s): smaller is faster.
        walls = [(10, 5.0), (20, 3.0), (15, 6.0), (30, 3.0), (40, 2.0)]
        self.assertEqual(charts.pareto_front(walls, larger_y_better=False),
                         [(10, 5.0), (20, 3.0), (40, 2.0)])

    def test_speed_memory_points(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        config = next(c for c in rs.main_configs() if c.workload == "alloc-free")
        points = charts.speed_memory_points(rs, config)
        # Every allocator at every thread count but jemalloc at 4 threads (all failed).
        self.assertEqual(len(points), len(rs.allocators()) * 3 - 1)
        self.assertNotIn(("jemalloc", 4), {(p.allocator, p.threads) for p in points})
        glibc = next(p for p in points if (p.allocator, p.threads) == ("glibc", 2))
        self.assertAlmostEqual(glibc.rss_mib, rs.median(config.key, "glibc", 2, "peak_rss_kib") / 1024)
        self.assertEqual(glibc.speed, rs.median(config.key, "glibc", 2, "ops_per_s"))

    def test_repetition_strips(self):
        rs = results.load(os.path.join(FIXTURES, "full"))
        config = next(c for c in rs.main_configs() if c.workload == "larson")
        strips = {(s.threads, s.allocator): s for s in charts.repetition_strips(rs, config)}
        self.assertEqual(len(strips), len(rs.allocators()) * 3)
        fio = strips[(4, "fio")]
        self.assertEqual(fio.failed, 1)
        self.assertEqual(fio.rates, [r.metrics["ops_per_s"] for r in rs.runs_of(config.key, "fio", 4)
                                     if r.ok])
        glibc = strips[(1, "glibc")]
        self.assertEqual(len(glibc.rates), 3)
        self.assertAlmostEqual(glibc.cv(), rs.summary(config.key, "glibc", 1).stats["ops_per_s"].cv)
        self.assertEqual(charts.strip_offsets(1), [0.0])
        self.assertEqual(charts.strip_offsets(3), [-0.25, 0.0, 0.25])

    def test_compare_verdicts(self):
        new = results.load(os.path.join(FIXTURES, "full"))
        base = results.load(os.path.join(FIXTURES, "base"))
        rows = compare_rows(new, base)
        verdict = {(r[0], r[1], r[2]): r[6] for r in rows}
        self.assertEqual(verdict[("group-free (zeroed=0)", "fio", 1)], "faster")
        self.assertEqual(verdict[("larson", "mimalloc", 2)], "slower")
        self.assertEqual(verdict[("larson", "glibc", 2)], "ranges overlap")
        self.assertEqual(verdict[("alloc-free", "jemalloc", 4)], "failed")


if __name__ == "__main__":
    unittest.main()
