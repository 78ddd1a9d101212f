#!/usr/bin/env python3
"""`make bench`: how fast the index is, measured in one process on moto.

Prints a Markdown table and writes the numbers to bench/results.json. Every
comparison is a ratio of two numbers measured in this same run. Timings are
medians on a noisy shared machine: read them as orders of magnitude and
ratios, not as guarantees (no test asserts a time).

    python bench/run.py            # everything (a few minutes)
    python bench/run.py --quick    # smaller sizes, for a smoke run

The measurements are beside this script: pages.py (the project page),
reindexing.py (one file added, a full rebuild), cold_start.py, authorizer.py,
publish.py (upload to installable), inspection.py (reading a file's metadata
within its budget); bucket.py is the moto S3 they
share, report.py writes the Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
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
from publish import bench_publish  # noqa: E402
from reindexing import bench_add_one, bench_rebuild  # noqa: E402
from report import report  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()
    page_sizes = [10, 100, 1000] if args.quick else [10, 100, 1000, 10_000, 50_000]
    add_sizes = [10, 1000] if args.quick else [10, 1000, 10_000]
    rebuild_sizes = [100] if args.quick else [1000, 10_000]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
    }
    with moto_environment() as moto_url:
        results["page_content"] = {}
        results["pages"] = bench_pages(moto_url, page_sizes, results["page_content"])
        results["add_one"] = bench_add_one(add_sizes)
        results["rebuild"] = bench_rebuild(rebuild_sizes)
        results["cold_start"] = bench_cold_start(moto_url, runs=5 if args.quick else 9)
        results["authorizer"] = bench_authorizer(moto_url, runs=5 if args.quick else 9)
    results["inspection"] = bench_inspection()
    results["publish"] = bench_publish(runs=5 if args.quick else 9)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
