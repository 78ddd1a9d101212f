"""A safe subset of Markdown, rendered to HTML that can carry nothing active.

A project's long description is an uploader's text, shown in the index's own
pages to whoever is logged in: it must not run a script, load anything, or
dress itself up as the page around it. So this renderer does not sanitise HTML
after the fact; it never lets any through. Every character of the input is
escaped, and only the tags this module writes itself come out:

    p h2 h3 h4 h5 h6 ul ol li blockquote pre code em strong del hr br a

with no attribute but a link's ``href`` (``http:``, ``https:``, or a relative
URL; anything else, ``javascript:`` and ``data:`` among them, is shown as text)
and a fixed ``rel``. Raw HTML in the text is shown as text; images are shown as
links (a page of the index loads nothing from elsewhere). Headings start at
``h2``: the page's own title is the one ``h1``.

What is understood: ATX and setext headings, paragraphs, emphasis (``*``, ``_``,
``**``, ``__``), strikethrough (``~~``), code spans, fenced and indented code
blocks, block quotes, bulleted and numbered lists (nested by indentation),
thematic breaks, links, autolinks (``<https://...>`` and bare ``https://...``),
backslash escapes and hard line breaks. Input is bounded (MAX_INPUT characters,
MAX_DEPTH levels of nesting), so rendering costs time linear in its size.
"""

from __future__ import annotations

import re
from html import escape

__all__ = ["MAX_DEPTH", "MAX_INPUT", "plain", "render", "safe_url"]

MAX_INPUT = 256 * 1024  # characters rendered; the rest is cut
MAX_DEPTH = 8  # nested quotes and lists; deeper ones are shown flat

_REL = "nofollow noopener noreferrer ugc"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_QUOTE = re.compile(r"^ {0,3}> ?")
_ITEM = re.compile(r"^( {0,3})([-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_INDENTED = re.compile(r"^(?: {4}|\t)")

# Inline: the first of these that matches at a position wins. Every span is
# bounded, so that text full of openers without closers costs time linear in its
# length (an unbounded lazy span would scan to the end from each of them).
_INLINE = re.compile(
    r"(?P<escape>\\[!-/:-@\[-`{-~])"
    r"|(?P<code>(?P<ticks>`{1,16})(?P<codetext>.{1,2000}?)(?P=ticks))"
    r"|(?P<autolink><(?P<autourl>https?://[^\s<>]{1,2048})>)"
    r"|(?P<image>!\[(?P<alt>[^\[\]]{0,300})\]\((?P<imgurl>[^()\s]{0,2048})(?:\s+\"[^\"]{0,300}\")?\))"
    r"|(?P<link>\[(?P<text>(?:[^\[\]]|\[[^\[\]]{0,300}\]){0,300})\]\((?P<url>[^()\s]{0,2048}(?:\([^()\s]{0,300}\)[^()\s]{0,300}){0,4})(?:\s+\"(?P<title>[^\"]{0,300})\")?\))"
    r"|(?P<strong>(?P<sdelim>\*\*|__)(?=\S)(?P<stext>.{1,300}?)(?<=\S)(?P=sdelim))"
    r"|(?P<em>(?P<edelim>[*_])(?=\S)(?P<etext>.{1,300}?)(?<=\S)(?P=edelim))"
    r"|(?P<del>~~(?=\S)(?P<dtext>.{1,300}?)(?<=\S)~~)"
    r"|(?P<bare>https?://[^\s<>\"'`]{0,2048}[^\s<>\"'`.,;:!?)\]])"
    r"|(?P<break> {2,}\n|\\\n)",
    re.DOTALL,
)


def safe_url(url: str) -> str | None:
    """``url`` if a link may point there: an ``http(s)`` URL with a host, or a relative
    one (a path, a query or a fragment of this site); None for anything else.

    Whatever a browser would strip or fold before reading the scheme (whitespace,
    control characters, a backslash that it reads as a slash) makes the URL unsafe
    rather than being cleaned away, so ``java\\tscript:`` never becomes
    ``javascript:``. Entities are not decoded: the page escapes ``&``, so a
    browser sees ``&colon;`` as those characters."""
    if not url or len(url) > 2048 or "\\" in url:
        return None
    if any(char.isspace() or not char.isprintable() for char in url):
        return None
    scheme = _SCHEME.match(url)
    if scheme is not None:
        name = scheme.group(0)[:-1].lower()
        if name not in ("http", "https") or not url[len(name) + 1 :].startswith("//"):
            return None
        return url if len(url) > len(name) + 3 else None
    if url.startswith("//"):
        return None  # another host, without saying how to reach it
    first = re.split(r"[/?#]", url, maxsplit=1)[0]
    return None if ":" in first else url


def _anchor(url: str, inner: str, fallback: str) -> str:
    target = safe_url(url)
    if target is None:
        return fallback
    return f'<a href="{escape(target)}" rel="{_REL}">{inner}</a>'


def _inline(text: str, depth: int = 0) -> str:
    """Inline Markdown to HTML: every character not part of a construct is escaped."""
    out: list[str] = []
    position = 0
    for found in _INLINE.finditer(text):
        out.append(escape(text[position : found.start()]))
        position = found.end()
        kind = found.lastgroup
        whole = found.group(0)
        deeper = depth + 1 < MAX_DEPTH
        if found.group("escape"):
            out.append(escape(whole[1]))
        elif found.group("code"):
            out.append(f"<code>{escape(found.group('codetext').strip())}</code>")
        elif found.group("autolink"):
            url = found.group("autourl")
            out.append(_anchor(url, escape(url), escape(whole)))
        elif found.group("image"):
            alt = found.group("alt") or found.group("imgurl")
            out.append(_anchor(found.group("imgurl"), escape(alt), escape(alt)))
        elif found.group("link"):
            inner = _inline(found.group("text"), depth + 1) if deeper else escape(found["text"])
            out.append(_anchor(found.group("url"), inner, inner))
        elif found.group("strong"):
            inner = _inline(found.group("stext"), depth + 1) if deeper else escape(found["stext"])
            out.append(f"<strong>{inner}</strong>")
        elif found.group("em"):
            inner = _inline(found.group("etext"), depth + 1) if deeper else escape(found["etext"])
            out.append(f"<em>{inner}</em>")
        elif found.group("del"):
            inner = _inline(found.group("dtext"), depth + 1) if deeper else escape(found["dtext"])
            out.append(f"<del>{inner}</del>")
        elif found.group("bare"):
            out.append(_anchor(whole, escape(whole), escape(whole)))
        elif kind is not None and found.group("break"):
            out.append("<br>\n")
    out.append(escape(text[position:]))
    return "".join(out)


def _dedent(line: str, width: int) -> str:
    """``line`` without up to ``width`` leading spaces."""
    stripped = len(line) - len(line.lstrip(" "))
    return line[min(stripped, width) :]


def _blocks(lines: list[str], depth: int) -> list[str]:
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            text = "\n".join(line.strip() for line in paragraph)
            out.append(f"<p>{_inline(text, depth)}</p>")
            paragraph.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            flush()
            index += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            flush()
            marker = fence.group(1)
            body: list[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(marker):
                body.append(lines[index])
                index += 1
            index += 1  # the closing fence (or the end)
            out.append(f"<pre><code>{escape(chr(10).join(body))}</code></pre>")
            continue
        if _INDENTED.match(line) and not paragraph:
            body = []
            while index < len(lines) and (
                _INDENTED.match(lines[index]) or not lines[index].strip()
            ):
                body.append(_dedent(lines[index].replace("\t", "    ", 1), 4))
                index += 1
            out.append(f"<pre><code>{escape(chr(10).join(body).rstrip())}</code></pre>")
            continue
        heading = _ATX.match(line)
        if heading:
            flush()
            level = min(len(heading.group(1)) + 1, 6)
            out.append(f"<h{level}>{_inline(heading.group(2) or '', depth)}</h{level}>")
            index += 1
            continue
        setext = _SETEXT.match(line)
        if setext and len(paragraph) == 1:
            level = 2 if setext.group(1)[0] == "=" else 3
            out.append(f"<h{level}>{_inline(paragraph[0].strip(), depth)}</h{level}>")
            paragraph.clear()
            index += 1
            continue
        if _RULE.match(line):
            flush()
            out.append("<hr>")
            index += 1
            continue
        if _QUOTE.match(line):
            flush()
            quoted = []
            while index < len(lines) and lines[index].strip() and _QUOTE.match(lines[index]):
                quoted.append(_QUOTE.sub("", lines[index], count=1))
                index += 1
            inner = _blocks(quoted, depth + 1) if depth + 1 < MAX_DEPTH else _flat(quoted)
            out.append("<blockquote>" + "".join(inner) + "</blockquote>")
            continue
        item = _ITEM.match(line)
        if item and (not paragraph or item.group(2)[0] in "-*+" or item.group(2)[:-1] == "1"):
            flush()
            index = _list(lines, index, depth, out)
            continue
        paragraph.append(line)
        index += 1
    flush()
    return out


def _flat(lines: list[str]) -> list[str]:
    """Lines past the nesting limit: one paragraph of escaped text."""
    return [f"<p>{escape(chr(10).join(line.strip() for line in lines))}</p>"]


def _list(lines: list[str], index: int, depth: int, out: list[str]) -> int:
    """Render the list that starts at ``lines[index]``; the index after it."""
    first = _ITEM.match(lines[index])
    assert first is not None
    ordered = first.group(2)[-1] in ".)"
    items: list[list[str]] = []
    while index < len(lines):
        line = lines[index]
        item = _ITEM.match(line)
        if item and (item.group(2)[-1] in ".)") == ordered:
            width = item.end() if line[item.end() - 1 :].strip() else len(item.group(1)) + 2
            items.append([line[item.end() :]])
            index += 1
            # The item's other lines: indented ones, and blank lines followed by one.
            while index < len(lines):
                following = lines[index]
                if following.strip() and (len(following) - len(following.lstrip(" "))) >= 2:
                    items[-1].append(_dedent(following, width))
                elif not following.strip():
                    ahead = index + 1
                    if ahead < len(lines) and lines[ahead].startswith("  "):
                        items[-1].append("")
                    else:
                        break
                elif not _ITEM.match(following) and items[-1][-1].strip():
                    items[-1].append(following)  # a lazy continuation of the text
                else:
                    break
                index += 1
            continue
        if not line.strip() and index + 1 < len(lines) and _ITEM.match(lines[index + 1]):
            index += 1  # a blank line between two items
            continue
        break
    tag = "ol" if ordered else "ul"
    start = ""
    if ordered:
        number = int(first.group(2)[:-1])
        start = f' start="{number}"' if number != 1 else ""
    rendered = []
    for body in items:
        inner = _blocks(body, depth + 1) if depth + 1 < MAX_DEPTH else _flat(body)
        if len(inner) >= 1 and inner[0].startswith("<p>") and "" not in body:
            inner[0] = inner[0][3:-4]  # a tight item: its text without a paragraph
        rendered.append("<li>" + "".join(inner) + "</li>")
    out.append(f"<{tag}{start}>" + "".join(rendered) + f"</{tag}>")
    return index


def render(text: str) -> str:
    """Markdown ``text`` as HTML of the allowed tags only (see the module's docstring)."""
    text = text[:MAX_INPUT].replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    return "\n".join(_blocks(text.split("\n"), 0))


def plain(text: str) -> str:
    """Text shown as it is written: escaped, in a ``pre`` block."""
    return f'<pre class="plain">{escape(text[:MAX_INPUT])}</pre>'
