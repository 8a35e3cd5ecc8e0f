#!/usr/bin/python3
"""Opens an allocbench HTML report in headless chromium and checks that it renders.

Draws the report from a fixture (with --compare, so every section is present), loads it
in chromium, and requires the marker the report's own script sets on <body> once the
page has loaded: every <img> complete with a natural width, and no script error. Then
takes a screenshot. Exit status 77 (ctest's skip) when chromium is not installed.

    check_report_in_browser.py --workdir DIR [--chromium PATH]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PLOTS = os.path.dirname(HERE)
SKIP = 77


def chromium_command(chromium, profile, *args):
    # No network, no first-run work, a throwaway profile: the page must stand alone.
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *args]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workdir", required=True, help="where the report and screenshot go")
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    p.add_argument("--report", help="check this report instead of drawing one from the fixtures")
    args = p.parse_args()

    if not os.access(args.chromium, os.X_OK):
        print(f"SKIP: chromium not found at {args.chromium} (apt-get install chromium)")
        return SKIP

    os.makedirs(args.workdir, exist_ok=True)
    report = args.report
    if report is None:
        draw = subprocess.run([sys.executable, os.path.join(PLOTS, "allocbench-plots"),
                               os.path.join(HERE, "fixtures", "full"), "--out", args.workdir,
                               "--compare", os.path.join(HERE, "fixtures", "base"), "--quiet"],
                              capture_output=True, text=True, timeout=300)
        if draw.returncode != 0:
            print(f"FAIL: allocbench-plots exited {draw.returncode}: {draw.stderr}")
            return 1
        report = os.path.join(args.workdir, "report.html")
    url = "file://" + os.path.abspath(report)
    with open(report, encoding="utf-8") as f:
        expected_images = f.read().count("<img ")

    profile = tempfile.mkdtemp(prefix="allocbench-chromium-")
    try:
        dom = subprocess.run(chromium_command(args.chromium, profile, "--dump-dom", url),
                             capture_output=True, text=True, timeout=120)
        shot = os.path.join(args.workdir, "report-screenshot.png")
        if os.path.exists(shot):
            os.remove(shot)
        subprocess.run(chromium_command(args.chromium, profile, "--window-size=1280,2600",
                                        f"--screenshot={shot}", url),
                       capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)

    body = re.search(r"<body([^>]*)>", dom.stdout)
    if dom.returncode != 0 or body is None:
        print(f"FAIL: chromium --dump-dom exited {dom.returncode}; stderr tail:\n{dom.stderr[-2000:]}")
        return 1
    attrs = dict(re.findall(r'(data-[\w-]+)="([^"]*)"', body.group(1)))
    console_errors = [line for line in dom.stderr.splitlines()
                      if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]
    problems = []
    if attrs.get("data-render-check") != "ok":
        problems.append(f"render marker is {attrs.get('data-render-check')!r}, expected 'ok' "
                        "(the page's load handler did not run or found a problem)")
    if attrs.get("data-images") != str(expected_images):
        problems.append(f"{attrs.get('data-images')} images seen, {expected_images} in the file")
    if attrs.get("data-broken-images") != "0":
        problems.append(f"{attrs.get('data-broken-images')} charts did not load")
    if attrs.get("data-script-errors") != "0":
        problems.append(f"{attrs.get('data-script-errors')} script errors")
    if console_errors:
        problems.append("console errors: " + " | ".join(console_errors[:5]))
    with open(shot, "rb") if os.path.exists(shot) else open(os.devnull, "rb") as f:
        head = f.read(8)
    if head != b"\x89PNG\r\n\x1a\n" or os.path.getsize(shot) < 50_000:
        problems.append(f"no usable screenshot at {shot}")
    if problems:
        for line in problems:
            print("FAIL:", line)
        return 1
    print(f"OK: {attrs['data-images']} charts rendered in chromium, no script errors; "
          f"screenshot: {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
