"""The two renderings of one model, against golden files."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import cast

import pytest

from serverless_pypi import manifest as manifests
from serverless_pypi import negotiate, simple
from tests.builders import wheel_bytes
from tests.clients import QuietHandler, isolated_env, serving

GOLDEN = Path(__file__).parents[1] / "golden"
H1, H2, H3, H4 = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)
M1 = "e" * 64

MANIFEST: manifests.Manifest = {
    "schema": 1,
    "name": "my-pkg",
    "folders": ["My.Pkg", "my-pkg"],
    "files": [
        {
            "filename": "my-pkg-0.9.tar.gz",
            "key": "my-pkg/my-pkg-0.9.tar.gz",
            "version": "0.9",
            "size": 900,
            "etag": '"e0"',
            "sha256": H1,
            "upload-time": "2026-01-01T00:00:00.000000Z",
            "yanked": True,
            "marker-etag": '"m0"',
        },
        {
            "filename": "my_pkg-1.0-py3-none-any.whl",
            "key": "my-pkg/my_pkg-1.0-py3-none-any.whl",
            "version": "1.0",
            "size": 1000,
            "etag": '"e1"',
            "sha256": H2,
            "upload-time": "2026-01-02T03:04:05.000000Z",
            "requires-python": ">=3.9,<4",
            "core-metadata": M1,
        },
        {
            "filename": "my_pkg-1.0+local-py3-none-any.whl",
            "key": "My.Pkg/my_pkg-1.0+local-py3-none-any.whl",
            "version": "1.0+local",
            "size": 1001,
            "etag": '"e2"',
            "sha256": H3,
            "upload-time": "2026-01-03T00:00:00.000000Z",
            "yanked": 'broken <build> & "worse"',
            "marker-etag": '"m2"',
        },
        {
            "filename": "my_pkg-2.0.tar.gz",
            "key": "my-pkg/my_pkg-2.0.tar.gz",
            "version": "2.0",
            "size": 2000,
            "etag": '"e3"',
            "sha256": H4,
            "upload-time": "2026-01-04T00:00:00.000000Z",
        },
    ],
}

LINK = functools.partial(manifests.relative_url, "my-pkg")


def _golden(name: str, actual: str) -> str:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual)
    return path.read_text()


def test_project_html_matches_golden() -> None:
    html = simple.project_html(MANIFEST, LINK)
    assert html == _golden("project.html", html)


def test_project_json_matches_golden() -> None:
    body = simple.project_json(MANIFEST, LINK)
    pretty = json.dumps(json.loads(body), indent=2) + "\n"
    assert pretty == _golden("project.json", pretty)


def test_root_renderings_match_golden() -> None:
    html = simple.root_html(["my-pkg", "other-pkg"])
    assert html == _golden("root.html", html)
    body = json.loads(simple.root_json(["my-pkg", "other-pkg"]))
    assert body == {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": "my-pkg"}, {"name": "other-pkg"}],
    }


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []
        self.meta: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))
        if tag == "meta":
            found = dict(attrs)
            self.meta[str(found.get("name"))] = found.get("content")


def test_html_and_json_say_the_same() -> None:
    parser = _Anchors()
    parser.feed(simple.project_html(MANIFEST, LINK))
    page = json.loads(simple.project_json(MANIFEST, LINK))
    assert parser.meta["pypi:repository-version"] == page["meta"]["api-version"] == "1.1"
    assert len(parser.anchors) == len(page["files"]) == 4
    for anchor, item in zip(parser.anchors, page["files"], strict=True):
        href = str(anchor["href"])
        assert href == f"{item['url']}#sha256={item['hashes']['sha256']}"
        assert anchor.get("data-requires-python") == item.get("requires-python")
        metadata = item.get("core-metadata")
        assert "dist-info-metadata" not in item  # breaks pip 22.3 to 23.1 (PEP 714)
        expected = f"sha256={metadata['sha256']}" if metadata else None
        assert anchor.get("data-core-metadata") == expected
        assert anchor.get("data-dist-info-metadata") == expected
        yanked = item.get("yanked", False)
        if yanked is False:
            assert "data-yanked" not in anchor
        else:
            assert anchor["data-yanked"] == ("" if yanked is True else yanked)


def test_versions_in_file_order_without_duplicates() -> None:
    page = json.loads(simple.project_json(MANIFEST, LINK))
    assert page["versions"] == ["0.9", "1.0", "1.0+local", "2.0"]


def test_values_are_escaped_in_html() -> None:
    hostile = json.loads(json.dumps(MANIFEST))
    hostile["name"] = "<script>alert(1)</script>"
    hostile["files"][1]["filename"] = 'x"><img src=x onerror=alert(1)>.whl'
    hostile["files"][1]["requires-python"] = '"><script>'
    html = simple.project_html(hostile, LINK)
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_links_from_a_differently_spelled_folder_keep_the_folder() -> None:
    assert LINK(MANIFEST["files"][1]) == "my_pkg-1.0-py3-none-any.whl"
    assert LINK(MANIFEST["files"][2]) == "My.Pkg/my_pkg-1.0%2Blocal-py3-none-any.whl"


def test_no_metadata_announced_when_disabled() -> None:
    html = simple.project_html(MANIFEST, LINK, manifests.NONE)
    assert "data-core-metadata" not in html
    page = json.loads(simple.project_json(MANIFEST, LINK, manifests.NONE))
    assert not any("core-metadata" in item for item in page["files"])


def test_metadata_announced_without_hashes_when_the_manifest_says_so() -> None:
    degraded = manifests.validate({**MANIFEST, "metadata-hashes": False})
    assert degraded is not None
    mode = manifests.metadata_mode(degraded, presigned=False)
    assert mode == manifests.FLAGS
    html = simple.project_html(degraded, LINK, mode)
    assert 'data-dist-info-metadata="true" data-core-metadata="true"' in html
    assert M1 not in html
    page = json.loads(simple.project_json(degraded, LINK, mode))
    assert [item.get("core-metadata") for item in page["files"]] == [None, True, None, None]
    assert manifests.metadata_mode(MANIFEST, presigned=False) == manifests.HASHES
    assert manifests.metadata_mode(MANIFEST, presigned=True) == manifests.NONE


def test_stored_links_are_used_as_they_are() -> None:
    entry = {**MANIFEST["files"][2], "href": "My.Pkg/stored%2Blink.whl"}
    assert LINK(entry) == "My.Pkg/stored%2Blink.whl"


def test_an_empty_project_renders_a_page_without_links() -> None:
    empty: manifests.Manifest = {"schema": 1, "name": "x", "folders": [], "files": []}
    assert json.loads(simple.project_json(empty, LINK)) == {
        "meta": {"api-version": "1.1"},
        "name": "x",
        "versions": [],
        "files": [],
    }
    html = simple.project_html(empty, LINK)
    assert "<title>Links for x</title>" in html and "<h1>Links for x</h1>" in html
    assert "<a " not in html


# -- project status (PEP 792) ---------------------------------------------------------------

# my_pkg-1.0-py3-none-any.whl of MANIFEST, with its name, size and hash only.
ONE_FILE = manifests.new(
    "my-pkg",
    ["my-pkg"],
    [
        cast(
            manifests.Entry,
            {
                k: MANIFEST["files"][1][k]
                for k in ("filename", "key", "version", "size", "etag", "sha256")
            },
        )
    ],
)
_LINK = (
    '<a href="my_pkg-1.0-py3-none-any.whl#sha256=' + H2 + '">my_pkg-1.0-py3-none-any.whl</a><br>\n'
)
_FILE = {
    "filename": "my_pkg-1.0-py3-none-any.whl",
    "url": "my_pkg-1.0-py3-none-any.whl",
    "hashes": {"sha256": H2},
    "size": 1000,
}


def _with_status(status: str, reason: str | None = None) -> manifests.Manifest:
    found: manifests.Status = {"status": status}
    if reason is not None:
        found["reason"] = reason
    return manifests.new("my-pkg", ["my-pkg"], ONE_FILE["files"], status=found)


@pytest.mark.parametrize(
    ("status", "offered"),
    [("archived", True), ("deprecated", True), ("quarantined", False)],
)
def test_each_status_in_html_byte_for_byte(status: str, offered: bool) -> None:
    html, _ = simple.redirect_pages(_with_status(status, "moved to new-pkg"))
    assert html == (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        '<meta name="pypi:repository-version" content="1.4">\n'
        f'<meta name="pypi:project-status" content="{status}">\n'
        '<meta name="pypi:project-status-reason" content="moved to new-pkg">\n'
        "<title>Links for my-pkg</title>\n</head>\n<body>\n<h1>Links for my-pkg</h1>\n"
        + (_LINK if offered else "")
        + "</body>\n</html>\n"
    )


@pytest.mark.parametrize(
    ("status", "offered"),
    [("archived", True), ("deprecated", True), ("quarantined", False)],
)
def test_each_status_in_json_byte_for_byte(status: str, offered: bool) -> None:
    _, page = simple.redirect_pages(_with_status(status, "moved to new-pkg"))
    expected = {
        "meta": {"api-version": "1.4"},
        "name": "my-pkg",
        "project-status": {"status": status, "reason": "moved to new-pkg"},
        "versions": ["1.0"] if offered else [],
        "files": [_FILE] if offered else [],
    }
    assert page == json.dumps(expected, separators=(",", ":"))


def test_a_status_without_reason_has_no_reason_marker() -> None:
    html, page = simple.redirect_pages(_with_status("archived"))
    assert '<meta name="pypi:project-status" content="archived">\n<title>' in html
    assert "project-status-reason" not in html
    assert json.loads(page)["project-status"] == {"status": "archived"}


def test_an_active_project_keeps_api_version_1_1_and_no_marker() -> None:
    for manifest in (ONE_FILE, _with_status("active", "ignored")):
        html, page = simple.redirect_pages(manifest)
        assert '<meta name="pypi:repository-version" content="1.1">' in html
        assert "project-status" not in html
        assert json.loads(page)["meta"] == {"api-version": "1.1"}
        assert "project-status" not in json.loads(page)


def test_a_status_reason_is_escaped_cleaned_and_bounded() -> None:
    reason = 'a "quoted" <b>reason</b> & \x1b[31mred\u202e\n' + "x" * 1000
    html, page = simple.redirect_pages(_with_status("deprecated", reason))
    kept = json.loads(page)["project-status"]["reason"]
    assert kept.startswith('a "quoted" <b>reason</b> & [31mred x')
    assert len(kept) == manifests.MAX_STATUS_REASON
    assert "\x1b" not in kept and "\u202e" not in kept
    assert (
        '<meta name="pypi:project-status-reason" content="a &quot;quoted&quot; '
        "&lt;b&gt;reason&lt;/b&gt; &amp; [31mred x" in html
    )


def test_an_unknown_or_malformed_status_is_active() -> None:
    for value in ({"status": "gone"}, {"reason": "x"}, "archived", None, {"status": 3}):
        assert manifests.project_status(value) is None


@pytest.mark.parametrize("status", ["archived", "quarantined", "deprecated"])
@pytest.mark.parametrize("variant", ["html", "json"])
def test_uv_audit_reads_the_status_markers_of_either_page(
    tmp_path: Path, variant: str, status: str
) -> None:
    """uv (0.13) shows nothing on install; ``uv audit`` reports a locked project's
    adverse status with its reason, read from the page uv negotiated."""
    name, data = wheel_bytes("my-pkg", "1.0")
    files = [
        cast(
            manifests.Entry,
            {
                "filename": name,
                "key": f"my-pkg/{name}",
                "version": "1.0",
                "size": len(data),
                "etag": '"e"',
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        )
    ]
    marked: manifests.Status = {"status": status, "reason": "see <new-pkg> & co"}
    served = {"page": simple.redirect_pages(manifests.new("my-pkg", ["my-pkg"], files))}

    class Index(QuietHandler):
        def do_GET(self) -> None:
            html, page = served["page"]
            if self.path == "/simple/my-pkg/" and variant == "json":
                self.reply(200, page.encode(), {"Content-Type": negotiate.JSON_V1})
            elif self.path == "/simple/my-pkg/":
                self.reply(200, html.encode(), {"Content-Type": "text/html"})
            elif self.path == f"/simple/my-pkg/{name}":
                self.reply(200, data, {"Content-Type": "application/octet-stream"})
            else:
                self.reply(404, b"")

        def do_HEAD(self) -> None:  # uv's probe of the file: its size, no body
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()

        def do_POST(self) -> None:  # the vulnerability service (OSV's API): nothing known
            asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            known: dict[str, list[object]] = {"results": [{} for _ in asked["queries"]]}
            self.reply(200, json.dumps(known).encode(), {"Content-Type": "application/json"})

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\n'
        'requires-python = ">=3.9"\ndependencies = ["my-pkg"]\n'
    )
    uv = str(Path(sys.executable).parent / "uv")
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Index)) as origin:
        index = ["--default-index", f"{origin}/simple/"]

        def uv_run(*args: str) -> str:
            found = subprocess.run(
                [uv, *args, *index],
                cwd=tmp_path,
                env=isolated_env(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert found.returncode == 0, found.stderr
            return found.stdout + found.stderr

        def audit() -> str:
            return uv_run("audit", "--frozen", "--service-url", f"{origin}/osv")

        uv_run("lock")
        assert "no adverse project status" in audit()
        served["page"] = simple.redirect_pages(
            manifests.new("my-pkg", ["my-pkg"], files, status=marked)
        )
        assert f"my-pkg is {status}: see <new-pkg> & co" in audit()
