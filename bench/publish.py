"""From an upload's 200 to an installable file, on moto: the upload handler writes
the file, moto's bucket notification goes through SNS to a queue (as to the
reindex function), the reindexer runs, and the project page lists the file.
Medians and 99th percentiles, with the reindexer adding each file by its event
and, for comparison in the same run, listing the project for each as before."""

from __future__ import annotations

import hashlib
import logging
import statistics
import time
from typing import Any

from tests.builders import wheel_bytes

from serverless_pypi import incremental
from serverless_pypi.api import App
from serverless_pypi.config import ApiSettings, ReindexSettings, UploadSettings
from serverless_pypi.local import EmbeddedS3
from serverless_pypi.local.apigw_events import build_event, multipart_form
from serverless_pypi.reindex import Reindexer
from serverless_pypi.upload import Uploader

BUCKET = "bench-publish"


def _form(name: str, data: bytes, version: str) -> tuple[bytes, str]:
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": "bench-pub",
        "version": version,
        "filetype": "bdist_wheel",
        "sha256_digest": hashlib.sha256(data).hexdigest(),
    }
    return multipart_form(fields, {"content": (name, data)})


def bench_publish(runs: int) -> dict[str, Any]:
    """``runs`` uploads one after the other, the reindexer adding each by its event;
    then as many with the reindexer listing the project for each (as before)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    result: dict[str, Any] = {"runs": runs}
    for path in ("event", "listing"):
        samples = _upload_to_installable(runs, listing=path == "listing")
        result[path] = {
            "p50_ms": round(statistics.median(samples), 1),
            "p99_ms": round(statistics.quantiles(samples, n=100, method="inclusive")[98], 1),
            "max_ms": round(max(samples), 1),
        }
    return result


def _upload_to_installable(runs: int, listing: bool) -> list[float]:
    """Milliseconds from each upload's 200 to a page that lists the file."""
    bucket = f"{BUCKET}-{'listing' if listing else 'event'}"
    embedded = EmbeddedS3()
    embedded.start(bucket)
    # batch.apply_changes asks incremental.uploads whether an event adds files.
    no_events = incremental.uploads
    if listing:
        incremental.uploads = lambda changes: None  # every event takes the listing path
    try:
        storage = embedded.storage(bucket)
        uploader = Uploader(UploadSettings(bucket), storage)
        reindexer = Reindexer(ReindexSettings(bucket), storage)
        app = App(ApiSettings(bucket=bucket), embedded.reader(bucket))
        page = build_event("GET", "/simple/bench-pub/", [], b"", "127.0.0.1")
        rights = {"lambda": {"user": "bench", "rights": "read,upload"}}
        samples = []
        for run in range(runs):
            version = f"1.{run}"
            name, data = wheel_bytes("bench-pub", version)
            body, content_type = _form(name, data, version)
            event = build_event("POST", "/legacy/", [("Content-Type", content_type)], body, "::1")
            event["requestContext"]["authorizer"] = rights
            answer = uploader(event)
            assert answer["statusCode"] == 200, answer
            started = time.perf_counter()
            while name not in app(page)["body"]:
                embedded.deliver(reindexer)
            samples.append((time.perf_counter() - started) * 1000)
        return samples
    finally:
        incremental.uploads = no_events
        embedded.stop()
