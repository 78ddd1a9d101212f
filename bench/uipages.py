"""The pages for people: a project's page at the project sizes of the bench, and
the list of every project at 10,000 projects, each one S3 GET, as the ui
handler answers a browser (gzip taken; the login is the authorizer's cost,
measured in authorizer.py)."""

from __future__ import annotations

import base64
import gzip
import json
import sys
from functools import partial
from typing import Any

import boto3
from bucket import BUCKET, PROJECT, REGION, counted, fresh_bucket, seed_project, store_manifest
from timing import median_ms, repeats

from serverless_pypi import catalog, layout, ui
from serverless_pypi.config import ApiSettings, UiSettings
from serverless_pypi.local.apigw_events import build_event
from serverless_pypi.s3http import S3Reader

LAMBDA_LIMIT = 6 * 1024 * 1024
# A project's page at these numbers of files: the largest project the targets name.
UI_PAGE_SIZES = [10, 10_000]
# A long description of the size of a well-documented project's README.
DESCRIPTION = (
    "# bench-project\n\n"
    + "Some **text** with `code`, [a link](https://example.com/) and a list:\n\n- one\n- two\n\n"
    * 100
)


def _event(path: str) -> dict[str, Any]:
    headers = [("host", "pypi.example.com"), ("accept-encoding", "gzip, deflate")]
    return build_event("GET", path, headers, route_keys=layout.UI_ROUTE_KEYS)


def _row(app: ui.UiApp, reader: S3Reader, path: str, size: int) -> dict[str, Any]:
    answer = partial(app, _event(path), None)
    zipped, cost = counted(reader, answer)
    sent = int(zipped["headers"]["Content-Length"])
    raw = len(gzip.decompress(base64.b64decode(zipped["body"])))
    lambda_payload = len(json.dumps(zipped))
    return {
        "status": zipped["statusCode"],
        "handler_ms": round(median_ms(answer, repeats(size)), 2),
        "s3_requests": cost.requests,
        "raw_bytes": raw,
        "gzip_bytes": sent,
        "fits_lambda": lambda_payload < LAMBDA_LIMIT,
    }


def bench_ui_pages(moto_url: str, sizes: list[int], projects: int = 10_000) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        fresh_bucket()
        manifest = seed_project(size)
        manifest["details"] = {
            "from": manifest["files"][-1]["filename"],
            "version": manifest["files"][-1]["version"],
            "summary": "A project of the benchmark",
            "license": "MIT",
            "urls": [["Source", "https://example.com/src"]],
            "classifiers": ["Programming Language :: Python :: 3"] * 10,
            "requires-dist": ["requests>=2"] * 10,
            "description": DESCRIPTION,
            "description-type": "text/markdown",
        }
        store_manifest(manifest)
        reader = S3Reader(BUCKET, REGION, moto_url)
        app = ui.UiApp(UiSettings(ApiSettings(BUCKET)), reader)
        rows.append(
            {"page": "project", "files": size, **_row(app, reader, f"/ui/{PROJECT}/", size)}
        )
        print(f"  ui pages: {size} files done", file=sys.stderr, flush=True)
    cards: dict[str, catalog.Card] = {
        f"project-{index:05d}": {
            "name": f"project-{index:05d}",
            "version": f"{index % 9}.{index % 13}.{index % 7}",
            "summary": f"Summary of project {index}, a few words long as most are",
            "uploaded": "2026-01-02T03:04:05.000000Z",
        }
        for index in range(projects)
    }
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key=catalog.CATALOG, Body=catalog.encode(cards)
    )
    reader = S3Reader(BUCKET, REGION, moto_url)
    app = ui.UiApp(UiSettings(ApiSettings(BUCKET)), reader)
    rows.append({"page": "list", "projects": projects, **_row(app, reader, "/ui/", projects)})
    return rows
