"""From an upload's 200 to an installable file, on moto: the upload handler writes
the file, moto's bucket notification goes through SNS to a queue (as to the
reindex function), the reindexer runs, and the project page lists the file."""

from __future__ import annotations

import hashlib
import logging
import statistics
import time
from typing import Any

from tests.builders import wheel_bytes

from serverless_pypi.api import App
from serverless_pypi.apigw_events import build_event
from serverless_pypi.config import Settings
from serverless_pypi.local import EmbeddedS3
from serverless_pypi.reindex import Reindexer
from serverless_pypi.upload import Uploader, UploadSettings

BUCKET = "bench-publish"
BOUNDARY = "bench"


def _form(name: str, data: bytes, version: str) -> bytes:
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": "bench-pub",
        "version": version,
        "filetype": "bdist_wheel",
        "sha256_digest": hashlib.sha256(data).hexdigest(),
    }
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in fields.items()
    ]
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="content"; filename="{name}"\r\n\r\n'
    )
    return "".join(parts).encode() + head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def bench_publish(runs: int) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    embedded = EmbeddedS3()
    embedded.start(BUCKET)
    try:
        storage = embedded.storage(BUCKET)
        settings = Settings(bucket=BUCKET)
        uploader = Uploader(UploadSettings(BUCKET), storage)
        reindexer = Reindexer(settings, storage)
        app = App(settings, embedded.reader(BUCKET))
        page = build_event("GET", "/simple/bench-pub/", [], b"", "127.0.0.1")
        rights = {"lambda": {"user": "bench", "rights": "read,upload"}}
        samples = []
        for run in range(runs):
            version = f"1.{run}"
            name, data = wheel_bytes("bench-pub", version)
            headers = [("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")]
            event = build_event("POST", "/legacy/", headers, _form(name, data, version), "::1")
            event["requestContext"]["authorizer"] = rights
            answer = uploader(event)
            assert answer["statusCode"] == 200, answer
            started = time.perf_counter()
            while name not in app(page)["body"]:
                embedded.deliver(reindexer)
            samples.append((time.perf_counter() - started) * 1000)
        return {"runs": runs, "upload_to_installable_ms": round(statistics.median(samples), 1)}
    finally:
        embedded.stop()
