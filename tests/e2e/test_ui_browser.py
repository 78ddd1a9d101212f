"""The pages for people in a real browser (headless Chromium, driven by
Playwright) against `serverless-pypi serve --auth`: the login prompt, search,
a project's page, a file link; and a hostile wheel that renders inert."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Request, expect

from tests.browser import chromium
from tests.builders import wheel_bytes, write
from tests.clients import open_url, serve

ACME = """Metadata-Version: 2.4
Name: acme-auth
Version: {version}
Summary: Authentication helpers for ACME services
License-Expression: MIT
Author: ACME Platform Team
Project-URL: Source, https://git.example.com/acme-auth
Requires-Python: >=3.10
Requires-Dist: requests>=2.31
Description-Content-Type: text/markdown

# acme-auth

**Authentication helpers** with `requests` adapters.
"""

# Markup in every field an uploader controls, each trying to run a script, load
# something, or cover the page.
PAYLOAD = (
    '"><script>window.__pwned=1;alert(1)</script>'
    '<img src="http://evil.invalid/x.png" onerror="window.__pwned=2;alert(2)">'
    '<div style="position:fixed;inset:0;background:red;z-index:9999">covered</div>'
)
HOSTILE = f"""Metadata-Version: 2.4
Name: evil-pkg
Version: 6.6.6
Summary: evil summary {PAYLOAD}
License: <style>body{{display:none}}</style>{PAYLOAD}
Author: <b onmouseover="alert(3)">author</b>{PAYLOAD}
Maintainer: {PAYLOAD}
Project-URL: {PAYLOAD}, javascript:alert(4)
Project-URL: data, data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==
Classifier: {PAYLOAD}
Requires-Dist: {PAYLOAD}
Description-Content-Type: text/markdown

# Title {PAYLOAD}

{PAYLOAD}

[click me](javascript:alert(6)) [data](data:text/html,<script>alert(7)</script>)
![beacon](http://evil.invalid/beacon.png)

<iframe src="http://evil.invalid/"></iframe><svg onload="alert(8)"></svg>
<link rel="stylesheet" href="http://evil.invalid/x.css">
<meta http-equiv="refresh" content="0;url=http://evil.invalid/">
"""


@dataclass
class Index:
    origin: str
    user: str
    token: str
    wheels: dict[str, bytes]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    dist = tmp_path_factory.mktemp("dist")
    wheels = {}
    for version in ("1.0.0", "1.1.0", "2.0.0rc1"):
        name, data = wheel_bytes("acme-auth", version, metadata=ACME.format(version=version))
        write(dist, (name, data))
        wheels[name] = data
    write(dist, wheel_bytes("billing-client", "0.4.2", summary="Invoices and payments"))
    write(dist, wheel_bytes("evil-pkg", "6.6.6", metadata=HOSTILE))
    with serve("--auth", "--dist", str(dist)) as served:
        found = re.search(
            r"--index-url http://(\w+):(\S+)@(127\.0\.0\.1:\d+)/simple/", served.output
        )
        assert found, served.output
        assert f"browse: http://{found[3]}/ui/" in served.output
        yield Index(f"http://{found[3]}", found[1], found[2], wheels)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


def test_without_a_login_the_pages_ask_for_one(index: Index) -> None:
    answer = open_url(index.origin + "/ui/")
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith('Basic realm="')


def test_log_in_search_open_a_project_and_download_a_file(index: Index, browser: Browser) -> None:
    context = browser.new_context(
        http_credentials={"username": index.user, "password": index.token}
    )
    page = context.new_page()
    answer = page.goto(index.origin + "/ui/")
    assert answer is not None and answer.status == 200
    rows = page.locator("table.projects tbody tr")
    assert rows.count() == 3
    # Search as one types: the list narrows without a request. (Waiting with
    # expect, not wait_for_function: a string predicate is polled with eval, which
    # the pages' CSP refuses, as it should.)
    page.locator("#q").press_sequentially("invoice")
    expect(page.locator("tbody tr:not([hidden])")).to_have_count(1)
    assert page.locator("tbody tr:not([hidden]) td.name").inner_text() == "billing-client"
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("acme")
    expect(page.locator("tbody tr:not([hidden])")).to_have_count(1)
    page.get_by_role("link", name="acme-auth", exact=True).click()
    page.wait_for_url(index.origin + "/ui/acme-auth/")
    assert page.locator("h1").inner_text() == "acme-auth"
    assert page.locator(".lead").inner_text() == "Authentication helpers for ACME services"
    text = page.locator("main").inner_text()
    assert f"pip install --index-url {index.origin}/simple/ acme-auth" in text
    assert "pre-release" in text and "MIT" in text and "requests>=2.31" in text
    # The latest final release in the facts, the versions newest first.
    versions = page.locator("tr.vrow .v").all_inner_texts()
    assert versions == ["2.0.0rc1", "1.1.0", "1.0.0"]
    assert page.locator(".facts dd").first.inner_text() == "1.1.0"
    # Follow a file link: the file itself, from S3.
    name = "acme_auth-1.1.0-py3-none-any.whl"
    with page.expect_download() as download:
        page.get_by_role("link", name=name, exact=True).click()
    saved = Path(download.value.path())
    assert (
        hashlib.sha256(saved.read_bytes()).hexdigest()
        == hashlib.sha256(index.wheels[name]).hexdigest()
    )
    context.close()


def test_a_wrong_login_is_refused(index: Index, browser: Browser) -> None:
    context = browser.new_context(
        http_credentials={"username": index.user, "password": "spypi_wrong"}
    )
    page = context.new_page()
    answer = page.goto(index.origin + "/ui/evil-pkg/")
    assert answer is not None and answer.status == 401
    assert "evil" not in page.content()
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_hostile_wheel_renders_inert(index: Index, browser: Browser, scheme: str) -> None:
    context = browser.new_context(
        http_credentials={"username": index.user, "password": index.token},
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    page = context.new_page()
    dialogs: list[str] = []
    requests: list[str] = []
    violations: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Request) -> None:
        requests.append(request.url)

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.on("console", lambda message: violations.append(message.text))
    page.goto(index.origin + "/ui/")
    page.locator("#q").press_sequentially("evil summary")
    expect(page.locator("tbody tr:not([hidden])")).to_have_count(1)
    page.get_by_role("link", name="evil-pkg", exact=True).click()
    page.wait_for_url(index.origin + "/ui/evil-pkg/")
    page.locator("h1").hover()
    for link in page.locator("main a").all():
        link.hover()
    page.wait_for_timeout(300)  # anything that was going to fire has fired
    main = page.locator("main").inner_text()
    assert "window.__pwned=1" in main  # the markup is shown as text
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.scripts.length") == 1  # the page's own search script
    assert (
        page.evaluate(
            "[...document.querySelectorAll('body *')].filter("
            "e => getComputedStyle(e).position === 'fixed').length"
        )
        == 0
    )
    assert (
        page.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => [...e.attributes]"
            ".some(a => a.name.startsWith('on') || a.name === 'style')).length"
        )
        == 0
    )
    hrefs = page.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    assert not [href for href in hrefs if re.match(r"(?i)\s*(javascript|data):", href)]
    assert page.locator("body").is_visible()
    assert dialogs == []
    assert [url for url in requests if not url.startswith(index.origin + "/")] == []
    context.close()
