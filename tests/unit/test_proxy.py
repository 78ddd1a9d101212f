"""The api in proxy mode, on moto S3, against the stand-in upstream on loopback:
pages, cooldown, policy, links, kept copies, an upstream that fails or lies."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from serverless_pypi import api, keeper, upstreampolicy
from serverless_pypi.config import ApiSettings
from serverless_pypi.keeper import ThreadKeeper
from serverless_pypi.layout import UPSTREAM_POLICY, upstream_file_key, upstream_page_key
from serverless_pypi.negotiate import JSON_V1
from serverless_pypi.proxy import KeepJob, Proxy
from serverless_pypi.s3http import S3Reader
from serverless_pypi.storage import Storage
from serverless_pypi.upstreampolicy import Rule, parse_spec
from tests.builders import Clock, wheel_bytes
from tests.clients import PIP_ACCEPT
from tests.conftest import BUCKET, Reply, http_event
from tests.moto_bucket import notify
from tests.upstream_stub import StubFile, Upstream, days_ago, upstream_index

OLD, YOUNG = "six-1.0-py3-none-any.whl", "six-2.0-py3-none-any.whl"


class Index:
    def __init__(self, moto_url: str, up: Upstream, s3: Any) -> None:
        self.up, self.s3, self.clock = up, s3, Clock()
        settings = ApiSettings.from_options(
            BUCKET, fallback_index_url=up.index_url, upstream_mode="proxy", upstream_cooldown="7d"
        )
        self.reader = S3Reader(BUCKET, "us-east-1", moto_url)
        self.keeper = ThreadKeeper(boto3.client("s3", region_name="us-east-1"), BUCKET)
        self.proxy = Proxy(settings, self.reader, self.keeper, clock=self.clock)
        self.app = api.App(settings, self.reader, self.proxy)

    def __call__(self, path: str, method: str = "GET", accept: str = PIP_ACCEPT) -> Reply:
        return Reply(self.app(http_event(path, method, headers={"accept": accept}), None))

    def kept(self) -> None:
        for thread in self.keeper.threads:
            thread.join(timeout=30)


@pytest.fixture
def index(s3: Any, moto_url: str) -> Iterator[Index]:
    up = Upstream()
    up.add(
        "six",
        StubFile(OLD, wheel_bytes("six", "1.0")[1], days_ago(30), ">=3.8"),
        StubFile(YOUNG, wheel_bytes("six", "2.0")[1], days_ago(1)),
    )
    with upstream_index(up):
        yield Index(moto_url, up, s3)


def files_of(reply: Reply) -> list[str]:
    assert reply.status == 200, reply.text
    return [f["filename"] for f in reply.json()["files"]]


def test_a_proxied_page_is_the_upstreams_after_the_cooldown_in_both_formats(
    index: Index,
) -> None:
    page = index("/simple/six/")
    assert page.headers["Content-Type"] == JSON_V1
    assert page.headers["Cache-Control"] == "max-age=30"  # + the policy's 30 s: a minute
    (view,) = page.json()["files"]
    assert view["filename"] == OLD and view["url"] == OLD  # a link to this API
    assert view["requires-python"] == ">=3.8" and "upload-time" in view and view["size"] > 0
    assert view["hashes"]["sha256"] == hashlib.sha256(index.up.file(OLD) or b"").hexdigest()
    html = index("/simple/six/", accept="text/html").text
    assert f'href="{OLD}#sha256=' in html and YOUNG not in html
    assert 'data-requires-python="&gt;=3.8"' in html


def test_within_the_ttl_a_page_costs_no_upstream_request(index: Index) -> None:
    index("/simple/six/")
    asked = len(index.up.seen)
    before = index.reader.requests
    for _ in range(3):
        assert files_of(index("/simple/six/")) == [OLD]
    assert len(index.up.seen) == asked
    # Per page: the manifest's GET (a private name is told first), then the kept
    # upstream page's (a 304: this container holds it); the policy was read once
    # within its TTL, and the folders were listed when the page was fetched.
    assert index.reader.requests - before == 3 * 2
    index.clock.now += 301  # past upstream_page_ttl: one conditional request upstream
    assert files_of(index("/simple/six/")) == [OLD]
    assert len(index.up.seen) == asked + 1


def test_a_private_name_is_never_proxied(index: Index, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="Six/six-0.1-py3-none-any.whl", Body=b"private")
    assert index("/simple/six/").status == 503  # held in a spelling, not indexed yet
    private = index(f"/simple/six/{OLD}")
    assert index.up.origin not in private.headers.get("Location", "")
    assert index.up.seen == []


def test_a_name_that_becomes_private_is_not_proxied_past_its_manifest_or_the_ttl(
    index: Index, s3: Any
) -> None:
    """Within the page's TTL the folders are not listed again: a name the bucket comes
    to hold is told by its manifest, which the reindexer writes within seconds of
    the first upload (claim writes it at once); a folder without one (a reindexer
    that failed) is private again at the page's revalidation."""
    assert files_of(index("/simple/six/")) == [OLD]
    s3.put_object(Bucket=BUCKET, Key="Six/six-0.1-py3-none-any.whl", Body=b"private")
    index.clock.now += 301
    assert index("/simple/six/").status == 503  # held in a spelling, not indexed yet
    assert index.up.origin not in index(f"/simple/six/{OLD}").headers.get("Location", "")
    s3.delete_object(Bucket=BUCKET, Key="Six/six-0.1-py3-none-any.whl")
    assert files_of(index("/simple/six/")) == [OLD]
    name, data = wheel_bytes("six", "0.2")
    s3.put_object(Bucket=BUCKET, Key=f"six/{name}", Body=data)
    notify(("ObjectCreated:Put", f"six/{name}"))
    assert files_of(index("/simple/six/")) == [name]  # its manifest: at once
    assert index.up.origin not in index(f"/simple/six/{OLD}").headers.get("Location", "")


def test_a_private_file_link_costs_one_head_in_proxy_mode(index: Index, s3: Any) -> None:
    """As in redirect mode: the HEAD of the manifest tells a private project (and a
    quarantined one) at once; no listing, no upstream page."""
    name, data = wheel_bytes("mine", "1.0")
    s3.put_object(Bucket=BUCKET, Key=f"mine/{name}", Body=data)
    notify(("ObjectCreated:Put", f"mine/{name}"))
    before = index.reader.requests
    link = index(f"/simple/mine/{name}")
    assert link.status == 302 and f"/mine/{name}" in link.headers["Location"]
    assert index(f"/simple/mine/{name}.metadata").status == 200
    assert index.reader.requests - before == 1 + 2  # the link's HEAD; the metadata's HEAD, GET
    assert index.up.seen == []


def test_a_left_out_file_is_a_404_and_an_offered_one_is_kept(index: Index, s3: Any) -> None:
    assert index(f"/simple/six/{YOUNG}").status == 404
    first = index(f"/simple/six/{OLD}")
    assert first.status == 302 and first.headers["Location"] == f"{index.up.origin}/files/{OLD}"
    index.kept()
    kept = s3.get_object(Bucket=BUCKET, Key=upstream_file_key("six", OLD))
    assert kept["Body"].read() == index.up.file(OLD)
    second = index(f"/simple/six/{OLD}")
    assert second.status == 302 and upstream_file_key("six", OLD) in second.headers["Location"]
    assert index(f"/simple/six/{OLD}", "HEAD").headers["Location"] != second.headers["Location"]


def test_the_upstream_down_serves_the_last_page_and_the_kept_copies(index: Index) -> None:
    index(f"/simple/six/{OLD}")
    index.kept()
    index.up.down = True
    index.clock.now += 3600
    assert files_of(index("/simple/six/")) == [OLD]
    assert "files/six/" in index(f"/simple/six/{OLD}").headers["Location"]
    stored = index.s3.get_object(Bucket=BUCKET, Key=upstream_page_key("six"))["Body"].read()
    assert "503" in json.loads(gzip.decompress(stored))["error"]
    assert index("/simple/seven/").status == 502  # never fetched: nothing to fall back on


def test_a_removal_upstream_is_followed(index: Index) -> None:
    assert files_of(index("/simple/six/")) == [OLD]
    index.up.projects["six"] = index.up.projects["six"][1:]
    index.clock.now += 3600
    assert files_of(index("/simple/six/")) == []
    assert index(f"/simple/six/{OLD}").status == 404
    del index.up.projects["six"]
    index.clock.now += 3600
    assert index("/simple/six/").status == 404


def put_policy(s3: Any, deny: tuple[str, ...] = (), allow: tuple[str, ...] = ()) -> None:
    stored = upstreampolicy.Policy.of(
        [Rule(parse_spec(s)) for s in deny], [Rule(parse_spec(s)) for s in allow]
    )
    s3.put_object(Bucket=BUCKET, Key=UPSTREAM_POLICY, Body=upstreampolicy.encode(stored))


def test_the_policy_is_read_again_within_a_minute(index: Index, s3: Any) -> None:
    assert files_of(index("/simple/six/")) == [OLD]
    put_policy(s3, deny=("six<2",), allow=("six==2.0",))
    index.clock.now += 60
    assert files_of(index("/simple/six/")) == [YOUNG]
    s3.put_object(Bucket=BUCKET, Key=UPSTREAM_POLICY, Body=b"{broken")
    index.clock.now += 60
    assert index("/simple/six/").status == 503  # fail closed


def test_a_hostile_upstream_gets_a_clear_error(index: Index) -> None:
    index.up.raw["/simple/seven/"] = (
        200,
        JSON_V1,
        json.dumps({"meta": {"api-version": "1.1"}, "name": "six", "files": []}).encode(),
    )
    answer = index("/simple/seven/")
    assert answer.status == 502 and "did not answer" in answer.text


def test_the_keeper_never_keeps_bytes_of_another_hash(s3: Any, index: Index) -> None:
    storage = Storage(boto3.client("s3", region_name="us-east-1"), BUCKET)
    job = KeepJob("six", OLD, f"{index.up.origin}/files/{OLD}", "0" * 64)
    assert keeper.keep_logged(storage.client, BUCKET, job) is False
    assert storage.head(upstream_file_key("six", OLD)) is None
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    with pytest.raises(keeper.KeepError):
        keeper.job_from_event({**job.to_event(), "filename": "../../six-1.0-py3-none-any.whl"})
    good = KeepJob("six", OLD, job.url, hashlib.sha256(index.up.file(OLD) or b"").hexdigest())
    assert keeper.keep(storage.client, BUCKET, good) is True


def test_status_reports_the_upstream_side(index: Index, s3: Any) -> None:
    from serverless_pypi.cli.upstream import status_lines, upstream_status

    storage = Storage(boto3.client("s3", region_name="us-east-1"), BUCKET)
    assert upstream_status(storage) is None  # never proxied: nothing to say
    index(f"/simple/six/{OLD}")
    index.kept()
    put_policy(s3, deny=("six==1.0",))
    report = upstream_status(storage, index.clock.now)
    assert report is not None
    assert (report.projects_cached, report.files_kept) == (1, 1)
    assert report.bytes_kept == len(index.up.file(OLD) or b"")
    assert (report.held_by_cooldown, report.held_by_policy) == (1, 1)
    index.up.down = True
    index.clock.now += 3600
    index("/simple/six/")
    report = upstream_status(storage, index.clock.now)
    assert report is not None and "six: the upstream answered 503" in (report.last_error or "")
    assert any("last error" in line for line in status_lines(report))


def test_status_says_why_an_html_only_upstream_holds_everything_back(index: Index) -> None:
    from serverless_pypi.cli.upstream import status_lines, upstream_status

    index.up.html_only = True
    assert files_of(index("/simple/six/")) == []  # no upload times: the cooldown fails closed
    storage = Storage(boto3.client("s3", region_name="us-east-1"), BUCKET)
    report = upstream_status(storage, index.clock.now)
    assert report is not None and report.html_only == ["six"] and report.held_by_cooldown == 2
    assert any("HTML only" in line for line in status_lines(report))


def test_a_slow_upstream_is_an_error_and_the_last_page_is_served(index: Index) -> None:
    assert files_of(index("/simple/six/")) == [OLD]
    index.up.delay = 6.0  # more than upstream.TIMEOUT (4 s), less than the api's 10 s
    index.clock.now += 3600
    started = time.monotonic()
    assert files_of(index("/simple/six/")) == [OLD]
    assert time.monotonic() - started < 6.0


def test_a_page_too_large_is_an_error(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    from serverless_pypi import upstream

    monkeypatch.setattr(upstream, "MAX_PAGE", 100)
    answer = index("/simple/six/")
    assert answer.status == 502


def test_a_file_coming_out_of_the_cooldown_appears_on_a_page_a_container_rendered(
    index: Index,
) -> None:
    """The page a warm container keeps rendered holds until the first held file passes."""
    almost = "six-3.0-py3-none-any.whl"
    index.up.add("six", StubFile(almost, wheel_bytes("six", "3.0")[1], days_ago(7 - 60 / 86_400)))
    assert files_of(index("/simple/six/")) == [OLD]
    assert files_of(index("/simple/six/")) == [OLD]  # rendered once, served again
    index.clock.now += 120  # within the page TTL: the kept page, no upstream request
    asked = len(index.up.seen)
    assert files_of(index("/simple/six/")) == [OLD, almost]
    assert len(index.up.seen) == asked


def test_a_keeper_out_of_time_aborts_its_upload(s3: Any, index: Index) -> None:
    storage = Storage(boto3.client("s3", region_name="us-east-1"), BUCKET)
    data = index.up.file(OLD) or b""
    job = KeepJob("six", OLD, f"{index.up.origin}/files/{OLD}", hashlib.sha256(data).hexdigest())
    assert keeper.keep_logged(storage.client, BUCKET, job, deadline=time.monotonic() - 1) is False
    assert storage.head(upstream_file_key("six", OLD)) is None
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
