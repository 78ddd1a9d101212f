#!/usr/bin/env python3
"""`make bench`: how fast the index is, measured in one process on moto.

Prints a Markdown table and writes the numbers to bench/results.json. Every
comparison is a ratio of two numbers measured in this same run. Timings are
medians on a noisy shared machine: read them as orders of magnitude and
ratios, not as guarantees (no test asserts a time).

    python bench/run.py            # everything (a few minutes)
    python bench/run.py --quick    # smaller sizes, for a smoke run
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import logging
import os
import platform
import random
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import inspection  # noqa: E402 - bench/inspection.py, beside this script

from serverless_pypi import manifest as manifests  # noqa: E402

BUCKET = "bench-index"
REGION = "us-east-1"
PROJECT = "acme-data-pipeline"
# Lambda's temporary credentials carry a session token of this order of size.
SESSION_TOKEN = "IQoJb3JpZ2luX2VjE" + "".join(
    random.Random(7).choices(string.ascii_letters + string.digits + "+/", k=1100)
)
PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
LAMBDA_LIMIT = 6 * 1024 * 1024


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def repeats(size: int) -> int:
    return 25 if size <= 1000 else 7 if size <= 10_000 else 3


# -- the environment --------------------------------------------------------


@contextmanager
def moto_environment() -> Iterator[str]:
    """moto in-process for boto3, and its server on loopback for the api's HTTP client."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "ASIABENCHEXAMPLE0000",
            "AWS_SECRET_ACCESS_KEY": "bench/secret/key/0000000000000000000000",
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
    )
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        os.environ.pop(name, None)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("serverless_pypi").setLevel(logging.WARNING)
    from moto import mock_aws
    from moto.server import ThreadedMotoServer

    with mock_aws():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def s3_backend() -> Any:
    from moto.backends import get_backend

    return get_backend("s3")["123456789012"]["global"]


def fresh_bucket() -> Any:
    import boto3

    client = boto3.client("s3", region_name=REGION)
    backend = s3_backend()
    if BUCKET in backend.buckets:
        for key in list(backend.buckets[BUCKET].keys.keys()):
            backend.delete_object(BUCKET, key)
        backend.delete_bucket(BUCKET)
    client.create_bucket(Bucket=BUCKET)
    return client


# -- synthetic but realistic projects ----------------------------------------


def filenames(count: int) -> Iterator[tuple[str, str]]:
    """``(version, filename)``: a wheel and an sdist per version, as projects publish."""
    escaped = PROJECT.replace("-", "_")
    for index in range(count):
        version = f"{index // 200}.{index // 2 % 100}.{index % 7}"
        if index % 2 == 0:
            yield version, f"{escaped}-{version}-py3-none-any.whl"
        else:
            yield version, f"{escaped}-{version}.tar.gz"


def seed_project(count: int, payload: bytes = b"x" * 64) -> manifests.Manifest:
    """Put ``count`` small objects in the project folder (moto's backend, no HTTP) and
    write the manifest the indexer would write for them."""
    from serverless_pypi.indexer import fit_pages, upload_time
    from serverless_pypi.layout import manifest_key
    from serverless_pypi.names import version_key

    backend = s3_backend()
    rng = random.Random(count)
    entries: list[manifests.Entry] = []
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for index, (version, filename) in enumerate(filenames(count)):
        key = f"{PROJECT}/{filename}"
        stored = backend.put_object(BUCKET, key, payload)
        entry: manifests.Entry = {
            "filename": filename,
            "key": key,
            "version": version,
            "size": len(payload),
            "etag": stored.etag,
            "sha256": rng.randbytes(32).hex(),
            "upload-time": upload_time(base + timedelta(minutes=index)),
            "requires-python": ">=3.9",
            "core-metadata": rng.randbytes(32).hex(),
        }
        entries.append(entry)
    entries.sort(key=lambda entry: (version_key(entry["version"]), entry["filename"]))
    for entry in entries:
        entry["href"] = manifests.relative_url(PROJECT, entry)
    manifest = manifests.new(PROJECT, [PROJECT], entries)
    fit_pages(manifest)
    backend.put_object(BUCKET, manifest_key(PROJECT), manifests.encode(manifest))
    return manifest


# -- project pages ------------------------------------------------------------


def api_event(path: str, accept: str, gzip_ok: bool) -> dict[str, Any]:
    headers = {"host": "pypi.example.com", "accept": accept}
    if gzip_ok:
        headers["accept-encoding"] = "gzip, deflate"
    return {
        "version": "2.0",
        "routeKey": "GET /simple/{proxy+}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": "GET", "path": path}, "stage": "$default"},
        "isBase64Encoded": False,
    }


def legacy_page(client: Any, count: int) -> bytes:
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


CONTENT_SIZE = 1000  # the page size whose bytes per file the targets are about


def page_content(manifest: manifests.Manifest) -> dict[str, Any]:
    """Where a page's bytes per file go: what the standards make every line carry,
    against the page as rendered (with and without the metadata digest).

    ``required_raw``: the filename twice (PEP 503: link and text), the file's
    SHA-256 and its metadata's (issue #2, PEP 658) in hex, and the escaped
    Requires-Python, without any markup around them. ``digests_gzip``: those
    two digests alone, gzipped at the best level: 64 random bytes a file, which
    no compressor can shrink.
    """
    from html import escape

    from serverless_pypi import simple
    from serverless_pypi.payload import GZIP_LEVEL

    files = manifest["files"]
    count = len(files)

    def per_file(size: int) -> float:
        return round(size / count, 1)

    def gzipped(body: bytes, level: int = GZIP_LEVEL) -> int:
        return len(gzip.compress(body, compresslevel=level, mtime=0))

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
        "digests_gzip_per_file": per_file(gzipped(digests, 9)),
    }

    def link(entry: manifests.Entry) -> str:
        return manifests.relative_url(manifest["name"], entry)

    for label, metadata in (("page", manifests.HASHES), ("hashless_metadata", manifests.FLAGS)):
        for fmt, render in (("html", simple.project_html), ("json", simple.project_json)):
            body = render(manifest, link, metadata).encode()
            row[f"{label}_{fmt}_raw_per_file"] = per_file(len(body))
            row[f"{label}_{fmt}_gzip_per_file"] = per_file(gzipped(body))
    return row


def bench_pages(moto_url: str, sizes: list[int], content: dict[str, Any]) -> list[dict[str, Any]]:
    import boto3

    from serverless_pypi import api
    from serverless_pypi.config import Settings
    from serverless_pypi.s3http import S3Reader

    rows = []
    legacy_client = boto3.client("s3", region_name=REGION)
    for size in sizes:
        fresh_bucket()
        manifest = seed_project(size)
        if size == CONTENT_SIZE:
            content.update(page_content(manifest))
        for mode in ("redirect", "presigned"):
            reader = S3Reader(BUCKET, REGION, moto_url)
            app = api.App(Settings.from_options(BUCKET, link_mode=mode), reader)
            for fmt, accept in (("html", "text/html"), ("json", PIP_ACCEPT)):
                path = f"/simple/{PROJECT}/"
                before, read_before = reader.requests, reader.bytes_read
                zipped = app(api_event(path, accept, gzip_ok=True), None)
                requests = reader.requests - before
                s3_bytes = reader.bytes_read - read_before
                raw = None
                if zipped["statusCode"] == 200:
                    sent_body = base64.b64decode(zipped["body"])
                    raw = len(gzip.decompress(sent_body))
                served = zipped["statusCode"] == 200
                sent = int(zipped["headers"]["Content-Length"]) if served else None
                payload = len(json.dumps(zipped))
                event = api_event(path, accept, gzip_ok=True)
                elapsed = median_ms(partial(api.handler, event, None), repeats(size))
                rows.append(
                    {
                        "files": size,
                        "links": mode,
                        "format": fmt,
                        "handler_ms": round(elapsed, 2),
                        "s3_requests": requests,
                        "s3_bytes": s3_bytes,
                        "raw_bytes": raw,
                        "gzip_bytes": sent,
                        "raw_per_file": round(raw / size, 1) if raw else None,
                        "gzip_per_file": round(sent / size, 1) if sent else None,
                        "lambda_payload_bytes": payload,
                        "fits_lambda": served and payload < LAMBDA_LIMIT,
                    }
                )
        os.environ.pop("AWS_ENDPOINT_URL", None)
        if size <= 10_000:
            counter = RequestCounter(legacy_client)
            body = legacy_page(legacy_client, size)
            counter_bytes = counter.bytes
            requests = counter.take()
            elapsed = median_ms(
                lambda size=size: legacy_page(legacy_client, size),  # type: ignore[misc]
                max(3, repeats(size) // 3),
            )
            rows.append(
                {
                    "files": size,
                    "links": "older module",
                    "format": "html",
                    "handler_ms": round(elapsed, 2),
                    "s3_requests": requests,
                    "s3_bytes": counter_bytes,
                    "raw_bytes": len(body),
                    "gzip_bytes": len(gzip.compress(body, 6)),
                    "raw_per_file": round(len(body) / size, 1),
                    "gzip_per_file": round(len(gzip.compress(body, 6)) / size, 1),
                    "lambda_payload_bytes": len(json.dumps({"body": body.decode()})),
                    "fits_lambda": len(json.dumps({"body": body.decode()})) < LAMBDA_LIMIT,
                }
            )
        print(f"  pages: {size} files done", file=sys.stderr, flush=True)
    return rows


class RequestCounter:
    """Counts the requests a boto3 client sends and the bytes S3 answers with."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.bytes = 0
        client.meta.events.register("before-send.s3.*", self._sent)
        client.meta.events.register("after-call.s3.*", self._received)

    def _sent(self, **_: Any) -> None:
        self.requests += 1

    def _received(self, http_response: Any = None, **_: Any) -> None:
        if http_response is None:
            return
        length = http_response.headers.get("content-length")
        if length is None:  # moto in-process sends none; botocore kept what it read
            length = len(getattr(http_response, "_content", None) or b"")
        self.bytes += int(length)

    def take(self) -> int:
        requests, self.requests, self.bytes = self.requests, 0, 0
        return requests


# -- reindexing ---------------------------------------------------------------


def bench_add_one(sizes: list[int]) -> list[dict[str, Any]]:
    from tests.builders import wheel_bytes

    from serverless_pypi.indexer import reindex_project, update_root
    from serverless_pypi.storage import Storage, make_client

    rows = []
    for size in sizes:
        fresh_bucket()
        seed_project(size)
        client = make_client()
        storage = Storage(client, BUCKET)
        counter = RequestCounter(client)
        name, data = wheel_bytes(PROJECT, "999.0", requires_python=">=3.9")
        client.put_object(Bucket=BUCKET, Key=f"{PROJECT}/{name}", Body=data)
        counter.take()
        started = time.perf_counter()
        result = reindex_project(storage, PROJECT, [PROJECT])
        update_root(storage, {PROJECT: result.files > 0})
        elapsed = (time.perf_counter() - started) * 1000
        rows.append(
            {
                "files": size,
                "ms": round(elapsed, 1),
                "s3_requests": counter.requests,
                "s3_bytes_read": counter.bytes,
                "new_file_bytes": len(data),
                "files_inspected": result.inspected,
            }
        )
        print(f"  add one: {size} files done", file=sys.stderr, flush=True)
    return rows


def bench_rebuild(sizes: list[int]) -> list[dict[str, Any]]:
    from tests.builders import wheel_bytes

    from serverless_pypi import indexer
    from serverless_pypi.storage import Storage, make_client

    rows = []
    _, template = wheel_bytes("placeholder", "1.0")
    for size in sizes:
        fresh_bucket()
        backend = s3_backend()
        for index in range(size):
            project = f"project-{index:05d}"
            name, data = wheel_bytes(project, "1.0", requires_python=">=3.9")
            backend.put_object(BUCKET, f"{project}/{name}", data)
        client = make_client()
        counter = RequestCounter(client)
        started = time.perf_counter()
        batch = indexer.rebuild(Storage(client, BUCKET))
        elapsed = time.perf_counter() - started
        assert not batch.failures and batch.files == size
        rows.append(
            {
                "projects": size,
                "seconds": round(elapsed, 2),
                "s3_requests": counter.requests,
                "per_project_ms": round(elapsed * 1000 / size, 2),
            }
        )
        print(f"  rebuild: {size} projects done", file=sys.stderr, flush=True)
    del template
    return rows


# -- cold start ---------------------------------------------------------------

_COLD = """
import json, sys, time
started = time.perf_counter()
from serverless_pypi import api
imported = time.perf_counter()
event = json.loads(sys.argv[1])
result = api.handler(event, None)
answered = time.perf_counter()
assert result["statusCode"] == 200, result
print(json.dumps({"import_ms": (imported - started) * 1000,
                  "first_ms": (answered - imported) * 1000,
                  "boto3_loaded": "boto3" in sys.modules}))
"""
_BOTO3 = """
import json, time
started = time.perf_counter()
import boto3
imported = time.perf_counter()
boto3.client("s3", region_name="us-east-1")
made = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "client_ms": (made - imported) * 1000}))
"""


def bench_cold_start(moto_url: str, runs: int) -> dict[str, Any]:
    fresh_bucket()
    seed_project(100)
    env = {
        **os.environ,
        "S3_BUCKET": BUCKET,
        "AWS_ENDPOINT_URL": moto_url,
        "LINK_MODE": "redirect",
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONDONTWRITEBYTECODE": "",
    }
    event = json.dumps(api_event(f"/simple/{PROJECT}/", PIP_ACCEPT, True))

    def fresh_interpreter(*argv: str) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-c", *argv],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return dict(json.loads(out.stdout))

    ours, boto = [], []
    for _ in range(runs):
        ours.append(fresh_interpreter(_COLD, event))
        boto.append(fresh_interpreter(_BOTO3))
    total = statistics.median(run["import_ms"] + run["first_ms"] for run in ours)
    boto3_import = statistics.median(run["import_ms"] for run in boto)
    return {
        "runs": runs,
        "api_import_ms": round(statistics.median(run["import_ms"] for run in ours), 1),
        "api_first_request_ms": round(statistics.median(run["first_ms"] for run in ours), 1),
        "api_cold_total_ms": round(total, 1),
        "boto3_import_ms": round(boto3_import, 1),
        "boto3_s3_client_ms": round(statistics.median(run["client_ms"] for run in boto), 1),
        "api_over_boto3_import_ms": round(total - boto3_import, 1),
        "api_loads_boto3": any(run["boto3_loaded"] for run in ours),
    }


# -- report -------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}x" if a and b else "n/a"


def report(results: dict[str, Any]) -> str:
    lines = [
        f"# serverless-pypi benchmark ({results['when']}, {results['machine']})",
        "",
        "## Project page (median handler time; S3 requests per page; bytes raw and gzipped)",
        "",
        "| files | links | format | handler ms | S3 requests | S3 bytes | raw bytes | raw/file"
        " | gzip bytes | gzip/file | fits 6 MB |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["pages"]:
        lines.append(
            f"| {row['files']:,} | {row['links']} | {row['format']} | {row['handler_ms']} "
            f"| {row['s3_requests']} | {row['s3_bytes']:,} "
            f"| {row['raw_bytes'] or 'n/a'} | {row['raw_per_file'] or 'n/a'} "
            f"| {row['gzip_bytes'] or 'n/a'} | {row['gzip_per_file'] or 'n/a'} "
            f"| {'yes' if row['fits_lambda'] else 'NO (not served)'} |"
        )
    lines += ["", "Ratios measured in this run:", ""]
    for size in sorted({row["files"] for row in results["pages"]}):
        by = {(r["links"], r["format"]): r for r in results["pages"] if r["files"] == size}
        redirect, presigned = by[("redirect", "html")], by[("presigned", "html")]
        legacy = by.get(("older module", "html"))
        parts = [
            f"presigned/redirect time {ratio(presigned['handler_ms'], redirect['handler_ms'])}"
        ]
        if presigned["fits_lambda"]:
            parts.append(f"gzip bytes {ratio(presigned['gzip_bytes'], redirect['gzip_bytes'])}")
        else:
            parts.append("the presigned page does not fit a Lambda response")
        if legacy:
            parts.append(
                f"older module/redirect time {ratio(legacy['handler_ms'], redirect['handler_ms'])}"
                f", raw bytes {ratio(legacy['raw_bytes'], redirect['raw_bytes'])}"
            )
        lines.append(f"- {size:,} files: " + "; ".join(parts))
    content = results.get("page_content")
    if content:
        lines += [
            "",
            f"Bytes per file of the {content['files']:,}-file page, against what every line"
            " must carry:",
            "",
            f"- required content alone (filename twice, two SHA-256 digests in hex,"
            f" Requires-Python; no markup): {content['required_raw_per_file']} raw",
            f"- the two digests alone, gzipped at level 9: {content['digests_gzip_per_file']}",
            f"- the page: HTML {content['page_html_raw_per_file']} raw,"
            f" {content['page_html_gzip_per_file']} gzipped;"
            f" JSON {content['page_json_raw_per_file']} raw,"
            f" {content['page_json_gzip_per_file']} gzipped",
            f"- the page with metadata announced without its digest: HTML"
            f" {content['hashless_metadata_html_raw_per_file']} raw,"
            f" {content['hashless_metadata_html_gzip_per_file']} gzipped;"
            f" JSON {content['hashless_metadata_json_raw_per_file']} raw,"
            f" {content['hashless_metadata_json_gzip_per_file']} gzipped",
        ]
    lines += [
        "",
        "## Reindex after adding one file",
        "",
        "| files in project | ms | S3 requests | bytes read from S3 | new file bytes"
        " | files read |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["add_one"]:
        lines.append(
            f"| {row['files']:,} | {row['ms']} | {row['s3_requests']} | {row['s3_bytes_read']:,} "
            f"| {row['new_file_bytes']:,} | {row['files_inspected']} |"
        )
    lines += [
        "",
        "## Full rebuild (one wheel per project)",
        "",
        "| projects | seconds | S3 requests | ms per project |",
        "|---:|---:|---:|---:|",
    ]
    for row in results["rebuild"]:
        lines.append(
            f"| {row['projects']:,} | {row['seconds']} | {row['s3_requests']:,} "
            f"| {row['per_project_ms']} |"
        )
    cold = results["cold_start"]
    lines += [
        "",
        f"## Cold start (median of {cold['runs']} fresh interpreters)",
        "",
        f"- api: import {cold['api_import_ms']} ms + first request "
        f"{cold['api_first_request_ms']} ms = {cold['api_cold_total_ms']} ms"
        f" (loads boto3: {cold['api_loads_boto3']})",
        f"- `import boto3` alone: {cold['boto3_import_ms']} ms; creating an S3 client after it:"
        f" {cold['boto3_s3_client_ms']} ms",
        f"- api cold start minus `import boto3`: {cold['api_over_boto3_import_ms']} ms"
        f" (ratio {ratio(cold['api_cold_total_ms'], cold['boto3_import_ms'])})",
        "",
    ]
    if "inspection" in results:
        lines += inspection.report(results["inspection"])
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()
    page_sizes = [10, 100, 1000] if args.quick else [10, 100, 1000, 10_000, 50_000]
    add_sizes = [10, 1000] if args.quick else [10, 1000, 10_000]
    rebuild_sizes = [100] if args.quick else [1000, 10_000]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
    }
    with moto_environment() as moto_url:
        results["page_content"] = {}
        results["pages"] = bench_pages(moto_url, page_sizes, results["page_content"])
        results["add_one"] = bench_add_one(add_sizes)
        results["rebuild"] = bench_rebuild(rebuild_sizes)
        results["cold_start"] = bench_cold_start(moto_url, runs=5 if args.quick else 9)
    results["inspection"] = inspection.bench_inspection(median_ms)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
