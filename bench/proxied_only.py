#!/usr/bin/env python3
"""Measure the proxy mode's page alone, at the full run's page sizes, and add the rows
to bench/results.json (with ``proxied_when``), then write docs/performance.md again:
for a change that adds only this section, without measuring everything again."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bucket import moto_environment  # noqa: E402
from proxied import bench_proxied  # noqa: E402
from report import RESULTS, write_docs  # noqa: E402
from run import FULL  # noqa: E402


def main() -> int:
    results = json.loads(RESULTS.read_text())
    with moto_environment() as moto_url:
        results["proxied"] = bench_proxied(moto_url, FULL.pages)
    results["proxied_when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_docs(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
