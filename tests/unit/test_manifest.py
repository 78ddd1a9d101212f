"""The manifest contract: what a yank reason may hold, and the view both pages draw from."""

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
