"""The pages for people as pure functions: what they show, and that no value of
an upload becomes markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, cast

from serverless_pypi import manifest as manifests
from serverless_pypi import webpage
from serverless_pypi.catalog import Card

INDEX = "https://pypi.example.com/simple/"
XSS = '"><script>alert(1)</script><img src=x onerror=alert(1) style="position:fixed">'
PAGE_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "a", "header", "main",
    "div", "h1", "h2", "p", "form", "label", "input", "button", "table", "thead", "tbody",
    "tr", "th", "td", "time", "nav", "span", "section", "pre", "code", "article", "aside",
    "dl", "dt", "dd", "ul", "ol", "li", "details", "summary", "strong", "em", "del",
    "blockquote", "hr", "br", "h3", "h4", "h5", "h6",
}  # fmt: skip


class Page(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(html: str) -> Page:
    page = Page(html)
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert len(scripts) == 1 and scripts[0]["src"] in ("search.js", "../search.js")
    for tag, attrs in page.tags:
        assert tag in PAGE_TAGS, tag
        assert "style" not in attrs and not any(name.startswith("on") for name in attrs)
        if tag == "a":
            href = attrs["href"] or ""
            assert href.startswith(("https://", "http://", "../", "files/", "#", "./")) or (
                href.endswith("/") and ":" not in href
            ), href
    return page


def entry(filename: str, version: str, **extra: Any) -> manifests.Entry:
    found: dict[str, Any] = {
        "filename": filename, "key": f"acme/{filename}", "version": version, "size": 123456,
        "etag": '"e"', "sha256": "ab" * 32, "upload-time": "2026-01-02T03:04:05.000000Z",
        **extra,
    }  # fmt: skip
    return cast(manifests.Entry, found)


def hostile_manifest() -> manifests.Manifest:
    manifest = manifests.new(
        "acme",
        ["acme"],
        [
            entry("acme-1.0-py3-none-any.whl", "1.0", **{"uploaded-by": XSS}),
            entry("acme-2.0rc1-py3-none-any.whl", "2.0rc1", **{"requires-python": ">=3.9"}),
            entry("acme-1.1.tar.gz", "1.1", yanked=XSS),
        ],
        status={"status": "deprecated", "reason": XSS},
    )
    manifest["details"] = {
        "from": "acme-1.0-py3-none-any.whl",
        "version": "1.0",
        "summary": XSS,
        "license": XSS,
        "author": XSS,
        "urls": [[XSS, "javascript:alert(1)"], ["Docs", "https://docs.example/"], ["x", XSS]],
        "classifiers": [XSS],
        "requires-dist": [XSS],
        "description": f"# {XSS}\n\n[click](javascript:alert(1)) <style>*{{}}</style> {XSS}",
        "description-type": "text/markdown",
    }
    return manifest


def test_the_project_page_shows_everything_and_runs_nothing() -> None:
    html = webpage.project_page(hostile_manifest(), INDEX)
    page = assert_inert(html)
    text = "".join(page.text)
    assert text.count(XSS) >= 8  # shown as text wherever it was given
    assert "pip install --index-url https://pypi.example.com/simple/ acme" in text
    assert "uv add --index https://pypi.example.com/simple/ acme" in text
    assert "This project is deprecated." in text
    assert "pre-release" in text and "yanked" in text
    assert "123.5 kB" in text and "ab" * 32 in text and ">=3.9" in text
    # Versions newest first, the latest final release in the facts.
    assert re.findall(r'<span class="v">([^<]*)</span>', html) == ["2.0rc1", "1.1", "1.0"]
    links = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert "files/acme-1.0-py3-none-any.whl" in links
    assert "https://docs.example/" in links
    assert not any("javascript" in (href or "") for href in links)


def test_a_project_without_details_says_so() -> None:
    manifest = manifests.new("acme", ["acme"], [entry("acme-1.0.tar.gz", "1.0")])
    html = webpage.project_page(manifest, INDEX)
    assert "This project has no description." in html
    assert_inert(html)


def test_a_plain_text_description_is_preformatted() -> None:
    manifest = manifests.new("acme", ["acme"], [entry("acme-1.0.tar.gz", "1.0")])
    manifest["details"] = {"from": "f", "version": "1.0", "description": "*not* markdown"}
    assert '<pre class="plain">*not* markdown</pre>' in webpage.project_page(manifest, INDEX)


def cards() -> list[Card]:
    return [
        {"name": "acme-auth", "version": "2.0", "summary": "Auth helpers"},
        {"name": "beta", "version": "0.1", "summary": XSS, "uploaded": XSS},
        {"name": "gamma", "version": "1.0"},
    ]


def test_the_list_shows_every_project_and_filters_by_name_and_summary() -> None:
    page = assert_inert(webpage.project_list(cards(), INDEX))
    rows = [attrs for tag, attrs in page.tags if tag == "tr" and "data-search" in attrs]
    assert rows[0]["data-search"] == "acme-auth auth helpers"
    assert len(rows) == 3 and "3 projects in this index." in "".join(page.text)
    found = Page(webpage.project_list(cards(), INDEX, "HELPERS auth"))
    shown = [attrs for tag, attrs in found.tags if tag == "tr" and "data-search" in attrs]
    assert len(shown) == 1 and "1 of 3 projects" in "".join(found.text)
    searched = Page(webpage.project_list(cards(), INDEX, XSS))
    inputs = [attrs for tag, attrs in searched.tags if tag == "input"]
    assert inputs[0]["value"] == XSS  # the query is shown back as a value, escaped


def test_an_empty_index_says_so() -> None:
    assert "No project has files in this index yet." in webpage.project_list([], INDEX)


def test_the_security_headers_forbid_inline_script_and_framing() -> None:
    policy = webpage.SECURITY_HEADERS["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert webpage.SECURITY_HEADERS["Referrer-Policy"] == "no-referrer"
