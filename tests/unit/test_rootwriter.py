"""The root index written by racing writers, and rewritten when malformed (moto S3)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from serverless_pypi import batch as batches
from serverless_pypi import indexer, rootwriter
from serverless_pypi.layout import (
    ROOT_HTML,
    ROOT_JSON,
)
from serverless_pypi.storage import Storage
from tests.builders import wheel_bytes
from tests.moto_bucket import (
    HookedStorage,
    put,
    read,
    reindex,
    root,
)


def test_racing_root_updates_keep_both_projects(s3: Any, storage: Storage) -> None:
    for project in ("alpha", "beta"):
        name, data = wheel_bytes(project, "1.0")
        put(s3, f"{project}/{name}", data)
        indexer.reindex_project(storage, project, [project])

    racer = HookedStorage(
        storage, ROOT_HTML, lambda: rootwriter.update_root(storage, {"beta": True})
    )
    rootwriter.update_root(racer, {"alpha": True})
    assert root(s3) == ["alpha", "beta"]
    assert b"alpha/" in read(s3, ROOT_HTML) and b"beta/" in read(s3, ROOT_HTML)


def test_a_malformed_root_index_is_rewritten(
    s3: Any, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    for project in ("alpha", "beta"):
        name, data = wheel_bytes(project, "1.0")
        put(s3, f"{project}/{name}", data)
        reindex(storage, project)
    put(s3, ROOT_JSON, b'{"meta":{"api-version":"1.1"},"projects":[{"name":7}]}')
    with caplog.at_level(logging.WARNING, logger="serverless_pypi.indexer"):
        rootwriter.update_root(storage, {"beta": True})
    assert "unreadable root index: rewriting it" in caplog.text
    assert root(s3) == ["beta"]  # what the event named; the others come back with a rebuild
    batches.rebuild(storage)
    assert root(s3) == ["alpha", "beta"]
