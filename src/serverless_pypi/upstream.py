"""The upstream index's project pages, as the proxy mode reads, keeps and filters them
(pure functions, no I/O but ``fetch``).

- ``parse``: a PEP 691 JSON or PEP 503 HTML page into a ``Page`` of checked files:
  a file whose name is not a distribution of the asked project, whose URL is not
  http(s), without a SHA-256, or with a field that is not what its PEP says, is
  left out (counted in ``Page.dropped``); a page that is not one at all, names
  another project, or is larger than MAX_PAGE raises UpstreamError.
- ``encode`` / ``decode``: the page as cached in the bucket
  (``layout.upstream_page_key``), with the upstream's ETag, when it was fetched
  and the last error; the api reads it with one GET.
- ``offer``: the files a page offers now, after the cooldown and the policy.
- ``render``: the offered files as this index's own pages (both formats), every
  link relative to the page, so that each download comes to this API.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, TypedDict, cast
from urllib.parse import quote, unquote, urljoin, urlsplit

from . import simple
from .manifest import SCHEMA as MANIFEST_SCHEMA
from .manifest import Entry, Manifest, Status, project_status, upload_time, yank_reason
from .names import is_valid_name, is_valid_version, normalize, parse_filename
from .upstreampolicy import Policy

SCHEMA = 1
MAX_PAGE = 64 * 1024 * 1024  # bytes of an upstream page read at most
MAX_FILES = 100_000
MAX_URL = 2048
MAX_REQUIRES_PYTHON = 200
# Seconds the upstream has for the whole page (connect, headers, body), well within the
# api's timeout (10 s by default): a slow upstream is an error, and the last page kept
# is served instead.
TIMEOUT = 4.0
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_REQUIRES = re.compile(r"[0-9A-Za-z.,*!=<>~ +_-]{1,200}", re.ASCII)
JSON_V1 = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_V1}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"


class UpstreamError(Exception):
    """The upstream did not answer with a usable page (down, slow, garbage)."""


class UpstreamFile(TypedDict, total=False):
    filename: str
    url: str
    sha256: str
    version: str
    size: int
    upload_time: str  # PEP 700 format, UTC
    requires_python: str
    core_metadata: str  # its sha256
    yanked: str | bool


@dataclass(frozen=True, slots=True)
class Page:
    """One project's page upstream, checked; ``files`` empty when it has none."""

    project: str
    files: tuple[UpstreamFile, ...] = ()
    status: Status | None = None
    format: str = "json"  # or "html": no upload times
    dropped: int = 0  # files left out as malformed or hostile
    missing: bool = False  # the upstream has no such project (404)


@dataclass(frozen=True, slots=True)
class Cached:
    """The page as kept in the bucket, with what the proxy needs to revalidate it."""

    page: Page
    fetched: float  # when it was last fetched or revalidated (epoch seconds)
    etag: str = ""  # the upstream's, for If-None-Match
    error: str = ""  # the last error, if the last attempt failed
    s3_etag: str = field(default="", compare=False)
    cooldown: int = 0  # the api's cooldown when it kept the page (what `status` applies)

    def fresh(self, now: float, ttl: int) -> bool:
        return 0 <= now - self.fetched < ttl


# -- parsing ------------------------------------------------------------------


def _file_url(base: str, raw: object) -> str | None:
    if not isinstance(raw, str) or not raw or len(raw) > MAX_URL:
        return None
    if not raw.isascii() or not raw.strip().isprintable() or " " in raw.strip():
        return None  # it goes into a Location header: printable ASCII, no space
    url = urljoin(base, raw.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts._replace(fragment="").geturl()


def _checked(
    project: str,
    base: str,
    filename: object,
    url: object,
    sha256: object,
    fields: dict[str, Any],
) -> UpstreamFile | None:
    """One file, or None when anything about it is wrong."""
    if not isinstance(filename, str):
        return None
    dist = parse_filename(filename, project)
    link = _file_url(base, url)
    if dist is None or link is None or not is_valid_version(dist.version):
        return None
    # The link's last segment must be the file: a page cannot call another file by this name.
    if unquote(urlsplit(link).path.rpartition("/")[2]) != filename:
        return None
    if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256.lower()):
        return None
    entry: UpstreamFile = {
        "filename": filename,
        "url": link,
        "sha256": sha256.lower(),
        "version": dist.version,
    }
    size = fields.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and 0 <= size < 2**50:
        entry["size"] = size
    when = _upload_time(fields.get("upload-time"))
    if when:
        entry["upload_time"] = when
    requires = fields.get("requires-python")
    if isinstance(requires, str) and requires.strip():
        if not _REQUIRES.fullmatch(requires.strip()):
            return None  # markup or garbage where a specifier belongs
        entry["requires_python"] = requires.strip()
    metadata = fields.get("core-metadata", fields.get("dist-info-metadata"))
    if isinstance(metadata, dict):
        digest = metadata.get("sha256")
        if isinstance(digest, str) and _HEX64.fullmatch(digest.lower()):
            entry["core_metadata"] = digest.lower()
    yanked = fields.get("yanked")
    if yanked is True or (isinstance(yanked, str) and yanked):
        entry["yanked"] = (yank_reason(yanked)[:200] or True) if isinstance(yanked, str) else True
    return entry


def _upload_time(raw: object) -> str | None:
    if not isinstance(raw, str) or not 10 <= len(raw) <= 40:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None  # PEP 700: UTC, with a Z; a local time is no time
    return upload_time(when)


def parse_json(project: str, base: str, body: bytes) -> Page:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise UpstreamError(f"the upstream page of {project} is not JSON: {error}") from None
    if not isinstance(value, dict) or not isinstance(value.get("files"), list):
        raise UpstreamError(f"the upstream page of {project} is not a PEP 691 project page")
    meta = value.get("meta")
    version = meta.get("api-version") if isinstance(meta, dict) else None
    if not isinstance(version, str) or not version.startswith("1."):
        raise UpstreamError(f"the upstream page of {project} has no api-version 1.x")
    name = value.get("name")
    if not isinstance(name, str) or not is_valid_name(name) or normalize(name) != project:
        raise UpstreamError(f"the upstream answered {project} with another project's page")
    files, dropped = [], 0
    for item in value["files"][:MAX_FILES]:
        entry = None
        if isinstance(item, dict):
            hashes = item.get("hashes")
            digest = hashes.get("sha256") if isinstance(hashes, dict) else None
            entry = _checked(project, base, item.get("filename"), item.get("url"), digest, item)
        if entry is None:
            dropped += 1
        else:
            files.append(entry)
    dropped += max(0, len(value["files"]) - MAX_FILES)
    status = project_status(value.get("project-status"))
    return Page(project, tuple(files), status, "json", dropped)


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str], list[str]]] = []
        self.meta: dict[str, str] = {}
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a":
            self._text = []
            self.anchors.append((values, self._text))
        elif tag == "meta" and "name" in values:
            self.meta[values["name"]] = values.get("content", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def parse_html(project: str, base: str, body: bytes) -> Page:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise UpstreamError(f"the upstream page of {project} is not UTF-8") from None
    parser = _Anchors()
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError) as error:  # a page is untrusted
        raise UpstreamError(f"the upstream page of {project} is not HTML: {error}") from None
    version = parser.meta.get("pypi:repository-version", "1.0")
    if not version.startswith("1."):
        raise UpstreamError(f"the upstream page of {project} is of repository-version {version}")
    files, dropped = [], 0
    for attrs, text_parts in parser.anchors[:MAX_FILES]:
        href = attrs.get("href", "")
        _, _, fragment = href.partition("#")
        digest = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        fields: dict[str, Any] = {}
        if "data-requires-python" in attrs:
            fields["requires-python"] = attrs["data-requires-python"]
        if "data-yanked" in attrs:
            fields["yanked"] = attrs["data-yanked"] or True
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata", ""))
        if metadata.startswith("sha256="):
            fields["core-metadata"] = {"sha256": metadata.removeprefix("sha256=")}
        filename = "".join(text_parts).strip()
        entry = _checked(project, base, filename, href, digest, fields)
        if entry is None:
            dropped += 1
        else:
            files.append(entry)
    status_name = parser.meta.get("pypi:project-status")
    status = None
    if status_name:
        reason = parser.meta.get("pypi:project-status-reason")
        raw = {"status": status_name, **({"reason": reason} if reason else {})}
        status = project_status(raw)
    return Page(project, tuple(files), status, "html", dropped)


def parse(project: str, base: str, content_type: str, body: bytes) -> Page:
    """The page of ``project`` fetched from ``base``, by its Content-Type."""
    media = content_type.partition(";")[0].strip().lower()
    if media == JSON_V1 or media == "application/json":
        return parse_json(project, base, body)
    if media in ("text/html", "application/vnd.pypi.simple.v1+html", ""):
        return parse_html(project, base, body)
    raise UpstreamError(f"the upstream answered {project} with {media!r}, not a simple page")


# -- fetching -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetched:
    page: Page
    etag: str


class Unchanged:
    """The upstream answered 304: the cached page still holds."""


UNCHANGED = Unchanged()
Fetch = Callable[[str, str], "Fetched | Unchanged"]


def _read_within(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """The body, at most MAX_PAGE + 1 bytes, read before ``deadline`` (a monotonic
    time): an upstream that drips its page out is as slow as one that never answers."""
    chunks, size = [], 0
    while size <= MAX_PAGE:
        if time.monotonic() > deadline:
            raise UpstreamError("the upstream was too slow")
        chunk = response.read1(min(1 << 20, MAX_PAGE + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def page_url(index_url: str, project: str) -> str:
    return f"{index_url}{quote(project)}/"


def fetch(
    index_url: str, project: str, etag: str = "", timeout: float = TIMEOUT
) -> Fetched | Unchanged:
    """One conditional GET of the project's page upstream, following at most three
    http(s) redirects. A 404 (or 410) is a missing project, not an error."""
    url = page_url(index_url, project)
    started = time.monotonic()
    for _ in range(4):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UpstreamError(f"the upstream redirected {project} to a non-http(s) URL")
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.netloc, timeout=max(0.1, started + timeout - time.monotonic()))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Accept": ACCEPT, "User-Agent": "serverless-pypi"}
        if etag:
            headers["If-None-Match"] = etag
        try:
            connection.request("GET", target or "/", headers=headers)
            response = connection.getresponse()
            status = response.status
            location = response.getheader("Location", "")
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if status == 304 and etag:
                return UNCHANGED
            if status in (404, 410):
                return Fetched(Page(project, missing=True), "")
            if status != 200:
                raise UpstreamError(f"the upstream answered {status} for {project}")
            length = response.getheader("Content-Length", "")
            if length.isdigit() and int(length) > MAX_PAGE:
                raise UpstreamError(f"the upstream page of {project} is over {MAX_PAGE} bytes")
            body = _read_within(response, started + timeout)
            if len(body) > MAX_PAGE:
                raise UpstreamError(f"the upstream page of {project} is over {MAX_PAGE} bytes")
            content_type = response.getheader("Content-Type", "")
            new_etag = response.getheader("ETag", "") or ""
        except (OSError, http.client.HTTPException) as error:
            raise UpstreamError(f"the upstream could not be read for {project}: {error}") from None
        finally:
            connection.close()
        if not new_etag.isascii() or not new_etag.isprintable() or len(new_etag) > 256:
            new_etag = ""
        return Fetched(parse(project, url, content_type, body), new_etag)
    raise UpstreamError(f"the upstream redirected {project} too many times")


# -- the cached page ----------------------------------------------------------


def encode(cached: Cached) -> bytes:
    page = cached.page
    value: dict[str, Any] = {
        "schema": SCHEMA,
        "name": page.project,
        "format": page.format,
        "fetched": cached.fetched,
        "etag": cached.etag,
        "files": list(page.files),
    }
    if page.missing:
        value["missing"] = True
    if page.status:
        value["status"] = page.status
    if page.dropped:
        value["dropped"] = page.dropped
    if cached.error:
        value["error"] = cached.error[:500]
    if cached.cooldown:
        value["cooldown"] = cached.cooldown
    data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(data, compresslevel=6, mtime=0)


def decode(body: bytes, project: str, s3_etag: str = "") -> Cached | None:
    """The cached page in ``body``; None when it is not one of ``project``. What it
    holds was checked before it was stored, by this code: it is read back as such."""
    try:
        value = json.loads(gzip.decompress(body))
    except (ValueError, OSError, EOFError):
        return None
    if not isinstance(value, dict) or value.get("schema") != SCHEMA:
        return None
    if value.get("name") != project or not isinstance(value.get("files"), list):
        return None
    fetched = value.get("fetched")
    if not isinstance(fetched, (int, float)):
        return None
    page = Page(
        project,
        tuple(cast(UpstreamFile, f) for f in value["files"] if isinstance(f, dict)),
        project_status(value.get("status")),
        str(value.get("format", "json")),
        int(value.get("dropped", 0)),
        bool(value.get("missing", False)),
    )
    cooldown = value.get("cooldown", 0)
    return Cached(
        page,
        float(fetched),
        str(value.get("etag", "")),
        str(value.get("error", "")),
        s3_etag,
        cooldown if isinstance(cooldown, int) else 0,
    )


# -- the cooldown and the policy ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    """What a page offers now, and what it holds back."""

    files: tuple[UpstreamFile, ...]
    cooldown: int = 0  # files held back as too young, or without an upload time
    policy: int = 0  # files held back by a deny (or allow-only)
    # When the first file held back as too young comes out of the cooldown: until
    # then, the same page and policy offer the same files (epoch seconds).
    until: float = float("inf")


def _stamp(when: float) -> str:
    """An epoch time in the stored upload-time format (``manifest.upload_time``)."""
    return upload_time(datetime.fromtimestamp(when, UTC))


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def offer(page: Page, policy: Policy, cooldown: int, now: float | None = None) -> Offer:
    """The files of ``page`` that pass: a deny wins; then an allow lets a file through;
    then the cooldown (a file without an upload time fails it, unless it is 0). A
    quarantined project (PEP 792) offers none.

    Upload times are kept in one fixed-width UTC format, so the cooldown is a string
    comparison with the cut-off time in that format (no date parsed per file); the
    rules are narrowed to the project's once, not per file."""
    now = time.time() if now is None else now
    project = page.project
    if page.status and page.status["status"] == "quarantined":
        return Offer(())
    if not policy.proxies(project) or policy.project_denied(project):
        return Offer((), policy=len(page.files))
    deny = [rule.spec for rule in policy.deny if rule.spec.project == project]
    allow = [rule.spec for rule in policy.allow if rule.spec.project == project]
    cutoff = _stamp(now - cooldown) if cooldown else ""
    kept: list[UpstreamFile] = []
    held_cooldown = held_policy = 0
    youngest_held = ""  # the oldest upload time among the files too young: the next to pass
    for file in page.files:
        version = file["version"]
        if deny and any(spec.matches(project, version) for spec in deny):
            held_policy += 1
            continue
        allowed = bool(allow) and any(spec.matches(project, version) for spec in allow)
        if policy.allow_only and not allowed:
            held_policy += 1
            continue
        if cooldown and not allowed:
            stamp = file.get("upload_time", "")
            if not stamp or stamp > cutoff:
                held_cooldown += 1
                if stamp and (not youngest_held or stamp < youngest_held):
                    youngest_held = stamp
                continue
        kept.append(file)
    until = _epoch(youngest_held) + cooldown if youngest_held else float("inf")
    return Offer(tuple(kept), held_cooldown, held_policy, until)


def find(offered: Iterable[UpstreamFile], filename: str) -> UpstreamFile | None:
    return next((f for f in offered if f["filename"] == filename), None)


# -- this index's pages -------------------------------------------------------


def _entry(project: str, file: UpstreamFile) -> Entry:
    entry: Entry = {
        "filename": file["filename"],
        "key": f"{project}/{file['filename']}",
        "version": file["version"],
        "size": file.get("size", -1),
        "etag": "",
        "sha256": file["sha256"],
        "href": quote(file["filename"]),
    }
    if "upload_time" in file:
        entry["upload-time"] = file["upload_time"]
    if "requires_python" in file:
        entry["requires-python"] = file["requires_python"]
    if "core_metadata" in file:
        entry["core-metadata"] = file["core_metadata"]
    if "yanked" in file:
        entry["yanked"] = file["yanked"]
    return entry


def manifest(page: Page, files: Iterable[UpstreamFile]) -> Manifest:
    value: Manifest = {
        "schema": MANIFEST_SCHEMA,
        "name": page.project,
        "folders": [],
        "files": [_entry(page.project, f) for f in files],
    }
    if page.status:
        value["status"] = page.status
    return value


def render_html(page: Page, files: Iterable[UpstreamFile]) -> str:
    value = manifest(page, files)
    return simple.project_html(value, lambda entry: entry.get("href", ""))


def render_json(page: Page, files: Iterable[UpstreamFile]) -> str:
    value = manifest(page, files)
    body: dict[str, Any] = json.loads(simple.project_json(value, lambda e: e.get("href", "")))
    for view, entry in zip(body["files"], value["files"], strict=True):
        if entry["size"] < 0:
            del view["size"]  # an HTML upstream does not say
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
