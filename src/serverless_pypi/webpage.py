"""The pages for people (``/ui/`` and ``/ui/<project>/``), as pure functions.

Every value on these pages came from an uploaded file or a bucket writer: a
name, a summary, a yank reason, a URL, a long description. Every one is escaped
where it is written (``_e``), links are kept only when ``markdown.safe_url``
allows them, and the long description goes through ``markdown.render``, which
emits its own small set of tags and nothing of the input's. The pages carry no
inline script or style: the stylesheet and the search script are served from
this module's constants at ``/ui/style.css`` and ``/ui/search.js``, and the
Content-Security-Policy (``SECURITY_HEADERS``) allows nothing else. Nothing is
loaded from anywhere else (no font, no CDN): the index may run where nothing
else is reachable.

Links are relative, so the pages work under any stage or custom domain base path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from itertools import groupby
from urllib.parse import quote

from . import markdown
from .catalog import Card
from .details import Details, is_markdown, newest, valid
from .manifest import Entry, Manifest, offered, project_status, yank_reason
from .names import is_prerelease, version_key

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
MAX_QUERY = 200  # characters of a search the server filters by


def _e(value: object) -> str:
    """Any value as HTML text or attribute value: everything escaped, quotes included."""
    return escape(str(value), quote=True)


def _page(title: str, root: str, body: str) -> str:
    """A whole page: ``root`` is the relative path to ``/ui/`` from the page."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}style.css">\n'
        f'<script src="{root}search.js" defer></script>\n'
        "</head>\n<body>\n"
        '<a class="skip" href="#main">Skip to content</a>\n'
        f'<header class="bar"><a class="brand" href="{root or "./"}">Package index</a></header>\n'
        f'<main id="main">\n{body}</main>\n'
        "</body>\n</html>\n"
    )


def _when(stamp: str | None) -> str:
    """An upload time (PEP 700's form) as ``yyyy-mm-dd hh:mm`` in a ``time`` element."""
    if not stamp:
        return ""
    shown = stamp[:16].replace("T", " ")
    return f'<time datetime="{_e(stamp)}">{_e(shown)}</time>'


def _size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def matches(card: Card, terms: Sequence[str]) -> bool:
    """Whether every search term is in the project's name or summary (case-folded):
    the rule the search script applies as one types, and the server without it."""
    text = f"{card['name']} {card.get('summary', '')}".casefold()
    return all(term in text for term in terms)


def search_terms(query: str) -> list[str]:
    return query[:MAX_QUERY].casefold().split()


def install_lines(index_url: str, project: str) -> tuple[str, str]:
    """The ``pip install`` and ``uv add`` lines of a project from this index."""
    return (
        f"pip install --index-url {index_url} {project}",
        f"uv add --index {index_url} {project}",
    )


def project_list(cards: Iterable[Card], index_url: str, query: str = "") -> str:
    """The page of every project: a table the search box filters as one types (the
    search script), and the server by ``?q=`` when scripts do not run."""
    terms = search_terms(query)
    rows = []
    total = 0
    for card in cards:
        total += 1
        if terms and not matches(card, terms):
            continue
        name, summary = card["name"], card.get("summary", "")
        haystack = f"{name} {summary}".casefold()
        rows.append(
            f'<tr data-search="{_e(haystack)}">'
            f'<td class="name"><a href="{quote(name)}/">{_e(name)}</a></td>'
            f'<td class="version">{_e(card["version"])}</td>'
            f'<td class="summary">{_e(summary)}</td>'
            f'<td class="when">{_when(card.get("uploaded"))}</td></tr>\n'
        )
    shown = f"{len(rows)} of {total}" if terms else f"{total}"
    noun = "project" if total == 1 else "projects"
    body = (
        '<div class="title"><h1>Projects</h1>'
        f'<p class="lead">{shown} {noun} in this index.</p></div>\n'
        '<form class="search" role="search" method="get" action="./">'
        '<label for="q">Search projects</label>'
        f'<input id="q" name="q" type="search" value="{_e(query[:MAX_QUERY])}" '
        'placeholder="Filter by name or summary" autocomplete="off" spellcheck="false">'
        '<button type="submit">Search</button></form>\n'
        f'<p id="count" class="count" aria-live="polite" data-total="{total}"></p>\n'
        f'<p class="hint">Install from this index: <code>{_e(install_lines(index_url, "NAME")[0])}'
        "</code></p>\n"
    )
    if not total:
        body += '<p class="empty">No project has files in this index yet.</p>\n'
    else:
        body += (
            '<div class="table-wrap"><table class="projects">\n'
            '<thead><tr><th scope="col">Project</th><th scope="col">Latest</th>'
            '<th scope="col">Summary</th><th scope="col">Last upload</th></tr></thead>\n'
            f"<tbody>\n{''.join(rows)}</tbody></table></div>\n"
            '<p id="none" class="empty" hidden>No project matches.</p>\n'
        )
    return _page("Projects", "", body)


def _status(manifest: Manifest) -> str:
    status = project_status(manifest.get("status"))
    if status is None:
        return ""
    what = {
        "archived": "This project is archived: it takes no new uploads; its files stay.",
        "deprecated": "This project is deprecated.",
        "quarantined": "This project is quarantined: none of its files is offered.",
    }.get(status["status"], f"Status: {status['status']}")
    reason = f' <span class="reason">{_e(status["reason"])}</span>' if "reason" in status else ""
    return (
        f'<div class="status status-{_e(status["status"])}" role="note">'
        f"<strong>{_e(what)}</strong>{reason}</div>\n"
    )


def _link(url: str, text: str) -> str:
    target = markdown.safe_url(url)
    if target is None:
        return _e(text) + (f' <span class="muted">({_e(url)})</span>' if url != text else "")
    return f'<a href="{_e(target)}" rel="nofollow noopener noreferrer ugc">{_e(text)}</a>'


def _facts(details: Details | None, latest: Entry | None) -> str:
    rows: list[tuple[str, str]] = []
    if latest is not None:
        rows.append(("Latest version", _e(latest["version"])))
        if latest.get("requires-python"):
            rows.append(("Requires Python", f"<code>{_e(latest['requires-python'])}</code>"))
    if details is not None:
        if details.get("license"):
            rows.append(("License", _e(details["license"])))
        if details.get("author"):
            rows.append(("Author", _e(details["author"])))
    out = ['<dl class="facts">']
    out += [f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows]
    out.append("</dl>")
    if details is not None and details.get("urls"):
        items = "".join(f"<li>{_link(url, label)}</li>" for label, url in details["urls"])
        out.append(f'<h2>Project links</h2><ul class="links">{items}</ul>')
    if details is not None and details.get("requires-dist"):
        items = "".join(f"<li><code>{_e(item)}</code></li>" for item in details["requires-dist"])
        out.append(f'<h2>Dependencies</h2><ul class="plain-list">{items}</ul>')
    if details is not None and details.get("classifiers"):
        items = "".join(f"<li>{_e(item)}</li>" for item in details["classifiers"])
        out.append(f'<h2>Classifiers</h2><ul class="plain-list small">{items}</ul>')
    return "".join(out)


def _description(details: Details | None) -> str:
    if details is None or not details.get("description"):
        return '<p class="muted">This project has no description.</p>'
    text = details["description"]
    return markdown.render(text) if is_markdown(details) else markdown.plain(text)


def _file_row(entry: Entry, file_href: str) -> str:
    yanked = entry.get("yanked")
    reason = ""
    if yanked:
        text = yank_reason(yanked) if isinstance(yanked, str) else ""
        reason = '<span class="badge yanked">yanked</span>' + (
            f' <span class="reason">{_e(text)}</span>' if text else ""
        )
    uploader = entry.get("uploaded-by")
    by = _e(uploader) if isinstance(uploader, str) and uploader not in ("", "-") else ""
    digest = entry.get("sha256", "")
    return (
        "<tr>"
        f'<td class="file"><a href="{_e(file_href)}">{_e(entry["filename"])}</a>'
        f"{(' ' + reason) if reason else ''}</td>"
        f'<td class="size">{_size(entry["size"])}</td>'
        f'<td class="when">{_when(entry.get("upload-time"))}</td>'
        f'<td class="by">{by}</td>'
        f'<td class="python">{_e(entry.get("requires-python", ""))}</td>'
        f'<td class="hash"><code>{_e(digest)}</code></td>'
        "</tr>\n"
    )


def _versions(files: Sequence[Entry], project: str) -> str:
    if not files:
        return '<p class="muted">No file is offered.</p>'
    ordered = sorted(files, key=lambda entry: (version_key(entry["version"]), entry["filename"]))
    ordered.reverse()
    # One table, one body per version: a project of 10,000 files has one header,
    # not one table per version.
    out = [
        '<div class="table-wrap"><table class="files"><thead><tr>'
        '<th scope="col">File</th><th scope="col">Size</th><th scope="col">Uploaded</th>'
        '<th scope="col">By</th><th scope="col">Requires Python</th>'
        '<th scope="col">SHA-256</th></tr></thead>\n'
    ]
    for version, group in groupby(ordered, key=lambda e: e["version"]):
        entries = list(group)
        badges = ""
        if is_prerelease(version):
            badges += ' <span class="badge pre">pre-release</span>'
        if all(entry.get("yanked") for entry in entries):
            badges += ' <span class="badge yanked">yanked</span>'
        rows = "".join(_file_row(entry, f"files/{quote(entry['filename'])}") for entry in entries)
        out.append(
            '<tbody class="version"><tr class="vrow"><th scope="rowgroup" colspan="6">'
            f'<span class="v">{_e(version)}</span>{badges}</th></tr>\n{rows}</tbody>\n'
        )
    out.append("</table></div>\n")
    return "".join(out)


def project_page(manifest: Manifest, index_url: str) -> str:
    """The page of one project: its status, install lines, details, description,
    and every offered file by version, newest first."""
    name = manifest["name"]
    details = valid(manifest.get("details"))
    files = offered(manifest)
    latest = newest(files)
    summary = details.get("summary", "") if details else ""
    pip_line, uv_line = install_lines(index_url, name)
    body = (
        f'<nav class="crumbs"><a href="../">Projects</a> / <span>{_e(name)}</span></nav>\n'
        f'<div class="title"><h1>{_e(name)}</h1>'
        + (f'<p class="lead">{_e(summary)}</p>' if summary else "")
        + "</div>\n"
        + _status(manifest)
        + '<section class="install" aria-label="Install">'
        f'<pre class="copy" tabindex="0"><code>{_e(pip_line)}</code></pre>'
        f'<pre class="copy" tabindex="0"><code>{_e(uv_line)}</code></pre></section>\n'
        '<div class="columns">\n'
        f'<article class="description">{_description(details)}</article>\n'
        f'<aside class="side">{_facts(details, latest)}</aside>\n'
        "</div>\n"
        f'<section class="versions"><h2>Versions</h2>\n{_versions(files, name)}</section>\n'
    )
    return _page(name, "../", body)


def cards_page(cards: Mapping[str, Card], index_url: str, query: str = "") -> str:
    """``project_list`` of a catalog's cards (by name), in name order."""
    return project_list((cards[name] for name in sorted(cards)), index_url, query)


STYLE = """\
:root{color-scheme:light dark;--bg:#f7f7f8;--fg:#1c1e21;--muted:#5f6670;--card:#fff;
--line:#dfe1e5;--accent:#1f5fbf;--accent-fg:#fff;--code:#eef0f3;--warn:#8a5a00;--warn-bg:#fff4d6;
--bad:#a4262c;--bad-bg:#fde7e9;--pre:#5b3cc4;--pre-bg:#ece7fd}
@media (prefers-color-scheme:dark){:root{--bg:#111316;--fg:#e4e6ea;--muted:#9aa1ab;--card:#1a1d21;
--line:#2c3036;--accent:#7fb0ff;--accent-fg:#0b1220;--code:#23272d;--warn:#f3c969;--warn-bg:#3a2e10;
--bad:#ff9aa0;--bad-bg:#3d1a1d;--pre:#c4b5ff;--pre-bg:#2a2342}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Ubuntu,Cantarell,sans-serif}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,summary:focus-visible,pre:focus-visible{
outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--card);padding:6px}
.bar{background:var(--card);border-bottom:1px solid var(--line);padding:12px 24px}
.brand{font-weight:700;text-decoration:none;color:var(--fg);letter-spacing:.2px}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:1.8rem;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.4em 0 .5em}
.lead{color:var(--muted);margin:0 0 16px;overflow-wrap:anywhere}
.crumbs{color:var(--muted);margin-bottom:12px;overflow-wrap:anywhere}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;
font-size:.9em}
code{background:var(--code);padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
pre{background:var(--code);padding:12px;border-radius:6px;overflow:auto}
pre code{background:none;padding:0}
.search{display:flex;gap:8px;flex-wrap:wrap;align-items:center;margin:8px 0}
.search label{width:100%;font-weight:600}
.search input{flex:1 1 280px;font:inherit;padding:9px 12px;border:1px solid var(--line);
border-radius:6px;background:var(--card);color:var(--fg)}
.search button{font:inherit;padding:9px 16px;border-radius:6px;border:0;background:var(--accent);
color:var(--accent-fg);cursor:pointer}
.js .search button{display:none}
.count,.hint,.muted{color:var(--muted)}
.table-wrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid var(--line);vertical-align:top}
tbody tr:last-child td{border-bottom:0}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
td.name{font-weight:600;overflow-wrap:anywhere}
td.summary{overflow-wrap:anywhere}
td.when,td.size,td.version{white-space:nowrap}
td.hash code{font-size:.75em;word-break:break-all}
td.file{overflow-wrap:anywhere;min-width:14em}
.install{display:grid;gap:8px;margin:16px 0}
.install pre{margin:0;user-select:all;cursor:text;border:1px solid var(--line)}
.columns{display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:24px;margin-top:8px}
@media (max-width:800px){.columns{grid-template-columns:1fr}main{padding:16px}
th,td{padding:6px 8px}}
.description{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 20px;
overflow-wrap:anywhere;min-width:0;overflow:hidden;position:relative}
.description img{display:none}
.side h2{font-size:.95rem}
.facts{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}
.facts dt{color:var(--muted)}.facts dd{margin:0;overflow-wrap:anywhere}
.links,.plain-list{padding-left:18px;margin:0;overflow-wrap:anywhere}
.small{font-size:.85em}
tr.vrow th{font-size:1rem;text-transform:none;letter-spacing:0;color:var(--fg);
background:var(--code);padding:8px 12px}
.badge{display:inline-block;font-size:.72rem;font-weight:600;padding:1px 7px;border-radius:999px;
vertical-align:middle}
.badge.pre{color:var(--pre);background:var(--pre-bg)}
.badge.yanked{color:var(--bad);background:var(--bad-bg)}
.reason{color:var(--muted);font-size:.9em;overflow-wrap:anywhere}
.status{border-radius:8px;padding:10px 14px;margin:12px 0;background:var(--warn-bg);
color:var(--warn);overflow-wrap:anywhere}
.status-quarantined{background:var(--bad-bg);color:var(--bad)}
.empty{padding:16px 0;color:var(--muted)}
[hidden]{display:none!important}
"""

SEARCH_SCRIPT = """\
"use strict";
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  var input = document.getElementById("q");
  var table = document.querySelector("table.projects tbody");
  var count = document.getElementById("count");
  var none = document.getElementById("none");
  if (!input || !table) { return; }
  var rows = Array.prototype.slice.call(table.rows);
  var texts = rows.map(function (row) { return row.getAttribute("data-search") || ""; });
  var pending = 0;
  function apply() {
    pending = 0;
    var terms = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var ok = true;
      for (var j = 0; j < terms.length && ok; j++) { ok = texts[i].indexOf(terms[j]) !== -1; }
      if (rows[i].hidden === ok) { rows[i].hidden = !ok; }
      if (ok) { shown++; }
    }
    count.textContent = terms.length ? shown + " of " + rows.length + " projects match" : "";
    if (none) { none.hidden = shown !== 0; }
  }
  input.addEventListener("input", function () {
    if (!pending) { pending = window.requestAnimationFrame(apply); }
  });
  input.form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  if (input.value) { apply(); }
});
"""
