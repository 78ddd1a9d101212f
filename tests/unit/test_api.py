"""The api handler, driven with API Gateway payload 2.0 events on moto S3."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.config import Config

from serverless_pypi import api, payload, s3http, sigv4, simple
from serverless_pypi import batch as batches
from serverless_pypi import deadline as deadlines
from serverless_pypi import manifest as manifests
from serverless_pypi.apigw import Request, Response
from serverless_pypi.layout import manifest_key
from serverless_pypi.negotiate import HTML_V1, JSON_V1
from tests.builders import sdist_bytes, wheel_bytes
from tests.clients import PIP_ACCEPT
from tests.conftest import BUCKET, Get, Reply, http_event
from tests.moto_bucket import notify
from tests.unit.test_manifest import HOSTILE_REASONS, raw_controls

WHEEL = "my_pkg-1.0-py3-none-any.whl"
SDIST = "my_pkg-1.0.tar.gz"
OTHER = "other_pkg-2.0-py3-none-any.whl"


def upload(s3: Any, key: str, data: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    notify(("ObjectCreated:Put", key))


@pytest.fixture
def index(s3: Any) -> dict[str, bytes]:
    """A small index: my-pkg (a wheel and an sdist), other-pkg in an odd folder."""
    _, wheel = wheel_bytes("my-pkg", "1.0", requires_python=">=3.9,<4")
    _, sdist = sdist_bytes("my-pkg", "1.0", requires_python=">=3.9,<4")
    _, other = wheel_bytes("other-pkg", "2.0")
    upload(s3, f"my-pkg/{WHEEL}", wheel)
    upload(s3, f"my-pkg/{SDIST}", sdist)
    upload(s3, f"Other.Pkg/{OTHER}", other)
    return {WHEEL: wheel, SDIST: sdist, OTHER: other}


class Anchors(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.anchors: list[dict[str, Any]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


# -- routing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/", "simple/"),
        ("/simple", "simple/"),
        ("/simple/My.Pkg/", "../my-pkg/"),
        ("/simple/my_pkg/", "../my-pkg/"),
        ("/simple/my-pkg", "my-pkg/"),
        ("/simple/MY_PKG", "my-pkg/"),
        (f"/simple/My_Pkg/{WHEEL}", f"../my-pkg/{WHEEL}"),
        (f"/simple/Other_Pkg/Other.Pkg/{OTHER}", f"../../other-pkg/Other.Pkg/{OTHER}"),
    ],
)
def test_redirects_are_relative_and_permanent(get: Get, path: str, location: str) -> None:
    reply = get(path)
    assert reply.status == 301
    assert reply.headers["Location"] == location


def test_redirects_resolve_to_the_normalized_url(get: Get) -> None:
    from urllib.parse import urljoin

    base = "https://pypi.example.com/prod/simple/My.Pkg/"
    assert urljoin(base, get("/simple/My.Pkg/").headers["Location"]) == (
        "https://pypi.example.com/prod/simple/my-pkg/"
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods_are_not_allowed(get: Get, method: str) -> None:
    reply = get("/simple/", method=method)
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/simple/my-pkg/a/b/c",
        "/simple/-bad-/",
        "/simple/my-pkg/README.md",
        "/simple/my-pkg/other_pkg-2.0-py3-none-any.whl",
        f"/simple/my-pkg/Other.Pkg/{WHEEL}",
        f"/simple/my-pkg/..%2F..%2Fsecret/{WHEEL}",
    ],
)
def test_unknown_paths_are_404(get: Get, index: Any, path: str) -> None:
    assert get(path).status == 404


# -- pages ------------------------------------------------------------------


def test_root_page_lists_projects_in_html(get: Get, index: Any) -> None:
    reply = get("/simple/")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<meta name="pypi:repository-version" content="1.1">' in reply.text
    assert [a["href"] for a in Anchors(reply.text).anchors] == ["my-pkg/", "other-pkg/"]


def test_root_page_in_json_for_pip(get: Get, index: Any) -> None:
    reply = get("/simple/", headers={"accept": PIP_ACCEPT})
    assert reply.headers["Content-Type"] == JSON_V1
    assert reply.json() == {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": "my-pkg"}, {"name": "other-pkg"}],
    }


def test_root_page_of_an_empty_bucket(get: Get) -> None:
    reply = get("/simple/")
    assert reply.status == 200
    assert Anchors(reply.text).anchors == []


def test_project_page_in_html(get: Get, index: dict[str, bytes], s3: Any) -> None:
    reply = get("/simple/my-pkg/", headers={"accept": "text/html"})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.headers["Vary"] == "Accept, Accept-Encoding"
    assert 'data-requires-python="&gt;=3.9,&lt;4"' in reply.text
    anchors = {a["href"].split("#")[0]: a for a in Anchors(reply.text).anchors}
    assert set(anchors) == {WHEEL, SDIST}
    wheel = anchors[WHEEL]
    assert wheel["href"] == f"{WHEEL}#sha256={hashlib.sha256(index[WHEEL]).hexdigest()}"
    metadata = get(f"/simple/my-pkg/{WHEEL}.metadata")
    assert metadata.status == 200
    expected = f"sha256={hashlib.sha256(metadata.body).hexdigest()}"
    assert wheel["data-core-metadata"] == wheel["data-dist-info-metadata"] == expected


def test_project_page_in_json(get: Get, index: dict[str, bytes]) -> None:
    reply = get("/simple/my-pkg/", headers={"accept": PIP_ACCEPT})
    assert reply.headers["Content-Type"] == JSON_V1
    page = reply.json()
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "my-pkg"
    assert page["versions"] == ["1.0"]
    by_name = {item["filename"]: item for item in page["files"]}
    wheel = by_name[WHEEL]
    assert wheel["url"] == WHEEL
    assert wheel["hashes"] == {"sha256": hashlib.sha256(index[WHEEL]).hexdigest()}
    assert wheel["size"] == len(index[WHEEL])
    assert wheel["requires-python"] == ">=3.9,<4"
    assert wheel["core-metadata"]["sha256"]
    assert wheel["upload-time"].endswith("Z") and "." in wheel["upload-time"]
    assert "yanked" not in wheel


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/vnd.pypi.simple.latest+json", JSON_V1),
        ("application/vnd.pypi.simple.latest+html", HTML_V1),
        (HTML_V1, HTML_V1),
        ("*/*", "text/html; charset=utf-8"),
    ],
)
def test_content_types_are_exact(get: Get, index: Any, accept: str, content_type: str) -> None:
    assert (
        get("/simple/my-pkg/", headers={"accept": accept}).headers["Content-Type"] == content_type
    )


def test_nothing_acceptable_is_406(get: Get, index: Any) -> None:
    reply = get("/simple/my-pkg/", headers={"accept": "application/json"})
    assert reply.status == 406
    assert "application/vnd.pypi.simple.v1+json" in reply.text


def test_a_project_in_an_odd_folder_is_served_normalized(get: Get, index: Any) -> None:
    page = get("/simple/other-pkg/", headers={"accept": JSON_V1}).json()
    assert [item["url"] for item in page["files"]] == [f"Other.Pkg/{OTHER}"]
    reply = get(f"/simple/other-pkg/Other.Pkg/{OTHER}")
    assert reply.status == 302
    assert urlsplit(reply.headers["Location"]).path.endswith(f"/Other.Pkg/{OTHER}")


def _yanked(reply: Reply) -> Any:
    """The wheel's yank reason as the page shows it (HTML or JSON)."""
    if reply.headers["Content-Type"] == JSON_V1:
        return {item["filename"]: item.get("yanked") for item in reply.json()["files"]}[WHEEL]
    [wheel] = [a for a in Anchors(reply.text).anchors if WHEEL in a["href"]]  # or presigned
    return wheel.get("data-yanked")


def test_a_yank_reason_reaches_no_page_with_control_characters(
    get: Get, index: Any, s3: Any
) -> None:
    raw = "".join(text for text, _ in HOSTILE_REASONS.values())
    upload(s3, f"my-pkg/{WHEEL}.yanked", raw.encode())
    for accept in ("text/html", HTML_V1, JSON_V1):
        reply = get("/simple/my-pkg/", headers={"accept": accept})
        assert not raw_controls(reply.text), accept
        assert _yanked(reply) == manifests.yank_reason(raw)


def test_a_raw_reason_an_earlier_release_stored_is_served_clean(
    get: Get, index: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier release kept the marker's text raw in the manifest and in the pages
    stored with it (render version 1): those pages are not passed through, and a
    page rendered per request (presigned links too) shows the reason clean."""
    stored = s3.get_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))["Body"].read()
    saved = manifests.decode(stored)
    assert saved is not None
    for entry in saved["files"]:
        if entry["filename"] == WHEEL:
            entry["yanked"] = "\x1b]0;owned\x07use 1.1\u202e\x9b2J"
    with monkeypatch.context() as earlier:
        earlier.setattr(manifests, "yank_reason", lambda text: text)  # what it rendered
        html, page = simple.redirect_pages(saved)
    pages = manifests.Pages(payload.gzipped(html.encode()), payload.gzipped(page.encode()))
    body, metadata = manifests.pack(saved, pages, "1")
    s3.put_object(
        Bucket=BUCKET,
        Key=manifest_key("my-pkg"),
        Body=body,
        Metadata=metadata,
        ContentType="application/json",
        ContentEncoding="gzip",
    )
    for mode in ("redirect", "presigned"):
        get.configure(link_mode=mode)
        for accept in ("text/html", JSON_V1):
            reply = get("/simple/my-pkg/", headers={"accept": accept})
            assert not raw_controls(reply.text), (mode, accept)
            assert _yanked(reply) == "]0;owneduse 1.12J"


def test_yanked_files_show_in_both_renderings(get: Get, index: Any, s3: Any) -> None:
    upload(s3, f"my-pkg/{WHEEL}.yanked", "Broken: use 1.1 ✓ sorry".encode())
    html = get("/simple/my-pkg/").text
    [wheel] = [a for a in Anchors(html).anchors if a["href"].startswith(WHEEL)]
    assert wheel["data-yanked"] == "Broken: use 1.1 ✓ sorry"
    page = get("/simple/my-pkg/", headers={"accept": JSON_V1}).json()
    assert {item["filename"]: item.get("yanked") for item in page["files"]} == {
        WHEEL: "Broken: use 1.1 ✓ sorry",
        SDIST: None,
    }


# -- pages stored with the manifest -------------------------------------------


def test_a_page_is_the_page_stored_with_the_manifest_passed_through(
    get: Get, index: Any, s3: Any
) -> None:
    stored = s3.get_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))
    body, metadata, etag = stored["Body"].read(), stored["Metadata"], stored["ETag"]
    variants: list[tuple[str, manifests.Variant, str]] = [
        ("text/html", "html", "h"),
        (PIP_ACCEPT, "json", "j"),
    ]
    for accept, variant, tag in variants:
        before = get.reader.requests
        reply = get("/simple/my-pkg/", headers={"accept": accept, "accept-encoding": "gzip"})
        assert get.reader.requests - before == 1
        page = manifests.stored_page(body, metadata, variant, simple.RENDER_VERSION)
        assert reply.body == page
        assert reply.headers["Content-Encoding"] == "gzip"
        assert reply.headers["ETag"] == f'W/"{etag.strip(chr(34))}.{tag}{simple.RENDER_VERSION}"'


def _as_an_older_release_stored_it(s3: Any, project: str) -> None:
    """The project's manifest alone, without pages (rendered per request)."""
    saved = manifests.decode(s3.get_object(Bucket=BUCKET, Key=manifest_key(project))["Body"].read())
    assert saved is not None
    body = manifests.encode(saved)
    s3.put_object(Bucket=BUCKET, Key=manifest_key(project), Body=body, ContentEncoding="gzip")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("encoding", ["gzip, deflate", "identity", None])
@pytest.mark.parametrize("accept", ["text/html", HTML_V1, PIP_ACCEPT, JSON_V1])
def test_stored_pages_are_byte_for_byte_the_pages_rendered_per_request(
    get: Get, index: Any, s3: Any, method: str, encoding: str | None, accept: str
) -> None:
    upload(s3, f"my-pkg/{WHEEL}.yanked", "broken <build> ✓".encode())
    headers = {"accept": accept, **({"accept-encoding": encoding} if encoding else {})}
    for project in ("my-pkg", "other-pkg"):
        stored = get(f"/simple/{project}/", method=method, headers=headers)
        _as_an_older_release_stored_it(s3, project)
        rendered = get(f"/simple/{project}/", method=method, headers=headers)
        assert stored.status == rendered.status == 200
        assert stored.body == rendered.body
        assert stored.raw["isBase64Encoded"] == rendered.raw["isBase64Encoded"]
        assert stored.headers.pop("ETag") != rendered.headers.pop("ETag")  # another object
        assert stored.headers == rendered.headers


def test_pages_stored_by_another_rendering_are_rendered_per_request(
    get: Get, index: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = get("/simple/my-pkg/", headers={"accept-encoding": "gzip"})
    current = simple.RENDER_VERSION
    monkeypatch.setattr(simple, "RENDER_VERSION", "next")
    rendered = get("/simple/my-pkg/", headers={"accept-encoding": "gzip"})
    assert gzip.decompress(rendered.body) == gzip.decompress(stored.body)
    assert rendered.headers["ETag"] == stored.headers["ETag"].replace(f'.h{current}"', '.hnext"')


def test_a_stored_page_under_the_gzip_threshold_is_sent_plain() -> None:
    request = Request.from_event(http_event("/simple/x/", headers={"accept-encoding": "gzip"}))
    small = Response(200, payload.gzipped(b"<p>tiny</p>"), encoding="gzip").to_event(request)
    assert (small["body"], small["isBase64Encoded"]) == ("<p>tiny</p>", False)
    assert "Content-Encoding" not in small["headers"]
    assert small["headers"]["Content-Length"] == "11"


# -- caching ----------------------------------------------------------------


def test_pages_have_etags_and_answer_304(get: Get, index: Any, s3: Any) -> None:
    first = get("/simple/my-pkg/", headers={"accept": JSON_V1})
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "max-age=60"
    again = get("/simple/my-pkg/", headers={"accept": JSON_V1, "if-none-match": etag})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["ETag"] == etag
    # Another representation of the page does not match that ETag.
    assert get("/simple/my-pkg/", headers={"if-none-match": etag}).status == 200
    # A new upload changes the page and its ETag.
    _, newer = wheel_bytes("my-pkg", "1.1")
    upload(s3, "my-pkg/my_pkg-1.1-py3-none-any.whl", newer)
    after = get("/simple/my-pkg/", headers={"accept": JSON_V1, "if-none-match": etag})
    assert after.status == 200
    assert after.headers["ETag"] != etag


def test_root_page_answers_304(get: Get, index: Any) -> None:
    etag = get("/simple/").headers["ETag"]
    assert get("/simple/", headers={"if-none-match": f'"junk", {etag}'}).status == 304


def test_metadata_answers_304(get: Get, index: Any) -> None:
    first = get(f"/simple/my-pkg/{WHEEL}.metadata")
    again = get(
        f"/simple/my-pkg/{WHEEL}.metadata", headers={"if-none-match": first.headers["ETag"]}
    )
    assert again.status == 304


def test_uploader_text_is_never_sniffed_into_html(get: Get, s3: Any, storage: Any) -> None:
    # A METADATA whose summary is markup: served as text/plain, which a browser
    # must not take for a page of the index's origin.
    name, wheel = wheel_bytes("my-pkg", "1.0", summary="<script>alert(1)</script>")
    upload(s3, f"my-pkg/{name}", wheel)
    batches.rebuild(storage)
    metadata = get(f"/simple/my-pkg/{name}.metadata")
    assert metadata.status == 200 and b"<script>" in metadata.body
    assert metadata.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert metadata.headers["X-Content-Type-Options"] == "nosniff"
    revalidated = get(
        f"/simple/my-pkg/{name}.metadata", headers={"if-none-match": metadata.headers["ETag"]}
    )
    assert revalidated.status == 304
    for path in ("/simple/", "/simple/my-pkg/", "/simple/nope/", f"/simple/my-pkg/{name}"):
        assert get(path).headers["X-Content-Type-Options"] == "nosniff", path


def test_gzip_when_accepted(get: Get, index: Any) -> None:
    plain = get("/simple/my-pkg/")
    zipped = get("/simple/my-pkg/", headers={"accept-encoding": "gzip, deflate"})
    assert zipped.raw["isBase64Encoded"] is True
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) == len(zipped.body)
    assert gzip.decompress(zipped.body) == plain.body
    assert "Content-Encoding" not in plain.headers
    assert int(plain.headers["Content-Length"]) == len(plain.body)


def test_content_length_counts_bytes(get: Get, index: Any, s3: Any) -> None:
    upload(s3, f"my-pkg/{WHEEL}.yanked", "ünïcödé ✓".encode())
    reply = get("/simple/my-pkg/")
    assert int(reply.headers["Content-Length"]) == len(reply.body) > len(reply.text)


@pytest.mark.parametrize(
    "path", ["/simple/", "/simple/my-pkg/", f"/simple/my-pkg/{WHEEL}.metadata", "/simple/nope/"]
)
def test_head_is_get_without_a_body(get: Get, index: Any, path: str) -> None:
    full = get(path, headers={"accept-encoding": "gzip"})
    head = get(path, method="HEAD", headers={"accept-encoding": "gzip"})
    assert head.status == full.status
    assert head.body == b""
    assert head.headers["Content-Length"] == full.headers["Content-Length"]


# -- files and fallback -----------------------------------------------------


def _query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


def test_file_links_redirect_to_a_fresh_presigned_url(get: Get, index: Any) -> None:
    reply = get(f"/simple/my-pkg/{WHEEL}")
    assert reply.status == 302
    assert reply.headers["Cache-Control"] == "no-store"
    location = reply.headers["Location"]
    assert urlsplit(location).path.endswith(f"{BUCKET}/my-pkg/{WHEEL}") or urlsplit(
        location
    ).netloc.startswith(BUCKET)
    query = _query(location)
    assert query["X-Amz-Expires"] == ["900"]
    assert "X-Amz-Signature" in query


def test_head_of_a_file_is_presigned_for_head(
    get: Get, index: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
    monkeypatch.setattr(sigv4, "now", lambda: fixed)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: fixed.replace(tzinfo=None))
    client = boto3.client("s3", config=Config(signature_version="s3v4"))

    def reference(operation: str) -> str:
        params = {"Bucket": BUCKET, "Key": f"my-pkg/{WHEEL}"}
        return client.generate_presigned_url(operation, Params=params, ExpiresIn=900)

    head = get(f"/simple/my-pkg/{WHEEL}", method="HEAD").headers["Location"]
    got = get(f"/simple/my-pkg/{WHEEL}").headers["Location"]
    assert _query(head) == _query(reference("head_object"))
    assert _query(got) == _query(reference("get_object"))
    assert _query(head)["X-Amz-Signature"] != _query(got)["X-Amz-Signature"]


def test_presigned_ttl_is_configurable(get: Get, index: Any) -> None:
    get.configure(presigned_url_ttl=60)
    assert _query(get(f"/simple/my-pkg/{WHEEL}").headers["Location"])["X-Amz-Expires"] == ["60"]


def test_unknown_project_is_404_without_fallback(get: Get, index: Any) -> None:
    reply = get("/simple/requests/")
    assert reply.status == 404
    assert reply.headers["Cache-Control"] == "no-store"


def test_unknown_project_goes_to_the_fallback_index(get: Get, index: Any) -> None:
    get.configure(fallback_index_url="https://pypi.org/simple")
    reply = get("/simple/requests/")
    assert reply.status == 302
    assert reply.headers["Location"] == "https://pypi.org/simple/requests/"
    assert reply.headers["Cache-Control"] == "no-store"
    # Never for a project that is in the bucket (dependency confusion).
    assert get("/simple/my-pkg/").status == 200
    assert get("/simple/other-pkg/").status == 200


def test_a_removed_project_keeps_its_name_until_released(get: Get, index: Any, s3: Any) -> None:
    get.configure(fallback_index_url="https://pypi.org/simple/")
    s3.delete_object(Bucket=BUCKET, Key=f"Other.Pkg/{OTHER}")
    notify(("ObjectRemoved:Delete", f"Other.Pkg/{OTHER}"))
    assert [a["href"] for a in Anchors(get("/simple/").text).anchors] == ["my-pkg/"]
    # Not the public project of that name: an old requirement must not get it.
    for accept in ("text/html", PIP_ACCEPT):
        reply = get("/simple/other-pkg/", headers={"accept": accept})
        assert reply.status == 404
        assert reply.headers["Cache-Control"] == "no-store"
        assert "not looked up on the fallback index" in reply.text
        assert "has no installable file in this index: it was claimed, or its files" in reply.text
    assert get("/simple/Other.Pkg/").status == 301  # still normalized first
    # Released by deleting its manifest, as the README says.
    s3.delete_object(Bucket=BUCKET, Key=".serverless-pypi/projects/other-pkg.json")
    reply = get("/simple/other-pkg/")
    assert reply.status == 302
    assert reply.headers["Location"] == "https://pypi.org/simple/other-pkg/"


@pytest.fixture
def fallback(get: Get) -> str:
    get.configure(fallback_index_url="https://pypi.org/simple/")
    return "https://pypi.org/simple/"


def _assert_private(reply: Reply, status: int) -> None:
    assert reply.status == status, reply.text
    assert "Location" not in reply.headers
    assert reply.headers["Cache-Control"] == "no-store"


def test_a_project_is_private_before_its_first_reindex(get: Get, s3: Any, fallback: str) -> None:
    """Uploaded, its event not handled yet: a 503 that pip and uv retry, not PyPI's project."""
    _, wheel = wheel_bytes("my-pkg", "1.0")
    s3.put_object(Bucket=BUCKET, Key=f"my-pkg/{WHEEL}", Body=wheel)
    for accept in ("text/html", PIP_ACCEPT):
        reply = get("/simple/my-pkg/", headers={"accept": accept})
        _assert_private(reply, 503)
        assert reply.headers["Retry-After"] == str(api.RETRY_AFTER)
        assert "not indexed yet" in reply.text
    # Any object in the folder counts, not only distributions.
    s3.put_object(Bucket=BUCKET, Key="secret-name/README.txt", Body=b"x")
    _assert_private(get("/simple/secret-name/"), 503)
    assert get("/simple/never-seen/").status == 302


@pytest.mark.parametrize("folder", ["Corp.Tool", "CORP_TOOL", "corp..tool", "corp-tool"])
def test_no_spelling_of_a_folder_falls_back(
    get: Get, s3: Any, storage: Any, fallback: str, folder: str
) -> None:
    """Before the first reindex, and after the derived data is lost."""

    _, wheel = wheel_bytes("corp-tool", "1.0")
    s3.put_object(Bucket=BUCKET, Key=f"{folder}/corp_tool-1.0-py3-none-any.whl", Body=wheel)
    s3.put_object(Bucket=BUCKET, Key="corp-tools/x.whl", Body=b"another project")
    _assert_private(get("/simple/corp-tool/"), 503)
    batches.rebuild(storage)
    assert get("/simple/corp-tool/").status == 200
    s3.delete_object(Bucket=BUCKET, Key=".serverless-pypi/projects/corp-tool.json")
    _assert_private(get("/simple/corp-tool/"), 503)
    assert get("/simple/corp/").status == 302


def test_a_project_stays_private_when_its_derived_data_is_lost(
    get: Get, index: Any, s3: Any, fallback: str
) -> None:
    for key in (".serverless-pypi/projects/my-pkg.json", ".serverless-pypi/index.json"):
        s3.delete_object(Bucket=BUCKET, Key=key)
    _assert_private(get("/simple/my-pkg/"), 503)


def test_a_project_whose_files_were_all_skipped_stays_private(
    get: Get, s3: Any, fallback: str
) -> None:
    _, wheel = wheel_bytes("other", "1.0")
    upload(s3, "my-pkg/other-1.0-py3-none-any.whl", wheel)  # not a file of my-pkg
    reply = get("/simple/my-pkg/")
    _assert_private(reply, 404)
    assert "could not be indexed" in reply.text


def test_a_project_being_read_is_503_until_its_files_are_indexed(
    get: Get, s3: Any, fallback: str
) -> None:
    """The reindexer claims the name before it reads the first file."""
    from serverless_pypi import indexer
    from serverless_pypi.storage import Storage, make_client

    _, wheel = wheel_bytes("my-pkg", "1.0")
    s3.put_object(Bucket=BUCKET, Key=f"my-pkg/{WHEEL}", Body=wheel)
    passed = deadlines.Deadline(at=0.0)  # no time left: nothing is read
    storage = Storage(make_client(), BUCKET)
    with pytest.raises(deadlines.OutOfTime):
        indexer.reindex_project(storage, "my-pkg", ["my-pkg"], deadline=passed)
    _assert_private(get("/simple/my-pkg/"), 503)
    indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    assert get("/simple/my-pkg/").status == 200


@pytest.mark.parametrize(
    "tag",
    [
        'W/"abc\r\nX-Injected: 1"',
        '"abc\nx"',
        'W/"\uff41\uff42\uff43"',  # fullwidth letters pass str.isalnum()
        'W/"' + "0" * 32 + '\r\n"',
        "\x00",
    ],
)
def test_client_etags_are_checked_before_they_reach_s3(get: Get, index: Any, tag: str) -> None:
    for path in (f"/simple/my-pkg/{WHEEL}.metadata", "/simple/my-pkg/", "/simple/"):
        reply = get(path, headers={"if-none-match": tag})
        assert reply.status == 200, (path, reply.text)


def test_metadata_of_an_unindexed_file_is_404(get: Get, index: Any) -> None:
    assert get(f"/simple/my-pkg/{SDIST}.metadata").status == 200
    assert get("/simple/my-pkg/my_pkg-9.9-py3-none-any.whl.metadata").status == 404
    assert get("/simple/my-pkg/notes.txt.metadata").status == 404


# -- presigned link mode ----------------------------------------------------


def test_presigned_links_mode(get: Get, index: Any) -> None:
    get.configure(link_mode="presigned", presigned_url_ttl=300)
    reply = get("/simple/my-pkg/")
    hrefs = [a["href"] for a in Anchors(reply.text).anchors]
    assert all("X-Amz-Signature=" in href and "#sha256=" in href for href in hrefs)
    assert all(_query(href.split("#")[0])["X-Amz-Expires"] == ["300"] for href in hrefs)
    # PEP 658 URLs (link + ".metadata") cannot work on a presigned URL.
    assert "data-core-metadata" not in reply.text
    assert "ETag" not in reply.headers
    assert reply.headers["Cache-Control"] == "max-age=60"
    get.configure(link_mode="presigned", presigned_url_ttl=20)
    assert get("/simple/my-pkg/").headers["Cache-Control"] == "max-age=10"


# -- the Lambda side --------------------------------------------------------


def test_named_stage_prefix_is_stripped(s3: Any, index: Any) -> None:
    reply = Reply(api.handler(http_event("/simple/my-pkg/", stage="prod"), None))
    assert reply.status == 200
    root = Reply(api.handler(http_event("/", stage="prod"), None))
    assert root.headers["Location"] == "simple/"


def test_stage_root_without_slash_redirects_inside_the_stage(s3: Any) -> None:
    event = http_event("/", stage="prod")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/prod"
    reply = Reply(api.handler(event, None))
    assert reply.status == 301
    assert reply.headers["Location"] == "./prod/simple/"


@pytest.mark.parametrize("base", ["/pypi", "/tools/pypi", "/simple", "/simple/simple"])
def test_custom_domain_base_path_is_not_part_of_the_route(s3: Any, index: Any, base: str) -> None:
    # API Gateway leaves an API mapping's base path in rawPath (and the mapping's
    # stage out of it); the route key and the proxy parameter say where the route starts.
    page = Reply(api.handler(http_event("/simple/my-pkg/", base=base, stage="live"), None))
    assert page.status == 200
    assert f'href="{WHEEL}#sha256=' in page.text
    root = Reply(api.handler(http_event("/simple/", base=base), None))
    assert root.status == 200 and "my-pkg/" in root.text
    file = Reply(api.handler(http_event(f"/simple/my-pkg/{WHEEL}", base=base), None))
    assert file.status == 302
    renamed = Reply(api.handler(http_event("/simple/My.Pkg/", base=base), None))
    assert renamed.headers["Location"] == "../my-pkg/"
    no_slash = Reply(api.handler(http_event("", base=base), None))
    leaf = base.rpartition("/")[2]
    assert no_slash.headers["Location"] == f"./{leaf}/simple/"
    with_slash = Reply(api.handler(http_event("/", base=base), None))
    assert with_slash.headers["Location"] == "simple/"


def test_proxy_route_with_an_encoded_or_empty_proxy(s3: Any, index: Any) -> None:
    encoded = http_event("/simple/my%2Dpkg/", base="/pypi")
    assert encoded["pathParameters"] == {"proxy": "my-pkg/"}
    assert Reply(api.handler(encoded, None)).status == 200
    # "/simple/" matched by the proxy route, with an empty proxy.
    event = http_event("/simple/my-pkg/", base="/simple")
    event["rawPath"] = "/simple/simple/"
    event["pathParameters"] = {"proxy": ""}
    reply = Reply(api.handler(event, None))
    assert reply.status == 200 and "my-pkg/" in reply.text


def test_a_huge_path_of_route_prefixes_is_refused(s3: Any) -> None:
    event = http_event("/simple/x/")
    event["rawPath"] = "/simple/" * 100_000 + "x/"
    assert Reply(api.handler(event, None)).status == 414


@pytest.mark.parametrize("leaf", ["..", ".", "a:b", "a%0d%0aSet-Cookie:x", "a" * 200, "pypi?x=1"])
def test_root_redirect_never_repeats_an_odd_segment(s3: Any, leaf: str) -> None:
    event = http_event("/")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/{leaf}"
    reply = Reply(api.handler(event, None))
    assert reply.status == 301
    assert reply.headers["Location"] == "simple/"


def test_one_s3_request_per_page_and_one_head_per_file_link(get: Get, index: Any) -> None:
    def count(path: str, **headers: str) -> int:
        before = get.reader.requests
        get(path, headers=headers)
        return get.reader.requests - before

    assert count("/simple/") == 1
    assert count("/simple/my-pkg/", accept=PIP_ACCEPT) == 1
    assert count("/simple/my-pkg/", accept="text/html") == 1
    # A file link: a HEAD of the project's manifest (is it quarantined?), then for
    # core metadata its GET; a download is a redirect, never a read of the file.
    assert count(f"/simple/my-pkg/{WHEEL}.metadata") == 2
    assert count(f"/simple/my-pkg/{WHEEL}") == 1
    assert count("/simple/My.Pkg/") == 0
    # A name the bucket never held: its manifest, then the folders under its first
    # letter in each case ("n", "N"), as no spelling of its folder may fall back.
    assert count("/simple/nope/") == 3
    # A name that starts with a digit: one listing.
    assert count("/simple/3to4/") == 2


def test_the_s3_reader_is_made_once_per_container(
    s3: Any, index: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real = s3http.S3Reader.from_env

    def counting(bucket: str) -> s3http.S3Reader:
        made.append(bucket)
        return real(bucket)

    monkeypatch.setattr(s3http.S3Reader, "from_env", counting)
    for _ in range(3):
        api.handler(http_event("/simple/my-pkg/"), None)
    assert made == [BUCKET]


def test_one_log_line_per_request_without_secrets(
    get: Get, index: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="serverless_pypi"):
        caplog.clear()
        get(f"/simple/my-pkg/{WHEEL}", headers={"authorization": "Basic c2VjcmV0OnNlY3JldA=="})
    lines = [r.getMessage() for r in caplog.records if r.name == "serverless_pypi.api"]
    assert len(lines) == 1
    method, path, status, elapsed = lines[0].split(" ")
    assert (method, path, status) == ("GET", f"/simple/my-pkg/{WHEEL}", "302")
    assert elapsed.endswith("ms")
    logged = caplog.text
    for secret in ("X-Amz-Signature", "X-Amz-Security-Token", "c2VjcmV0", "testing"):
        assert secret not in logged


def test_a_missing_bucket_setting_is_a_clear_500(
    s3: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("S3_BUCKET")
    with caplog.at_level(logging.ERROR):
        reply = Reply(api.handler(http_event("/simple/"), None))
    assert reply.status == 500
    assert "S3_BUCKET is not set" in caplog.text


def test_storage_errors_are_502(get: Get) -> None:
    get.app = get.make("no-such-bucket-here")
    assert get("/simple/x/").status == 502


def test_malformed_events_are_400(s3: Any) -> None:
    event = http_event("/simple/")
    event["body"], event["isBase64Encoded"] = "!!!not base64!!!", True
    assert Reply(api.handler(event, None)).status == 400
    assert Reply(api.handler({"rawPath": "/simple/"}, None)).status == 400
    assert Reply(api.handler(None, None)).status == 400
    assert Reply(api.handler(json.loads("[]"), None)).status == 400


@pytest.mark.parametrize(
    ("value", "level"), [("debug", 10), ("WARNING", 30), ("", 20), ("loud", 20)]
)
def test_log_level_from_the_environment(value: str, level: int) -> None:
    from serverless_pypi.config import log_level

    assert log_level({"LOG_LEVEL": value}) == level


# -- the older module's layout: the index at the API's root ----------------------


def test_the_index_at_the_api_root_as_the_older_module_serves_it(get: Get, index: Any) -> None:
    from serverless_pypi.layout import ROOT_ROUTE_KEYS

    get.configure(index_path="/")

    def root(path: str, **kwargs: Any) -> Reply:
        return Reply(get.app(http_event(path, route_keys=ROOT_ROUTE_KEYS, **kwargs), None))

    page = root("/")
    assert page.status == 200
    assert [a["href"] for a in Anchors(page.text).anchors] == ["my-pkg/", "other-pkg/"]
    project = root("/my-pkg/", headers={"accept": PIP_ACCEPT})
    assert project.status == 200 and project.json()["name"] == "my-pkg"
    assert root("/my-pkg").headers["Location"] == "my-pkg/"
    assert root("/My.Pkg/").headers["Location"] == "../my-pkg/"
    assert "X-Amz-Signature=" in root(f"/my-pkg/{WHEEL}").headers["Location"]
    assert root(f"/my-pkg/{WHEEL}.metadata").status == 200
    assert root("/simple/").status == 404  # no /simple/ in this layout
    # On a named stage, "/prod" redirects inside it so relative links resolve.
    staged = root("/", stage="prod")
    assert staged.status == 200
    event = http_event("/", stage="prod", route_keys=ROOT_ROUTE_KEYS)
    event["rawPath"] = "/prod"
    assert Reply(get.app(event, None)).headers["Location"] == "./prod/"


def test_the_index_path_setting_is_checked() -> None:
    from serverless_pypi.config import ApiSettings, ConfigError

    assert ApiSettings.from_env({"S3_BUCKET": "b", "INDEX_PATH": "/"}).index_prefix == ""
    assert ApiSettings.from_env({"S3_BUCKET": "b"}).index_prefix == "simple"
    with pytest.raises(ConfigError, match="INDEX_PATH"):
        ApiSettings.from_env({"S3_BUCKET": "b", "INDEX_PATH": "/pypi/"})
