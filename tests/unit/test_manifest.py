"""The manifest contract (pure): the order of files, the stored object's layout, what a
yank reason may hold, and the view both pages draw from."""

from __future__ import annotations

import pytest

from serverless_pypi import manifest as manifests
from serverless_pypi.manifest import Entry

# Text that acts on a terminal (pip prints the reason) or reorders what a person
# reads, and what a yank reason keeps of it.
HOSTILE_REASONS = {
    "esc-csi": ("\x1b[2J\x1b[31mred\x1b[0m", "[2J[31mred[0m"),  # clear, colour
    "osc-title": ("\x1b]0;owned\x07use 2.0", "]0;owneduse 2.0"),  # the window title
    "osc8-link": (
        "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
        "]8;;https://evil.example/\\click]8;;\\",
    ),
    "cr": ("fine\roverwritten", "fine overwritten"),  # the line written over
    "nul-del": ("a\x00b\x7fc", "abc"),
    "bidi": ("use 1.1\u202e\u2066gnp.exe", "use 1.1gnp.exe"),  # override, isolate
    "c1": ("\x9b31mred \x85next", "31mred next"),  # CSI dropped, NEL a line break
    "separators": ("a \x1b b\u2028c\u200bd", "a b cd"),  # line separator, zero width
    "nothing-left": ("\x1b\x00\x9b", ""),
}


def raw_controls(text: str) -> set[str]:
    """The characters of ``text`` that act on a terminal or reorder what a person
    reads (line breaks apart)."""
    return {char for char in text if not char.isprintable() and char != "\n"}


@pytest.mark.parametrize(("raw", "clean"), HOSTILE_REASONS.values(), ids=HOSTILE_REASONS)
def test_a_yank_reason_keeps_no_control_or_format_character(raw: str, clean: str) -> None:
    assert manifests.yank_reason(raw) == clean
    assert manifests.yank_reason(clean) == clean


@pytest.mark.parametrize(
    "kept", ["Broken build, see #12", "ünïcödé ✓ 日本語 \ufffd", 'broken <build> & "worse"']
)
def test_a_yank_reason_keeps_printable_text_of_any_script(kept: str) -> None:
    assert manifests.yank_reason(kept) == kept


def test_a_yank_reason_is_one_line_of_single_spaces() -> None:
    assert manifests.yank_reason("  Broken build,\n\t see #12\r\n") == "Broken build, see #12"


@pytest.mark.parametrize(("raw", "clean"), HOSTILE_REASONS.values(), ids=HOSTILE_REASONS)
def test_the_view_of_a_file_shows_a_raw_stored_reason_clean(raw: str, clean: str) -> None:
    """A manifest stored by an earlier release keeps the marker's text as it was."""
    entry: Entry = {
        "filename": "x-1.0.tar.gz",
        "key": "x/x-1.0.tar.gz",
        "version": "1.0",
        "size": 1,
        "etag": '"e"',
        "yanked": raw,
    }
    view = manifests.file_view(entry, lambda entry: entry["key"], manifests.HASHES)
    assert view["yanked"] == (clean or True)


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
