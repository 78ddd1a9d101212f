"""The benchmark's S3: moto in this process, a fresh bucket, a project seeded in
it, and the requests and bytes that a measurement costs."""

from __future__ import annotations

import logging
import os
import random
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import boto3
from moto import mock_aws
from moto.backends import get_backend
from moto.server import ThreadedMotoServer

from serverless_pypi import manifest as manifests
from serverless_pypi import manifeststore
from serverless_pypi.layout import manifest_key
from serverless_pypi.names import version_key

BUCKET = "bench-index"
REGION = "us-east-1"
PROJECT = "acme-data-pipeline"
# Lambda's temporary credentials carry a session token of this order of size.
SESSION_TOKEN = "IQoJb3JpZ2luX2VjE" + "".join(
    random.Random(7).choices(string.ascii_letters + string.digits + "+/", k=1100)
)

T = TypeVar("T")


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
    with mock_aws():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def s3_backend() -> Any:
    return get_backend("s3")["123456789012"]["global"]


def fresh_bucket() -> None:
    backend = s3_backend()
    if BUCKET in backend.buckets:
        for key in list(backend.buckets[BUCKET].keys.keys()):
            backend.delete_object(BUCKET, key)
        backend.delete_bucket(BUCKET)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)


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
    write the manifest the indexer would write for them, with its pages."""
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
            "upload-time": manifests.upload_time(base + timedelta(minutes=index)),
            "requires-python": ">=3.9",
            "core-metadata": rng.randbytes(32).hex(),
        }
        entries.append(entry)
    entries.sort(key=lambda entry: (version_key(entry["version"]), entry["filename"]))
    for entry in entries:
        entry["href"] = manifests.relative_url(PROJECT, entry)
    manifest = manifests.new(PROJECT, [PROJECT], entries)
    store_manifest(manifest)
    return manifest


def store_manifest(manifest: manifests.Manifest, pages: bool = True) -> None:
    """Write the project's manifest as the reindexer does, with its pages (and the
    time of its listing); or (``pages=False``) the manifest alone, as the release
    before pre-rendered pages stored it, which the api renders per request."""
    if pages:
        body, metadata = manifeststore.stored_object(manifest, datetime.now(UTC).timestamp())
    else:
        body, metadata = manifests.encode(manifest), {manifests.FILES: str(len(manifest["files"]))}
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET,
        Key=manifest_key(manifest["name"]),
        Body=body,
        ContentType="application/json",
        ContentEncoding="gzip",
        Metadata=metadata,
    )


# -- what a measurement costs in S3 ---------------------------------------------


class Counts(Protocol):
    """Running totals of S3 requests and of the bytes they read: the api's
    ``S3Reader`` keeps them, a :class:`RequestCounter` keeps them for boto3."""

    @property
    def requests(self) -> int: ...

    @property
    def bytes_read(self) -> int: ...


@dataclass(frozen=True)
class Tally:
    requests: int
    bytes_read: int


def counted(counts: Counts, run: Callable[[], T]) -> tuple[T, Tally]:
    """What ``run`` returns, and the S3 requests and bytes read it added to ``counts``."""
    requests, bytes_read = counts.requests, counts.bytes_read
    result = run()
    return result, Tally(counts.requests - requests, counts.bytes_read - bytes_read)


class RequestCounter:
    """Counts the requests a boto3 client sends and the bytes S3 answers with."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.bytes_read = 0
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
        self.bytes_read += int(length)
