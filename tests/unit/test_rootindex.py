"""The root index (``.serverless-pypi/index.json``): its bytes, its checks, and what
the api answers when the stored one is malformed."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_pypi import reindex, rootindex, simple
from serverless_pypi.layout import ROOT_JSON
from tests.builders import wheel_bytes
from tests.conftest import BUCKET, Get, s3_event

STORED = b'{"meta":{"api-version":"1.1"},"projects":[{"name":"my-pkg"},{"name":"other-pkg"}]}'


def test_the_stored_bytes_are_the_json_root_page() -> None:
    names = ["my-pkg", "other-pkg"]
    assert rootindex.encode(names) == STORED == simple.root_json(names).encode()
    assert rootindex.encode([]) == b'{"meta":{"api-version":"1.1"},"projects":[]}'


def test_decode_reads_what_encode_wrote() -> None:
    index = rootindex.decode(STORED)
    assert index is not None
    assert rootindex.names(index) == ["my-pkg", "other-pkg"]
    assert index["meta"]["api-version"] == "1.1"
    # Another API version is still a root index: only its shape is checked.
    older = rootindex.decode(b'{"meta":{"api-version":"1.0"},"projects":[]}')
    assert older is not None and rootindex.names(older) == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[" * 100_000,  # too deep for the parser
        b"null",
        b'["my-pkg"]',
        b'{"projects":[{"name":"my-pkg"}]}',  # no meta
        b'{"meta":{},"projects":[]}',
        b'{"meta":"1.1","projects":[]}',
        b'{"meta":{"api-version":"1.1"}}',
        b'{"meta":{"api-version":"1.1"},"projects":{"name":"my-pkg"}}',
        b'{"meta":{"api-version":"1.1"},"projects":["my-pkg"]}',
        b'{"meta":{"api-version":"1.1"},"projects":[{}]}',
        b'{"meta":{"api-version":"1.1"},"projects":[{"name":7}]}',
        b'{"meta":{"api-version":"1.1"},"projects":[{"name":"ok"},{"name":null}]}',
    ],
)
def test_anything_malformed_is_none(body: bytes) -> None:
    assert rootindex.decode(body) is None


@pytest.mark.parametrize("accept", ["text/html", "application/vnd.pypi.simple.v1+json"])
def test_a_malformed_root_index_is_a_503_until_it_is_rewritten(
    s3: Any, get: Get, accept: str, caplog: pytest.LogCaptureFixture
) -> None:
    _, data = wheel_bytes("my-pkg", "1.0")
    s3.put_object(Bucket=BUCKET, Key="my-pkg/my_pkg-1.0-py3-none-any.whl", Body=data)
    reindex.handler(s3_event(("ObjectCreated:Put", "my-pkg/my_pkg-1.0-py3-none-any.whl")), None)
    s3.put_object(Bucket=BUCKET, Key=ROOT_JSON, Body=b'{"projects": "truncated')

    broken = get("/simple/", headers={"accept": accept})
    # Never an empty list (a cacheable page saying the index has no projects), never a 500.
    assert broken.status == 503
    assert broken.headers["Cache-Control"] == "no-store"
    assert "ETag" not in broken.headers
    assert "serverless-pypi reindex" in broken.text
    assert "malformed root index" in caplog.text
    assert get("/simple/my-pkg/", headers={"accept": accept}).status == 200

    _, other = wheel_bytes("other-pkg", "2.0")
    s3.put_object(Bucket=BUCKET, Key="other-pkg/other_pkg-2.0-py3-none-any.whl", Body=other)
    reindex.handler(
        s3_event(("ObjectCreated:Put", "other-pkg/other_pkg-2.0-py3-none-any.whl")), None
    )
    healed = get("/simple/", headers={"accept": accept})
    assert healed.status == 200
    assert "other-pkg" in healed.text
