"""A project's details, read from its latest file's core metadata."""

from __future__ import annotations

from typing import Any

from serverless_pypi import details

METADATA = b"""Metadata-Version: 2.4
Name: acme-auth
Version: 2.0
Summary: Authentication   helpers
License-Expression: MIT
Author: ACME Team
Home-page: https://example.com/home
Project-URL: Source, https://example.com/src
Project-URL: broken-no-comma
Classifier: Programming Language :: Python :: 3
Requires-Dist: requests>=2.31
Description-Content-Type: text/markdown

# acme-auth

Body text.
"""


def test_the_fields_a_page_shows_are_read() -> None:
    found = details.parse(METADATA, "acme_auth-2.0-py3-none-any.whl", "2.0")
    assert found == {
        "from": "acme_auth-2.0-py3-none-any.whl",
        "version": "2.0",
        "summary": "Authentication helpers",
        "license": "MIT",
        "author": "ACME Team",
        "urls": [["Homepage", "https://example.com/home"], ["Source", "https://example.com/src"]],
        "classifiers": ["Programming Language :: Python :: 3"],
        "requires-dist": ["requests>=2.31"],
        "description": "# acme-auth\n\nBody text.",
        "description-type": "text/markdown",
    }
    assert details.is_markdown(found)
    assert details.valid(found) == found


def test_an_old_description_field_loses_its_continuation_marks() -> None:
    data = (
        b"Metadata-Version: 1.1\nName: x\nVersion: 1\n"
        b"Description: first\n       |second\n        third\n"
    )
    found = details.parse(data, "x-1.tar.gz", "1")
    assert found["description"] == "first\nsecond\nthird"
    assert not details.is_markdown(found)  # no content type: shown as plain text


def test_values_are_bounded_and_one_line() -> None:
    data = (
        b"Metadata-Version: 2.1\nName: x\nVersion: 1\nSummary: "
        + b"a\x1b[31m" * 1000
        + b"\n"
        + b"".join(b"Classifier: c%d\n" % n for n in range(500))
        + b"\n"
        + b"d" * (details.MAX_DESCRIPTION + 10)
    )
    found = details.parse(data, "x-1.whl", "1")
    assert len(found["summary"]) == details.MAX_LINE and "\x1b" not in found["summary"]
    assert len(found["classifiers"]) == details.MAX_ITEMS
    assert len(found["description"]) == details.MAX_DESCRIPTION


def entry(filename: str, version: str, **extra: Any) -> dict[str, Any]:
    return {"filename": filename, "version": version, "core-metadata": "ab", **extra}


def test_the_source_is_the_latest_final_release_and_prefers_a_wheel() -> None:
    files = [
        entry("x-1.0.tar.gz", "1.0"),
        entry("x-1.0-py3-none-any.whl", "1.0"),
        entry("x-2.0rc1-py3-none-any.whl", "2.0rc1"),
        entry("x-1.5-py3-none-any.whl", "1.5", yanked="broken"),
        {"filename": "x-1.2-py3-none-any.whl", "version": "1.2"},  # no metadata
    ]
    assert (details.source(files) or {})["filename"] == "x-1.0-py3-none-any.whl"
    assert (details.newest(files) or {})["version"] == "1.2"
    assert (details.source(files[2:3]) or {})["version"] == "2.0rc1"  # only a pre-release
    assert (details.source([files[3]]) or {})["version"] == "1.5"  # only a yanked file
    assert details.source([files[4]]) is None


def test_malformed_details_are_refused() -> None:
    assert details.valid({"from": "f", "version": "1", "urls": [["a"]]}) is None
    assert details.valid({"from": "f", "version": "1", "summary": 3}) is None
    assert details.valid({"from": "f"}) is None
    assert details.valid("x") is None
