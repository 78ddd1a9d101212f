"""`serverless-pypi status` on a bucket of many projects: how many S3 requests it
costs (one GET per project plus a listing request per thousand keys, never a read
of a distribution) and how long it takes, on moto in this process."""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any

from bucket import BUCKET, RequestCounter, counted, fresh_bucket, s3_backend

from serverless_pypi import manifest as manifests
from serverless_pypi import manifeststore, rootindex
from serverless_pypi.cli.status import build_report
from serverless_pypi.layout import ROOT_JSON, manifest_key
from serverless_pypi.storage import Storage, make_client


def _seed(projects: int) -> None:
    """``projects`` projects of one wheel each, with the manifests and root index the
    reindexer would have written (straight into moto's backend: no HTTP)."""
    backend = s3_backend()
    names = []
    for index in range(projects):
        name = f"project-{index:05d}"
        filename = f"{name.replace('-', '_')}-1.0-py3-none-any.whl"
        stored = backend.put_object(BUCKET, f"{name}/{filename}", b"x" * 64)
        entry: manifests.Entry = {
            "filename": filename,
            "key": f"{name}/{filename}",
            "version": "1.0",
            "size": 64,
            "etag": stored.etag,
            "upload-time": "2026-01-01T00:00:00.000000Z",
        }
        body, metadata = manifeststore.stored_object(manifests.new(name, [name], [entry]))
        backend.put_object(BUCKET, manifest_key(name), body).set_metadata(metadata)
        names.append(name)
    backend.put_object(BUCKET, ROOT_JSON, rootindex.encode(names))


def bench_status(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        fresh_bucket()
        _seed(size)
        client = make_client()
        counts = RequestCounter(client)
        started = time.perf_counter()
        report, cost = counted(counts, partial(build_report, Storage(client, BUCKET)))
        elapsed = time.perf_counter() - started
        assert len(report.projects) == size and not report.attention, report.attention
        rows.append(
            {
                "projects": size,
                "seconds": round(elapsed, 2),
                "s3_requests": cost.requests,
                "requests_per_project": round(cost.requests / size, 3),
            }
        )
        print(f"  status: {size} projects done", file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    from bucket import moto_environment
    from report import section

    with moto_environment():
        rows = bench_status([int(arg) for arg in sys.argv[1:]] or [1000])
    print(section("status", {"status": rows}))
