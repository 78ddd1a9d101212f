"""Reindexing: a project after one new file (by its event, and by a listing as
before), and a whole bucket from nothing."""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any

from bucket import BUCKET, PROJECT, RequestCounter, counted, fresh_bucket, s3_backend, seed_project
from tests.builders import wheel_bytes

from serverless_pypi import batch as batches
from serverless_pypi import indexer, notifications, rootwriter
from serverless_pypi.storage import Storage, make_client


def bench_add_one(sizes: list[int]) -> list[dict[str, Any]]:
    """One wheel added to a project of each size, the way the reindexer handles its
    event now (the incremental path) and the way it did before (a listing of the
    project, then the root index), each on a freshly seeded project."""
    rows = []
    for size in sizes:
        for path, handle in (("event", _by_event), ("listing", _by_listing)):
            fresh_bucket()
            seed_project(size)
            client = make_client()
            storage = Storage(client, BUCKET)
            counts = RequestCounter(client)
            name, data = wheel_bytes(PROJECT, "999.0", requires_python=">=3.9")
            key = f"{PROJECT}/{name}"
            etag = client.put_object(Bucket=BUCKET, Key=key, Body=data)["ETag"]
            started = time.perf_counter()
            inspected, cost = counted(counts, partial(handle, storage, key, etag, len(data)))
            elapsed = (time.perf_counter() - started) * 1000
            rows.append(
                {
                    "files": size,
                    "path": path,
                    "ms": round(elapsed, 1),
                    "s3_requests": cost.requests,
                    "s3_bytes_read": cost.bytes_read,
                    "new_file_bytes": len(data),
                    "files_inspected": inspected,
                }
            )
        print(f"  add one: {size} files done", file=sys.stderr, flush=True)
    return rows


def _by_event(storage: Storage, key: str, etag: str, size: int) -> int:
    """The reindex handler, given the S3 record of the new file (ETag and size)."""
    record = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": BUCKET},
            "object": {"key": key, "eTag": etag.strip('"'), "size": size},
        },
    }
    batch = batches.apply_changes(storage, notifications.changes({"Records": [record]}, BUCKET))
    [result] = batch.results
    assert result.files and not result.root, "the event took the listing path"
    return result.inspected


def _by_listing(storage: Storage, key: str, etag: str, size: int) -> int:
    """What the reindexer did for any event before: list the project, then the root."""
    result = indexer.reindex_project(storage, PROJECT, [PROJECT])
    rootwriter.update_root(storage, {PROJECT: result.files > 0})
    return result.inspected


def bench_rebuild(sizes: list[int]) -> list[dict[str, Any]]:
    """A bucket of ``size`` projects of one wheel each, indexed from nothing."""
    rows = []
    for size in sizes:
        fresh_bucket()
        backend = s3_backend()
        for index in range(size):
            project = f"project-{index:05d}"
            name, data = wheel_bytes(project, "1.0", requires_python=">=3.9")
            backend.put_object(BUCKET, f"{project}/{name}", data)
        client = make_client()
        counts = RequestCounter(client)
        started = time.perf_counter()
        batch, cost = counted(counts, partial(batches.rebuild, Storage(client, BUCKET)))
        elapsed = time.perf_counter() - started
        assert not batch.failures and batch.files == size
        rows.append(
            {
                "projects": size,
                "seconds": round(elapsed, 2),
                "s3_requests": cost.requests,
                "per_project_ms": round(elapsed * 1000 / size, 2),
            }
        )
        print(f"  rebuild: {size} projects done", file=sys.stderr, flush=True)
    return rows
