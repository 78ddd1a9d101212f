"""Many projects at once: the rebuild of a bucket filled by another tool (moto S3)."""

from __future__ import annotations

import json
from typing import Any

from serverless_pypi import batch as batches
from serverless_pypi import indexer
from serverless_pypi.layout import (
    ROOT_HTML,
    manifest_key,
)
from serverless_pypi.storage import Storage
from tests.builders import sdist_bytes, wheel_bytes
from tests.moto_bucket import (
    HookedStorage,
    files,
    manifest,
    put,
    read,
    root,
)


def test_rebuild_indexes_a_bucket_filled_by_another_tool(s3: Any, storage: Storage) -> None:
    # The older module's layout: folders of distributions and its own index.html.
    put(s3, "index.html", b'<a href="fizz">fizz</a><br><a href="Buzz_Pkg">Buzz_Pkg</a>')
    for folder, project, version in [
        ("fizz", "fizz", "0.1"),
        ("fizz", "fizz", "0.2"),
        ("Buzz_Pkg", "buzz-pkg", "1.0"),
    ]:
        name, data = sdist_bytes(project, version)
        put(s3, f"{folder}/{name}", data)
    put(s3, "secret.pem", b"-----BEGIN PRIVATE KEY-----")
    put(s3, "-bad-/x-1.0.tar.gz", b"")
    # A manifest left from a project that is no longer in the bucket.
    stale = {"schema": 1, "name": "gone", "folders": ["gone"], "files": [{"filename": "x"}]}
    put(s3, manifest_key("gone"), json.dumps(stale).encode())
    seen: list[str] = []
    batch = batches.rebuild(
        storage, progress=lambda done, total, result: seen.append(result.project)
    )
    assert not batch.failures
    assert sorted(seen) == ["buzz-pkg", "fizz", "gone"]
    assert batch.files == 3
    assert root(s3) == ["buzz-pkg", "fizz"]
    assert sorted(files(s3, "fizz")) == ["fizz-0.1.tar.gz", "fizz-0.2.tar.gz"]
    assert manifest(s3, "gone")["files"] == []
    html = read(s3, ROOT_HTML)
    assert b'href="buzz-pkg/"' in html and b"Buzz_Pkg" not in html
    # A second rebuild reads nothing again.
    again = batches.rebuild(storage)
    assert sum(result.inspected for result in again.results) == 0


def test_a_rebuild_racing_the_lambda_reindexer_loses_nothing(s3: Any, storage: Storage) -> None:
    """The rebuild lists the bucket, then the Lambda indexes a new upload first.

    The rebuild knew the project had no manifest; its write must not replace
    the one the Lambda wrote meanwhile with its older view.
    """
    first, data1 = wheel_bytes("my-pkg", "1.0")
    second, data2 = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{first}", data1)

    def lambda_reindexer() -> None:
        put(s3, f"my-pkg/{second}", data2)
        indexer.reindex_project(storage, "my-pkg", ["my-pkg"])

    racer = HookedStorage(storage, manifest_key("my-pkg"), lambda_reindexer)
    batch = batches.rebuild(racer)
    assert not batch.failures
    assert sorted(files(s3, "my-pkg")) == [first, second]
    assert root(s3) == ["my-pkg"]
