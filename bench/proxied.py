"""The proxy mode's project page (a name the bucket never held, from the upstream page
kept in the bucket, within upstream_page_ttl) against a private page of the same size,
measured side by side in one bucket."""

from __future__ import annotations

import base64
import gzip
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bucket import BUCKET, PROJECT, REGION, counted, fresh_bucket, seed_project
from pages import api_event
from tests.clients import PIP_ACCEPT
from tests.upstream_stub import StubFile, Upstream, upstream_index
from timing import median_ms, repeats

from serverless_pypi import api, layout
from serverless_pypi.config import ApiSettings
from serverless_pypi.local.apigw_events import build_event
from serverless_pypi.proxy import Proxy
from serverless_pypi.s3http import S3Reader

UPSTREAM_PROJECT = "acme-public-lib"
MAX_FILES = 10_000  # an upstream page of 50,000 files is rarer than a private one


def _event(project: str, accept: str) -> dict[str, Any]:
    if project == PROJECT:
        return api_event(accept)
    headers = [("host", "pypi.example.com"), ("accept", accept), ("accept-encoding", "gzip")]
    return build_event("GET", f"/simple/{project}/", headers, route_keys=layout.ROUTE_KEYS)


def _upstream(size: int) -> Upstream:
    up = Upstream()
    old = datetime.now(UTC) - timedelta(days=400)
    for number in range(size):
        filename = f"acme_public_lib-{number // 4}.{number % 4}.tar.gz"
        up.add(UPSTREAM_PROJECT, StubFile(filename, str(number).encode(), old, ">=3.9"))
    return up


def bench_proxied(moto_url: str, sizes: list[int]) -> list[dict[str, Any]]:
    """Each size, both formats: the private page and the proxied one, each answered by
    its own App on the same bucket; and what the proxied page asked of the upstream."""
    rows = []
    for size in [s for s in sizes if s <= MAX_FILES]:
        fresh_bucket()
        seed_project(size)
        up = _upstream(size)
        with upstream_index(up):
            settings = ApiSettings.from_options(
                BUCKET, fallback_index_url=up.index_url, upstream_mode="proxy"
            )
            reader = S3Reader(BUCKET, REGION, moto_url)
            app = api.App(settings, reader, Proxy(settings, reader))
            for fmt, accept in (("html", "text/html"), ("json", PIP_ACCEPT)):
                row: dict[str, Any] = {"files": size, "format": fmt}
                for label, project in (("private", PROJECT), ("proxied", UPSTREAM_PROJECT)):
                    answer = partial(app, _event(project, accept), None)
                    answer()  # the first: the upstream page fetched and kept
                    asked = len(up.seen)
                    result, cost = counted(reader, answer)
                    assert result["statusCode"] == 200, result
                    body = gzip.decompress(base64.b64decode(result["body"]))
                    row[f"{label}_ms"] = round(median_ms(answer, repeats(size)), 2)
                    row[f"{label}_s3_requests"] = cost.requests
                    row[f"{label}_raw_bytes"] = len(body)
                    if label == "proxied":
                        row["upstream_requests"] = len(up.seen) - asked
                rows.append(row)
        print(f"  proxied: {size} files done", file=sys.stderr, flush=True)
    return rows
