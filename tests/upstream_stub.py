"""A stand-in for the upstream index (PyPI) on loopback, for the proxy mode: real
distribution files with the upload times a test sets, in PEP 691 JSON (with
PEP 658 core metadata) or PEP 503 HTML only, ETags and 304s, a switch that takes
it down, and raw answers a test can put anywhere (a hostile upstream)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

from tests.clients import QuietHandler, serving

JSON_V1 = "application/vnd.pypi.simple.v1+json"


def pep700(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@dataclass
class StubFile:
    filename: str
    data: bytes
    uploaded: datetime | None = None
    requires_python: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def metadata(self) -> bytes | None:
        if not self.filename.endswith(".whl"):
            return None
        with zipfile.ZipFile(BytesIO(self.data)) as archive:
            for name in archive.namelist():
                if re.fullmatch(r"[^/]+\.dist-info/METADATA", name):
                    return archive.read(name)
        return None


@dataclass
class Upstream:
    projects: dict[str, list[StubFile]] = field(default_factory=dict)
    html_only: bool = False
    down: bool = False
    delay: float = 0.0  # seconds each project page waits before its answer
    raw: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    origin: str = ""

    @property
    def index_url(self) -> str:
        return self.origin + "/simple/"

    def add(self, project: str, *files: StubFile) -> None:
        self.projects.setdefault(project, []).extend(files)

    def json_page(self, project: str) -> bytes:
        files = []
        for f in self.projects[project]:
            entry: dict[str, object] = {
                "filename": f.filename,
                "url": f"{self.origin}/files/{f.filename}",
                "hashes": {"sha256": f.sha256},
                "size": len(f.data),
            }
            if f.requires_python:
                entry["requires-python"] = f.requires_python
            if f.metadata is not None:
                entry["core-metadata"] = {"sha256": hashlib.sha256(f.metadata).hexdigest()}
            if f.uploaded is not None:
                entry["upload-time"] = pep700(f.uploaded)
            files.append(entry)
        page = {"meta": {"api-version": "1.1"}, "name": project, "files": files}
        return json.dumps(page).encode()

    def html_page(self, project: str) -> bytes:
        rows = []
        for f in self.projects[project]:
            requires = (
                f' data-requires-python="{escape(f.requires_python)}"' if f.requires_python else ""
            )
            href = f"../../files/{f.filename}#sha256={f.sha256}"
            rows.append(f'<a href="{href}"{requires}>{f.filename}</a><br>')
        body = "\n".join(rows)
        return (
            f"<!DOCTYPE html><html><body><h1>Links for {project}</h1>\n{body}\n</body></html>"
        ).encode()

    def file(self, filename: str) -> bytes | None:
        for files in self.projects.values():
            for f in files:
                if f.filename == filename:
                    return f.data
                if filename == f.filename + ".metadata":
                    return f.metadata
        return None


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            upstream.seen.append(self.path)
            if upstream.down:
                self.reply(503, b"down for maintenance")
                return
            if self.path in upstream.raw:
                status, content_type, body = upstream.raw[self.path]
                self.reply(status, body, {"Content-Type": content_type})
                return
            match = re.fullmatch(r"/simple/([^/]+)/", self.path)
            if match:
                self._page(match[1])
                return
            match = re.fullmatch(r"/files/([^/]+)", self.path)
            data = upstream.file(match[1]) if match else None
            if data is None:
                self.reply(404, b"not found")
            else:
                self.reply(200, data, {"Content-Type": "application/octet-stream"})

        def _page(self, project: str) -> None:
            time.sleep(upstream.delay)
            if project not in upstream.projects:
                self.reply(404, b"not found")
                return
            wants_json = JSON_V1 in (self.headers.get("Accept") or "")
            if wants_json and not upstream.html_only:
                body, content_type = upstream.json_page(project), JSON_V1
            else:
                body, content_type = upstream.html_page(project), "text/html"
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                self.reply(304, b"", {"ETag": etag})
                return
            self.reply(200, body, {"Content-Type": content_type, "ETag": etag})

    return Handler


@contextmanager
def upstream_index(upstream: Upstream | None = None) -> Iterator[Upstream]:
    """The stand-in upstream, answering on loopback while the block runs."""
    upstream = upstream or Upstream()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream))
    server.daemon_threads = True
    with serving(server) as origin:
        upstream.origin = origin
        yield upstream


# Real wheels from the public index, downloaded once per session: a small closure
# (python-dateutil needs six) and a newer six to play the young release.
REAL_WHEELS = ("six==1.16.0", "six==1.17.0", "python-dateutil==2.9.0.post0")


def download_real_wheels(into: Path) -> dict[str, bytes]:
    """``REAL_WHEELS`` by filename (pip download, with this machine's pip settings)."""
    into.mkdir(parents=True, exist_ok=True)
    for requirement in REAL_WHEELS:
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"),
                *("--disable-pip-version-check", "-q", "-d", str(into), requirement),
            ],
            check=True,
            timeout=300,
        )
    return {path.name: path.read_bytes() for path in sorted(into.glob("*.whl"))}
