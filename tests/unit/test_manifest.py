"""The manifest contract: order of files, the stored object's layout (pure)."""

from __future__ import annotations

import pytest

from serverless_pypi import manifest as manifests


def test_manifests_keep_files_sorted_by_version_then_filename() -> None:
    def entry(filename: str, version: str) -> manifests.Entry:
        return {
            "filename": filename,
            "key": f"x/{filename}",
            "version": version,
            "size": 1,
            "etag": '"e"',
        }

    shuffled = [
        entry("x-1.10.tar.gz", "1.10"),
        entry("x-1.10-py3-none-any.whl", "1.10"),
        entry("x-1.9.tar.gz", "1.9"),
        entry("x-1.0rc1.tar.gz", "1.0rc1"),
        entry("x-banana.tar.gz", "banana"),  # not PEP 440: before every valid version
    ]
    made = manifests.new("x", ["x"], iter(shuffled))
    assert [file["filename"] for file in made["files"]] == [
        "x-banana.tar.gz",
        "x-1.0rc1.tar.gz",
        "x-1.9.tar.gz",
        "x-1.10-py3-none-any.whl",
        "x-1.10.tar.gz",
    ]


@pytest.mark.parametrize(
    "layout",
    ["", "1 2 3", "1 a 0 0", "1 -5 5 0", "1 {head} 1 {rest}", "1 {head} {rest} 0", "2 {head} 0 0"],
)
def test_a_stored_layout_that_does_not_add_up_gives_no_page(layout: str) -> None:
    body, _ = manifests.pack(manifests.new("x", ["x"], []), None, "1")
    head = len(body)
    body += b"not gzip at all"
    text = layout.format(head=head, rest=len(body) - head - 1)
    assert manifests.stored_page(body, {manifests.PAGES: text}, "html", "1") is None
    assert manifests.stored_page(body, {manifests.PAGES: text}, "json", "1") is None
    assert manifests.decode(body) == manifests.new("x", ["x"], [])
