"""The tests' bucket: moto S3 seen from a test, and the handlers built from their
settings for it (the environment only where a Lambda entry point itself is under test)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from serverless_pypi import indexer, rootindex, rootwriter
from serverless_pypi import manifest as manifests
from serverless_pypi.config import ReindexSettings
from serverless_pypi.layout import (
    ROOT_JSON,
    manifest_key,
)
from serverless_pypi.reindex import Reindexer
from serverless_pypi.storage import Storage, make_client
from tests.builders import wheel_bytes
from tests.conftest import BUCKET, s3_event


def put(s3: Any, key: str, data: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)


def read(s3: Any, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()  # type: ignore[no-any-return]


def manifest(s3: Any, project: str) -> dict[str, Any]:
    found = manifests.decode(read(s3, manifest_key(project)))
    assert found is not None
    return dict(found)


def files(s3: Any, project: str) -> dict[str, dict[str, Any]]:
    return {entry["filename"]: entry for entry in manifest(s3, project)["files"]}


def root(s3: Any) -> list[str]:
    index = rootindex.decode(read(s3, ROOT_JSON))
    assert index is not None
    return rootindex.names(index)


def reindex(storage: Storage, project: str, *folders: str) -> indexer.ProjectResult:
    result = indexer.reindex_project(storage, project, folders or (project,))
    rootwriter.update_root(storage, {project: result.files > 0})
    return result


def created(s3: Any, *keys: str) -> dict[str, Any]:
    """The notification S3 sends for new objects: with each one's ETag and size, as
    S3 gives them (``s3_event`` leaves the template's, which match no object)."""
    event = s3_event(*[("ObjectCreated:Put", key) for key in keys])
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    for record in message["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        head = s3.head_object(Bucket=BUCKET, Key=key)
        record["s3"]["object"].update(eTag=head["ETag"].strip('"'), size=head["ContentLength"])
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


def reindexer(storage: Storage, *, catalog: bool = False) -> Reindexer:
    """The reindex handler for the test bucket, built from its settings (``catalog``:
    as the module deploys it with the pages for people)."""
    return Reindexer(ReindexSettings(BUCKET, catalog=catalog), storage)


class Requests:
    """The S3 requests a client sends, as "METHOD key" (a listing: "LIST prefix"),
    and each GET's key and Range header (None: the whole object)."""

    def __init__(self, storage: Storage) -> None:
        self.sent: list[str] = []
        self.gets: list[tuple[str, str | None]] = []
        storage.client.meta.events.register("before-parameter-build.s3.*", self._called)

    def _called(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        names = {"GetObject": "GET", "PutObject": "PUT", "HeadObject": "HEAD"}
        if model.name == "GetObject":
            self.gets.append((params["Key"], params.get("Range")))
        if model.name == "ListObjectsV2":
            self.sent.append(f"LIST {params.get('Prefix', '')}")
        else:
            self.sent.append(f"{names.get(model.name, model.name)} {params.get('Key')}")

    def take(self) -> list[str]:
        sent, self.sent = self.sent, []
        return sent


def indexed_project(s3: Any, storage: Storage, *versions: str) -> list[str]:
    names = []
    for version in versions:
        name, data = wheel_bytes("my-pkg", version)
        put(s3, f"my-pkg/{name}", data)
        names.append(name)
    reindex(storage, "my-pkg")
    return names


class HookedStorage(Storage):
    """Runs ``hook`` once, just before the ``nth`` write whose key starts with ``prefix``."""

    def __init__(
        self, inner: Storage, prefix: str, hook: Callable[[], object], nth: int = 1
    ) -> None:
        super().__init__(inner.client, inner.bucket)
        self.prefix, self.hook, self.nth, self.puts = prefix, hook, nth, 0

    def put(self, key: str, body: bytes, content_type: str, **kwargs: Any) -> str:
        if key.startswith(self.prefix):
            self.puts += 1
            if self.puts == self.nth:
                self.hook()
        return super().put(key, body, content_type, **kwargs)


def notify(*records: tuple[str, str], catalog: bool = False) -> dict[str, Any]:
    """The reindexer of the test bucket, built from its settings, run on the S3
    notification of ``records`` ((event name, key) pairs)."""
    return reindexer(Storage(make_client(), BUCKET), catalog=catalog)(s3_event(*records))


def sized(event: dict[str, Any], size: int | None) -> dict[str, Any]:
    """``event`` with its (one) record's object size replaced: None leaves none."""
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    found = message["Records"][0]["s3"]["object"]
    found.pop("size")
    if size is not None:
        found["size"] = size
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event
