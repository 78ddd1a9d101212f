"""Faults in S3: transient ones are retried, persistent ones fail loudly and lose nothing."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from serverless_pypi import api, manifest, reindex, s3http
from serverless_pypi.layout import manifest_key
from serverless_pypi.manifest import decode
from serverless_pypi.retry import Backoff
from tests.builders import wheel_bytes
from tests.conftest import BUCKET, Reply, http_event, s3_event

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
INTERNAL = (
    b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body

    def read(self, *_: Any) -> bytes:
        return self.body


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda seconds: None))
    monkeypatch.setattr(s3http.S3Reader, "backoff", Backoff(sleep=lambda seconds: None))


def inject(client: Any, operation: str, status: int, body: bytes, times: int) -> list[int]:
    """Make the next ``times`` calls of ``operation`` fail with ``status``; count them."""
    failed: list[int] = []

    def fail(request: Any, **_: Any) -> AWSResponse | None:
        if len(failed) >= times:
            return None
        failed.append(status)
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/xml"
        return AWSResponse(request.url, status, headers, _Raw(body))

    client.meta.events.register_first(f"before-send.s3.{operation}", fail)
    return failed


def upload(s3: Any, version: str) -> str:
    name, data = wheel_bytes("my-pkg", version)
    s3.put_object(Bucket=BUCKET, Key=f"my-pkg/{name}", Body=data)
    return name


def files(s3: Any) -> list[str]:
    body = s3.get_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))["Body"].read()
    return [entry["filename"] for entry in _decoded(body)["files"]]


@pytest.mark.parametrize(
    ("operation", "status", "body"),
    [
        ("GetObject", 503, SLOW_DOWN),
        ("PutObject", 503, SLOW_DOWN),
        ("ListObjectsV2", 500, INTERNAL),
        ("HeadObject", 500, b""),
    ],
)
def test_transient_errors_are_retried(s3: Any, operation: str, status: int, body: bytes) -> None:
    name = upload(s3, "1.0")
    client = reindex.default_reindexer().storage.client
    failed = inject(client, operation, status, body, times=3)
    reindex.handler(s3_event(("ObjectCreated:Put", f"my-pkg/{name}")), None)
    assert failed == [status] * 3
    assert files(s3) == [name]


def test_a_persistent_error_fails_the_invocation_and_keeps_the_last_good_index(
    s3: Any,
) -> None:
    first = upload(s3, "1.0")
    reindex.handler(s3_event(("ObjectCreated:Put", f"my-pkg/{first}")), None)
    before = Reply(api.handler(http_event("/simple/my-pkg/"), None))
    second = upload(s3, "2.0")
    client = reindex.default_reindexer().storage.client
    failed = inject(client, "PutObject", 500, INTERNAL, times=1000)
    with pytest.raises(RuntimeError, match="could not reindex my-pkg"):
        reindex.handler(s3_event(("ObjectCreated:Put", f"my-pkg/{second}")), None)
    assert len(failed) >= 6  # every attempt botocore makes
    # The manifest is written whole or not at all: the last good one stays.
    assert files(s3) == [first]
    after = Reply(api.handler(http_event("/simple/my-pkg/"), None))
    assert after.status == 200
    assert after.body == before.body
    # Once S3 recovers, the retried event (Lambda retries, or the DLQ redrive) heals.
    failed.extend([0] * 1000)  # the injector stops failing
    reindex.handler(s3_event(("ObjectCreated:Put", f"my-pkg/{second}")), None)
    assert files(s3) == [first, second]


def _flaky_send(reader: s3http.S3Reader, statuses: list[int]) -> Callable[..., Any]:
    real = reader._send

    def send(method: str, path: str, headers: Any) -> Any:
        if statuses:
            status = statuses.pop(0)
            reader.requests += 1
            return status, {}, SLOW_DOWN
        return real(method, path, headers)

    return send


def test_the_api_retries_a_slow_down(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    name = upload(s3, "1.0")
    reindex.handler(s3_event(("ObjectCreated:Put", f"my-pkg/{name}")), None)
    reader = api.default_app().storage
    assert isinstance(reader, s3http.S3Reader)
    monkeypatch.setattr(reader, "_send", _flaky_send(reader, [503, 500]))
    reply = Reply(api.handler(http_event("/simple/my-pkg/"), None))
    assert reply.status == 200
    assert name in reply.text


def test_the_api_answers_502_when_s3_keeps_failing(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = api.default_app().storage
    assert isinstance(reader, s3http.S3Reader)
    monkeypatch.setattr(reader, "_send", _flaky_send(reader, [503] * 10))
    reply = Reply(api.handler(http_event("/simple/my-pkg/"), None))
    assert reply.status == 502
    assert "try again" in reply.text


def _decoded(body: bytes) -> manifest.Manifest:
    found = decode(body)
    assert found is not None, body[:200]
    return found
