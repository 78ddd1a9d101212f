#!/usr/bin/env python3
"""`make bench`: how fast the index is, measured in one process on moto.

Writes the numbers to a JSON file and prints the report (report.py). Every
comparison is a ratio of two numbers measured in this same run. Timings are
medians on a noisy shared machine: read them as orders of magnitude and
ratios, not as guarantees (no test asserts a time).

    python bench/run.py            # every measurement, smaller sizes (under a minute)
    python bench/run.py --full     # the full sizes (a few minutes): bench/results.json

Both runs measure every row of the report; the quick one at smaller sizes
(``QUICK`` below), and writes bench/results-quick.json. The full run writes
bench/results.json and the numbers of docs/performance.md from it (the
sections between its ``<!-- bench:NAME -->`` markers; the prose is kept by hand).

The measurements are beside this script: pages.py (the project page), proxied.py
(the proxy mode's page beside a private one),
reindexing.py (one file added, a full rebuild), cold_start.py, authorizer.py,
publish.py (upload to installable), inspection.py (reading a file's metadata
within its budget), flood.py (the authorizer under a flood), status.py
(`serverless-pypi status`), uipages.py (the pages for people); bucket.py is the
moto S3 they share, report.py
writes the Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

# bench/*.py, beside this script (the first entry of sys.path).
from authorizer import bench_authorizer  # noqa: E402
from bucket import moto_environment  # noqa: E402
from cold_start import bench_cold_start  # noqa: E402
from inspection import bench_inspection  # noqa: E402
from pages import bench_pages  # noqa: E402
from proxied import bench_proxied  # noqa: E402
from publish import bench_publish  # noqa: E402
from reindexing import bench_add_one, bench_rebuild  # noqa: E402
from report import PERFORMANCE, report, write_docs  # noqa: E402
from status import bench_status  # noqa: E402
from uipages import UI_PAGE_SIZES, bench_ui_pages  # noqa: E402

from flood import bench_flood  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    """What a run measures at: files per project page, files in the project one file is
    added to, projects rebuilt, fresh interpreters per median, and uploads whose time
    to installable gives a median and a 99th percentile."""

    name: str
    pages: list[int]
    add_one: list[int]
    rebuild: list[int]
    runs: int
    uploads: int
    status: list[int]
    flood_seconds: float


# The pages keep 1,000 files: the page content's bytes per file are about that page.
# The quick run keeps the sizes the performance targets name for pages and added files
# (50,000 and 10,000 files): they take seconds; a rebuild of 10,000 projects does not.
QUICK = Sizes(
    "quick",
    pages=[10, 1000, 50_000],
    add_one=[10, 10_000],
    rebuild=[1000],
    runs=5,
    uploads=25,
    status=[1000],
    flood_seconds=3.0,
)
FULL = Sizes(
    "full",
    pages=[10, 100, 1000, 10_000, 50_000],
    add_one=[10, 1000, 10_000],
    rebuild=[1000, 10_000],
    runs=9,
    uploads=100,
    status=[1000, 10_000],
    flood_seconds=10.0,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full sizes (a few minutes)")
    parser.add_argument(
        "--output",
        type=Path,
        help="where the numbers go (default: bench/results.json, or results-quick.json)",
    )
    args = parser.parse_args()
    sizes = FULL if args.full else QUICK
    output = args.output or ROOT / "bench" / ("results.json" if args.full else "results-quick.json")
    results: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "run": sizes.name,
    }
    with moto_environment() as moto_url:
        results["page_content"] = {}
        results["pages"] = bench_pages(moto_url, sizes.pages, results["page_content"])
        results["proxied"] = bench_proxied(moto_url, sizes.pages)
        results["add_one"] = bench_add_one(sizes.add_one)
        results["rebuild"] = bench_rebuild(sizes.rebuild)
        results["cold_start"] = bench_cold_start(moto_url, runs=sizes.runs)
        results["authorizer"] = bench_authorizer(moto_url, runs=sizes.runs)
        results["status"] = bench_status(sizes.status)
        # The pages for people: the largest project page the targets name, and the
        # list of every project at 10,000 projects.
        results["ui_pages"] = bench_ui_pages(moto_url, UI_PAGE_SIZES)
    results["flood"] = bench_flood(seconds=sizes.flood_seconds)
    results["inspection"] = bench_inspection()
    results["publish"] = bench_publish(runs=sizes.uploads)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results), end="")
    if args.full and args.output is None:
        write_docs(results)
        print(
            f"wrote {output.relative_to(ROOT)} and {PERFORMANCE.relative_to(ROOT)}", file=sys.stderr
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
