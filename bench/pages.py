"""The project page: what the api answers pip with, against the older module's page."""

from __future__ import annotations

import base64
import gzip
import json
import sys
from functools import partial
from html import escape
from typing import Any

import boto3
from bucket import (
    BUCKET,
    PROJECT,
    REGION,
    RequestCounter,
    counted,
    fresh_bucket,
    seed_project,
    store_manifest,
)
from tests.clients import PIP_ACCEPT
from timing import median_ms, repeats

from serverless_pypi import api, layout, payload, simple
from serverless_pypi import manifest as manifests
from serverless_pypi.config import ApiSettings
from serverless_pypi.local.apigw_events import build_event
from serverless_pypi.s3http import S3Reader

LAMBDA_LIMIT = 6 * 1024 * 1024  # Lambda's own limit on a response (the api keeps under it)
CONTENT_SIZE = 1000  # the page size whose bytes per file the targets are about


def api_event(accept: str, encodings: str = "gzip, deflate") -> dict[str, Any]:
    """What API Gateway sends the api for a client's GET of the project page."""
    headers = [
        ("host", "pypi.example.com"),
        ("accept", accept),
        ("accept-encoding", encodings),
    ]
    return build_event("GET", f"/simple/{PROJECT}/", headers, route_keys=layout.ROUTE_KEYS)


def legacy_page(client: Any) -> bytes:
    """The older module's project page: list the prefix, presign every key, template."""
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects").paginate(
            Bucket=BUCKET, Prefix=f"{PROJECT}/"
        )
        for item in page.get("Contents", [])
    ]
    anchors = "".join(
        '<a href="{}">{}</a><br>'.format(
            client.generate_presigned_url(
                "get_object",
                ExpiresIn=900,
                HttpMethod="GET",
                Params={"Bucket": BUCKET, "Key": key},
            ),
            key.rsplit("/", 1)[-1],
        )
        for key in keys
    )
    title = f"Links for {PROJECT}"
    return (
        '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.0">'
        f"<title>{title}</title></head><body><h1>{title}</h1>{anchors}</body></html>"
    ).encode()


def page_content(manifest: manifests.Manifest) -> dict[str, Any]:
    """Where a page's bytes per file go: what the standards make every line carry,
    against the page as rendered (with and without the metadata digest).

    ``required_raw``: the filename twice (PEP 503: link and text), the file's
    SHA-256 and its metadata's (PEP 658) in hex, and the escaped
    Requires-Python, without any markup around them. ``digests_gzip``: those
    two digests alone, gzipped at the best level: 64 random bytes a file, which
    no compressor can shrink.
    """
    files = manifest["files"]
    count = len(files)

    def per_file(size: int) -> float:
        return round(size / count, 1)

    required = sum(
        2 * len(entry["filename"])
        + len(entry["sha256"])
        + len(entry["core-metadata"])
        + len(escape(entry["requires-python"]))
        for entry in files
    )
    digests = "".join(entry["sha256"] + entry["core-metadata"] for entry in files).encode()
    row: dict[str, Any] = {
        "files": count,
        "required_raw_per_file": per_file(required),
        "digests_gzip_per_file": per_file(len(gzip.compress(digests, compresslevel=9))),
    }

    def link(entry: manifests.Entry) -> str:
        return manifests.relative_url(manifest["name"], entry)

    for label, metadata in (("page", manifests.HASHES), ("hashless_metadata", manifests.FLAGS)):
        for fmt, render in (("html", simple.project_html), ("json", simple.project_json)):
            body = render(manifest, link, metadata).encode()
            row[f"{label}_{fmt}_raw_per_file"] = per_file(len(body))
            row[f"{label}_{fmt}_gzip_per_file"] = per_file(len(payload.gzipped(body)))
    return row


# The api's page answers measured: redirect links from the page stored with the
# manifest (now), the same rendered per request from the manifest alone (how the
# release before pre-rendered pages answered, and still answers a manifest an
# older release wrote), and presigned links (always rendered per request).
STORED, RENDERED, PRESIGNED = "redirect", "redirect, rendered", "presigned"


def bench_pages(moto_url: str, sizes: list[int], content: dict[str, Any]) -> list[dict[str, Any]]:
    """Each page size in each way of answering and both formats, and the older
    module's page; ``content`` gets :func:`page_content` of the ``CONTENT_SIZE`` page."""
    rows = []
    legacy_client = boto3.client("s3", region_name=REGION)
    legacy_counts = RequestCounter(legacy_client)
    for size in sizes:
        fresh_bucket()
        manifest = seed_project(size)
        if size == CONTENT_SIZE:
            content.update(page_content(manifest))
        for links in (STORED, PRESIGNED, RENDERED):
            if links == RENDERED:
                store_manifest(manifest, pages=False)
            mode = "presigned" if links == PRESIGNED else "redirect"
            reader = S3Reader(BUCKET, REGION, moto_url)
            app = api.App(ApiSettings.from_options(BUCKET, link_mode=mode), reader)
            for fmt, accept in (("html", "text/html"), ("json", PIP_ACCEPT)):
                row = _page_row(app, reader, accept, size)
                if links == STORED:
                    # A client without gzip gets the same page, unpacked per request.
                    plain = partial(app, api_event(accept, "identity"), None)
                    row["plain_status"] = plain()["statusCode"]
                    row["plain_handler_ms"] = round(median_ms(plain, repeats(size)), 2)
                rows.append({"files": size, "links": links, "format": fmt, **row})
        if size <= 10_000:
            rows.append(_legacy_row(legacy_client, legacy_counts, size))
        print(f"  pages: {size} files done", file=sys.stderr, flush=True)
    return rows


def _page_row(app: api.App, reader: S3Reader, accept: str, size: int) -> dict[str, Any]:
    """What the api's answer to a gzip-taking client costs, and what it carries."""
    answer = partial(app, api_event(accept), None)
    zipped, cost = counted(reader, answer)
    served = zipped["statusCode"] == 200
    sent = int(zipped["headers"]["Content-Length"]) if served else None
    raw = len(gzip.decompress(base64.b64decode(zipped["body"]))) if served else None
    lambda_payload = len(json.dumps(zipped))
    return {
        "handler_ms": round(median_ms(answer, repeats(size)), 2),
        "s3_requests": cost.requests,
        "s3_bytes": cost.bytes_read,
        "raw_bytes": raw,
        "gzip_bytes": sent,
        "raw_per_file": round(raw / size, 1) if raw else None,
        "gzip_per_file": round(sent / size, 1) if sent else None,
        "lambda_payload_bytes": lambda_payload,
        "fits_lambda": served and lambda_payload < LAMBDA_LIMIT,
    }


def _legacy_row(client: Any, counts: RequestCounter, size: int) -> dict[str, Any]:
    legacy = partial(legacy_page, client)
    body, cost = counted(counts, legacy)
    zipped_size = len(payload.gzipped(body))
    lambda_payload = len(json.dumps({"body": body.decode()}))
    return {
        "files": size,
        "links": "older module",
        "format": "html",
        "handler_ms": round(median_ms(legacy, max(3, repeats(size) // 3)), 2),
        "s3_requests": cost.requests,
        "s3_bytes": cost.bytes_read,
        "raw_bytes": len(body),
        "gzip_bytes": zipped_size,
        "raw_per_file": round(len(body) / size, 1),
        "gzip_per_file": round(zipped_size / size, 1),
        "lambda_payload_bytes": lambda_payload,
        "fits_lambda": lambda_payload < LAMBDA_LIMIT,
    }
