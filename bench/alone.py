#!/usr/bin/env python3
"""Measure some sections of the bench alone, at the full run's sizes, add their rows
to bench/results.json (each with ``<section>_when``), then write docs/performance.md
again: for a change that touches only those sections, without measuring everything
again. ``python bench/alone.py proxied ui_pages``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bucket import moto_environment  # noqa: E402
from proxied import bench_proxied  # noqa: E402
from report import RESULTS, write_docs  # noqa: E402
from run import FULL  # noqa: E402
from uipages import UI_PAGE_SIZES, bench_ui_pages  # noqa: E402

# The sections that can be measured alone, each from moto's URL.
ALONE: dict[str, Callable[[str], Any]] = {
    "proxied": lambda moto_url: bench_proxied(moto_url, FULL.pages),
    "ui_pages": lambda moto_url: bench_ui_pages(moto_url, UI_PAGE_SIZES),
}


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(ALONE))
    if not names or unknown:
        print(f"usage: alone.py SECTION... (of {', '.join(ALONE)})", file=sys.stderr)
        return 2
    results = json.loads(RESULTS.read_text())
    with moto_environment() as moto_url:
        for name in names:
            results[name] = ALONE[name](moto_url)
            results[f"{name}_when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_docs(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
