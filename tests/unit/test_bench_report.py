"""The bench's report (bench/report.py): docs/performance.md holds, between its
markers, exactly the sections that the committed bench/results.json renders, so a
number edited by hand or left behind by a new run fails here. Nothing is measured."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

# Appended, not inserted: bench/ holds modules with common names (status, flood).
sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))

import report

PAGE = report.PERFORMANCE.read_text()
FIX = "run `python bench/report.py --docs` (`make bench-full` does it after a full run)"


def _results() -> dict[str, Any]:
    results: dict[str, Any] = json.loads(report.RESULTS.read_text())
    return results


def _held(page: str, name: str) -> str:
    """What ``page`` holds between the markers of section ``name``."""
    found = re.search(rf"<!-- bench:{name} -->\n\n(.*?)\n\n<!-- /bench:{name} -->", page, re.DOTALL)
    assert found, f"docs/performance.md has no section {name!r} between its markers"
    return found.group(1)


def test_the_page_marks_every_section_once() -> None:
    assert sorted(report.marked(PAGE)) == sorted(report.SECTIONS)


@pytest.mark.parametrize("name", list(report.SECTIONS))
def test_the_page_holds_what_the_results_render(name: str) -> None:
    assert _held(PAGE, name) == report.section(name, _results()), (
        f"docs/performance.md's {name!r} is not what bench/results.json renders: {FIX}"
    )


def test_filling_the_page_changes_nothing() -> None:
    assert report.fill(PAGE, _results()) == PAGE, FIX


def test_a_stale_number_is_written_again() -> None:
    results = _results()
    seconds = results["rebuild"][-1]["seconds"]
    stale = PAGE.replace(f"| {seconds} |", "| 999.99 |")
    assert stale != PAGE
    assert report.fill(stale, results) == PAGE
    results["rebuild"][-1]["seconds"] = 999.99
    assert "| 999.99 |" in _held(report.fill(PAGE, results), "rebuild")


def test_a_page_without_a_section_or_with_an_unknown_one_is_refused() -> None:
    without = re.sub(r"<!-- bench:status -->.*?<!-- /bench:status -->", "", PAGE, flags=re.DOTALL)
    with pytest.raises(ValueError, match="every section once"):
        report.fill(without, _results())
    unknown = PAGE + "\n<!-- bench:speed -->\n<!-- /bench:speed -->\n"
    with pytest.raises(ValueError, match="every section once"):
        report.fill(unknown, _results())


def test_only_a_full_run_is_written_into_the_page(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(PAGE)
    with pytest.raises(ValueError, match="full run"):
        report.write_docs({**_results(), "run": "quick"}, page)
    report.write_docs(_results(), page)
    assert page.read_text() == PAGE
