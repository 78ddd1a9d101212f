"""The safe Markdown subset: what it renders, and that nothing of the input
becomes a tag, an attribute or a link it does not allow."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_pypi import markdown

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code",
    "em", "strong", "del", "hr", "br", "a",
}  # fmt: skip


class Tags(HTMLParser):
    """Every start tag and its attributes, as a browser's parser reads them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    for tag, attrs in Tags(html).tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        allowed = {"href", "rel"} if tag == "a" else {"start"} if tag == "ol" else set()
        assert set(attrs) <= allowed, (tag, attrs)
        if tag == "a":
            href = attrs["href"] or ""
            assert markdown.safe_url(href) == href
            assert not re.match(r"(?i)\s*(javascript|data|vbscript|file):", href)


def test_the_common_constructs_render() -> None:
    html = markdown.render(
        "# Title\n\nSome *em*, **strong**, ~~gone~~ and `x < y`.\n\n"
        "- one\n- two\n  - nested\n\n1. first\n2. second\n\n> quoted\n\n"
        "```python\nprint('<hi>')\n```\n\n    indented\n\n---\n\n"
        "[docs](https://example.com/a?b=1&c=2) <https://example.com/auto> https://example.com/bare."
    )
    assert "<h2>Title</h2>" in html
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<del>gone</del>" in html and "<code>x &lt; y</code>" in html
    assert "<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<blockquote><p>quoted</p></blockquote>" in html
    assert "<pre><code>print(&#x27;&lt;hi&gt;&#x27;)</code></pre>" in html
    assert "<pre><code>indented</code></pre>" in html and "<hr>" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel=' in html
    assert '<a href="https://example.com/auto" rel=' in html
    assert '<a href="https://example.com/bare" rel=' in html and "bare</a>." in html
    assert_inert(html)


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox)",
    "[x](//evil.example/)",
    "[x](/\\evil.example/)",
    "[x](https:evil)",
    "![x](https://evil.example/beacon.png)",
    '[x](https://ok.example/ "t" onmouseover=alert(1))',
    '[a](https://ok.example/"onmouseover="alert(1))',
    "<style>body{display:none}</style>",
    '<div style="position:fixed;inset:0">overlay</div>',
    "<iframe src=https://evil.example></iframe>",
    "<svg/onload=alert(1)>",
    "**<b onclick=alert(1)>x</b>**",
    "`</code><script>alert(1)</script>`",
    "[<img src=x onerror=alert(1)>](https://ok.example/)",
    '<https://ok.example/"onmouseover=alert(1)>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\x00<script>\x00",
    "> " * 500 + "deep",
    "- " * 500 + "deep",
    "[" * 5000 + "x" + "](https://a)" * 10,
    "*" * 10000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_renders_inert(text: str) -> None:
    html = markdown.render(text)
    assert_inert(html)
    assert "<script" not in html and "<img" not in html and "<style" not in html
    assert " on" not in "".join(f" {name}" for _, attrs in Tags(html).tags for name in attrs)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/x", True),
        ("http://example.com", True),
        ("HTTPS://EXAMPLE.COM", True),
        ("relative/page", True),
        ("/absolute", True),
        ("#fragment", True),
        ("?q=1", True),
        ("https://", False),
        ("https:example.com", False),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("data:text/html,x", False),
        ("mailto:a@b.c", False),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("java\nscript:x", False),
        ("a:b/c", False),
        ("", False),
    ],
)
def test_only_http_and_relative_urls_are_links(url: str, safe: bool) -> None:
    assert (markdown.safe_url(url) is not None) is safe


def test_plain_text_is_escaped_in_a_pre_block() -> None:
    assert markdown.plain("a <b> & c") == '<pre class="plain">a &lt;b&gt; &amp; c</pre>'


def test_input_is_bounded() -> None:
    html = markdown.render("x" * (markdown.MAX_INPUT + 1000))
    assert html.count("x") == markdown.MAX_INPUT


_PIECES = st.sampled_from(
    [
        "<", ">", "&", '"', "'", "`", "*", "_", "~~", "[", "]", "(", ")", "!", "\\", "#", "-",
        "1.", ">", " ", "\n", "\n\n", "    ", "```", "javascript:", "data:", "http://", "//",
        "https://a.example/", "on", "=", "script", "style", "img", "src", "alert(1)", "x",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_any_mix_of_markup_renders_inert(text: str) -> None:
    assert_inert(markdown.render(text))
