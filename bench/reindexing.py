"""Reindexing: a project after one new file, and a whole bucket from nothing."""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any

from bucket import BUCKET, PROJECT, RequestCounter, counted, fresh_bucket, s3_backend, seed_project
from tests.builders import wheel_bytes

from serverless_pypi import indexer
from serverless_pypi.storage import Storage, make_client


def bench_add_one(sizes: list[int]) -> list[dict[str, Any]]:
    """One wheel added to a project of each size: the project and the root reindexed."""
    rows = []
    for size in sizes:
        fresh_bucket()
        seed_project(size)
        client = make_client()
        storage = Storage(client, BUCKET)
        counts = RequestCounter(client)
        name, data = wheel_bytes(PROJECT, "999.0", requires_python=">=3.9")
        client.put_object(Bucket=BUCKET, Key=f"{PROJECT}/{name}", Body=data)
        started = time.perf_counter()
        result, cost = counted(counts, partial(_reindex, storage))
        elapsed = (time.perf_counter() - started) * 1000
        rows.append(
            {
                "files": size,
                "ms": round(elapsed, 1),
                "s3_requests": cost.requests,
                "s3_bytes_read": cost.bytes_read,
                "new_file_bytes": len(data),
                "files_inspected": result.inspected,
            }
        )
        print(f"  add one: {size} files done", file=sys.stderr, flush=True)
    return rows


def _reindex(storage: Storage) -> indexer.ProjectResult:
    """What the reindexer does for a new file: its project's manifest, then the root."""
    result = indexer.reindex_project(storage, PROJECT, [PROJECT])
    indexer.update_root(storage, {PROJECT: result.files > 0})
    return result


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
        batch, cost = counted(counts, partial(indexer.rebuild, Storage(client, BUCKET)))
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
