"""Headless Chromium for the tests and the screenshots: Debian's ``chromium``
package driven by Playwright, which never downloads a browser of its own
(``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD``; ``make browser`` installs the package)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str:
    """The system's Chromium; AssertionError naming the fix when there is none."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("no chromium on PATH: run `make browser` (apt-get install chromium)")


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # As root (CI), Chromium's sandbox cannot start: the pages are this index's own.
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"], headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
