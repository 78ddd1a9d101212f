"""Deriving the index from the bucket (moto S3)."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import pytest

from serverless_pypi import batch as batches
from serverless_pypi import distfile, indexer, manifeststore, rootindex, rootwriter, simple
from serverless_pypi import manifest as manifests
from serverless_pypi.config import ReindexSettings
from serverless_pypi.layout import (
    METADATA_PREFIX,
    ROOT_HTML,
    ROOT_JSON,
    manifest_key,
    metadata_key,
)
from serverless_pypi.objects import PreconditionFailed
from serverless_pypi.reindex import Reindexer
from serverless_pypi.storage import Storage
from tests.builders import metadata_text, sdist_bytes, wheel_bytes
from tests.conftest import BUCKET, s3_event
from tests.unit.test_manifest import HOSTILE_REASONS, raw_controls


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


def handler(storage: Storage) -> Reindexer:
    return Reindexer(ReindexSettings(BUCKET), storage)


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


def test_a_wheel_and_an_sdist_are_indexed(s3: Any, storage: Storage) -> None:
    wheel_name, wheel = wheel_bytes("my-pkg", "1.0", requires_python=">=3.9")
    sdist_name, sdist = sdist_bytes("my-pkg", "1.0", requires_python=">=3.9")
    put(s3, f"my-pkg/{wheel_name}", wheel)
    put(s3, f"my-pkg/{sdist_name}", sdist)
    result = reindex(storage, "my-pkg")
    assert (result.files, result.changed, result.inspected) == (2, True, 2)
    found = files(s3, "my-pkg")
    entry = found[wheel_name]
    assert entry["sha256"] == hashlib.sha256(wheel).hexdigest()
    assert entry["size"] == len(wheel)
    assert entry["requires-python"] == ">=3.9"
    assert entry["version"] == "1.0"
    assert len(entry["upload-time"]) == len("2026-01-02T03:04:05.000000Z")
    assert entry["upload-time"].endswith("Z")
    stored = read(s3, metadata_key("my-pkg", wheel_name))
    assert entry["core-metadata"] == hashlib.sha256(stored).hexdigest()
    assert stored.startswith(b"Metadata-Version: 2.3\nName: my-pkg\nVersion: 1.0")
    # The sdist declares static metadata (2.3): it is announced too.
    assert (
        found[sdist_name]["core-metadata"]
        == hashlib.sha256(read(s3, metadata_key("my-pkg", sdist_name))).hexdigest()
    )
    assert root(s3) == ["my-pkg"]
    assert b'<a href="my-pkg/">my-pkg</a>' in read(s3, ROOT_HTML)


def test_indexed_files_are_not_read_again(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    again = reindex(storage, "my-pkg")
    assert (again.changed, again.inspected) == (False, 0)
    name2, data2 = wheel_bytes("my-pkg", "1.1")
    put(s3, f"my-pkg/{name2}", data2)
    third = reindex(storage, "my-pkg")
    assert (third.changed, third.inspected, third.files) == (True, 1, 2)


def test_a_replaced_file_is_read_again(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0", summary="first")
    put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    _, replacement = wheel_bytes("my-pkg", "1.0", summary="second build")
    put(s3, f"my-pkg/{name}", replacement)
    result = reindex(storage, "my-pkg")
    assert result.inspected == 1
    assert files(s3, "my-pkg")[name]["sha256"] == hashlib.sha256(replacement).hexdigest()
    assert b"second build" in read(s3, metadata_key("my-pkg", name))


def test_removing_the_last_file_removes_the_project(s3: Any, storage: Storage) -> None:
    for version in ("1.0", "2.0"):
        name, data = wheel_bytes("my-pkg", version)
        put(s3, f"my-pkg/{name}", data)
    other, data = wheel_bytes("other", "1.0")
    put(s3, f"other/{other}", data)
    reindex(storage, "my-pkg")
    reindex(storage, "other")
    assert root(s3) == ["my-pkg", "other"]
    s3.delete_object(Bucket=BUCKET, Key="my-pkg/my_pkg-1.0-py3-none-any.whl")
    reindex(storage, "my-pkg")
    assert list(files(s3, "my-pkg")) == ["my_pkg-2.0-py3-none-any.whl"]
    s3.delete_object(Bucket=BUCKET, Key="my-pkg/my_pkg-2.0-py3-none-any.whl")
    result = reindex(storage, "my-pkg")
    assert result.files == 0
    assert manifest(s3, "my-pkg")["files"] == []
    assert root(s3) == ["other"]
    assert b"my-pkg" not in read(s3, ROOT_HTML)


def test_folders_in_any_spelling_make_one_project(
    s3: Any, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    first, data1 = wheel_bytes("other-pkg", "1.0")
    second, data2 = wheel_bytes("other-pkg", "2.0")
    put(s3, f"Other.Pkg/{first}", data1)
    put(s3, f"other_pkg/{second}", data2)
    put(s3, f"other_pkg/{first}", b"a later upload of the same filename")
    with caplog.at_level(logging.WARNING):
        result = reindex(storage, "other-pkg", "Other.Pkg", "other_pkg")
    assert result.files == 2
    found = files(s3, "other-pkg")
    assert found[first]["key"] == f"Other.Pkg/{first}"
    assert found[first]["sha256"] == hashlib.sha256(data1).hexdigest()
    assert found[second]["key"] == f"other_pkg/{second}"
    assert manifest(s3, "other-pkg")["folders"] == ["Other.Pkg", "other_pkg"]
    assert f"other_pkg/{first}" in result.skipped
    assert "already in" in caplog.text
    # The folders are remembered: a later event naming one of them finds both.
    assert indexer.reindex_project(storage, "other-pkg", ["other_pkg"]).files == 2


def test_files_of_another_project_are_skipped(
    s3: Any, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    mine, data = wheel_bytes("my-pkg", "1.0")
    stray, other = wheel_bytes("not-mine", "1.0")
    put(s3, f"my-pkg/{mine}", data)
    put(s3, f"my-pkg/{stray}", other)
    put(s3, "my-pkg/README.md", b"notes")
    put(s3, "my-pkg/sub/my_pkg-3.0-py3-none-any.whl", data)
    with caplog.at_level(logging.WARNING):
        result = reindex(storage, "my-pkg")
    assert list(files(s3, "my-pkg")) == [mine]
    assert result.skipped == (f"my-pkg/{stray}",)
    assert f"skipped my-pkg/{stray}: not a distribution of my-pkg" in caplog.text


def test_yank_markers_set_and_clear_the_yanked_flag(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    assert "yanked" not in files(s3, "my-pkg")[name]
    put(s3, f"my-pkg/{name}.yanked", b"Broken build,\n see #12\n")
    result = reindex(storage, "my-pkg")
    assert (result.changed, result.inspected) == (True, 0)
    assert files(s3, "my-pkg")[name]["yanked"] == "Broken build, see #12"
    put(s3, f"my-pkg/{name}.yanked", b"")
    reindex(storage, "my-pkg")
    assert files(s3, "my-pkg")[name]["yanked"] is True
    s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{name}.yanked")
    reindex(storage, "my-pkg")
    assert "yanked" not in files(s3, "my-pkg")[name]


def test_yank_markers_are_stored_and_shown_without_control_characters(
    s3: Any, storage: Storage
) -> None:
    """Whoever may write the bucket writes markers; pip prints the reason."""
    expected = {}
    for number, (raw, clean) in enumerate(HOSTILE_REASONS.values()):
        name, data = wheel_bytes("my-pkg", f"1.{number}")
        put(s3, f"my-pkg/{name}", data)
        put(s3, f"my-pkg/{name}.yanked", raw.encode())
        expected[name] = clean or True
    reindex(storage, "my-pkg")
    assert {name: entry["yanked"] for name, entry in files(s3, "my-pkg").items()} == expected
    stored = s3.get_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))
    body, metadata = stored["Body"].read(), stored["Metadata"]
    for variant in ("html", "json"):
        page = manifests.stored_page(body, metadata, variant, simple.RENDER_VERSION)
        assert page is not None and not raw_controls(gzip.decompress(page).decode())


def test_a_raw_reason_an_earlier_release_kept_is_cleaned_by_the_next_listing(
    s3: Any, storage: Storage
) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    put(s3, f"my-pkg/{name}.yanked", b"\x1b]0;owned\x07use 2.0")
    reindex(storage, "my-pkg")
    saved = manifest(s3, "my-pkg")
    saved["files"][0]["yanked"] = "\x1b]0;owned\x07use 2.0"  # as the marker held it
    put(s3, manifest_key("my-pkg"), manifests.encode(saved))  # type: ignore[arg-type]
    assert indexer.reindex_project(storage, "my-pkg", ["my-pkg"]).inspected == 0
    assert files(s3, "my-pkg")[name]["yanked"] == "]0;owneduse 2.0"


def test_sdists_without_static_metadata_announce_none(s3: Any, storage: Storage) -> None:
    name, data = sdist_bytes("my-pkg", "1.0", metadata_version="2.1", requires_python=">=3.8")
    put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    entry = files(s3, "my-pkg")[name]
    assert "core-metadata" not in entry
    assert entry["requires-python"] == ">=3.8"


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("my_pkg-1.0-py3-none-any.whl", b"not a zip at all"),
        ("my_pkg-1.0.tar.gz", b"\x1f\x8b\x08\x00 truncated"),
        ("my_pkg-1.0.zip", b""),
    ],
)
def test_corrupt_distributions_are_indexed_without_metadata(
    s3: Any, storage: Storage, caplog: pytest.LogCaptureFixture, filename: str, data: bytes
) -> None:
    good, good_data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{filename}", data)
    put(s3, f"my-pkg/{good}", good_data)
    with caplog.at_level(logging.WARNING):
        reindex(storage, "my-pkg")
    found = files(s3, "my-pkg")
    assert found[filename]["sha256"] == hashlib.sha256(data).hexdigest()
    assert "core-metadata" not in found[filename]
    assert "core-metadata" in found[good]
    assert f"indexed my-pkg/{filename} without metadata" in caplog.text


def test_metadata_with_broken_headers_is_not_announced(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0", metadata="Summary: no name or version\n")
    put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    assert "core-metadata" not in files(s3, "my-pkg")[name]


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


def test_a_racing_reindex_never_loses_a_file(
    s3: Any, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    """Two reindexers of one project interleave at the worst moment.

    A lists the folder (one file), B sees a second upload and writes its
    manifest first; A's write must not replace B's. Without conditional
    writes, A would write a manifest without the second file.
    """
    first, data1 = wheel_bytes("my-pkg", "1.0")
    second, data2 = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{first}", data1)

    def other_reindexer() -> None:
        put(s3, f"my-pkg/{second}", data2)
        assert indexer.reindex_project(storage, "my-pkg", ["my-pkg"]).files == 2

    racer = HookedStorage(storage, manifest_key("my-pkg"), other_reindexer)
    with caplog.at_level(logging.INFO):
        result = indexer.reindex_project(racer, "my-pkg", ["my-pkg"])
    # A lost the write, re-derived from a fresh listing and found B's manifest right.
    assert "another reindex wrote first" in caplog.text
    assert result.files == 2
    assert sorted(files(s3, "my-pkg")) == [first, second]


def test_racing_root_updates_keep_both_projects(s3: Any, storage: Storage) -> None:
    for project in ("alpha", "beta"):
        name, data = wheel_bytes(project, "1.0")
        put(s3, f"{project}/{name}", data)
        indexer.reindex_project(storage, project, [project])

    racer = HookedStorage(
        storage, ROOT_HTML, lambda: rootwriter.update_root(storage, {"beta": True})
    )
    rootwriter.update_root(racer, {"alpha": True})
    assert root(s3) == ["alpha", "beta"]
    assert b"alpha/" in read(s3, ROOT_HTML) and b"beta/" in read(s3, ROOT_HTML)


def test_metadata_written_from_a_replaced_file_is_rewritten(s3: Any, storage: Storage) -> None:
    """A reads version 1 of a file; B indexes its replacement and wins.

    A's retry must not keep the metadata it wrote from version 1.
    """
    name, old = wheel_bytes("my-pkg", "1.0", summary="old build")
    _, new = wheel_bytes("my-pkg", "1.0", summary="new build")
    put(s3, f"my-pkg/{name}", old)

    def replace_and_reindex() -> None:
        put(s3, f"my-pkg/{name}", new)
        indexer.reindex_project(storage, "my-pkg", ["my-pkg"])

    racer = HookedStorage(storage, METADATA_PREFIX + "my-pkg/", replace_and_reindex)
    indexer.reindex_project(racer, "my-pkg", ["my-pkg"])
    entry = files(s3, "my-pkg")[name]
    stored = read(s3, metadata_key("my-pkg", name))
    assert b"new build" in stored
    assert entry["core-metadata"] == hashlib.sha256(stored).hexdigest()
    assert entry["sha256"] == hashlib.sha256(new).hexdigest()


def test_a_file_deleted_while_being_read_is_left_out(s3: Any, storage: Storage) -> None:
    first, data1 = wheel_bytes("my-pkg", "1.0")
    second, data2 = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{first}", data1)
    put(s3, f"my-pkg/{second}", data2)

    class Vanishing(Storage):
        def get_range(self, key: str, start: int, end: int, etag: str) -> bytes:
            if key.endswith(second):
                s3.delete_object(Bucket=BUCKET, Key=key)
            return super().get_range(key, start, end, etag)

    result = indexer.reindex_project(Vanishing(storage.client, BUCKET), "my-pkg", ["my-pkg"])
    assert result.files == 1
    assert list(files(s3, "my-pkg")) == [first]


def test_rebuild_indexes_a_bucket_filled_by_another_tool(s3: Any, storage: Storage) -> None:
    # The older module's layout: folders of distributions and its own index.html.
    put(s3, "index.html", b'<a href="fizz">fizz</a><br><a href="Buzz_Pkg">Buzz_Pkg</a>')
    for folder, project, version in [
        ("fizz", "fizz", "0.1"),
        ("fizz", "fizz", "0.2"),
        ("Buzz_Pkg", "buzz-pkg", "1.0"),
    ]:
        name, data = sdist_bytes(project, version)
        put(s3, f"{folder}/{name}", data)
    put(s3, "secret.pem", b"-----BEGIN PRIVATE KEY-----")
    put(s3, "-bad-/x-1.0.tar.gz", b"")
    # A manifest left from a project that is no longer in the bucket.
    stale = {"schema": 1, "name": "gone", "folders": ["gone"], "files": [{"filename": "x"}]}
    put(s3, manifest_key("gone"), json.dumps(stale).encode())
    seen: list[str] = []
    batch = batches.rebuild(
        storage, progress=lambda done, total, result: seen.append(result.project)
    )
    assert not batch.failures
    assert sorted(seen) == ["buzz-pkg", "fizz", "gone"]
    assert batch.files == 3
    assert root(s3) == ["buzz-pkg", "fizz"]
    assert sorted(files(s3, "fizz")) == ["fizz-0.1.tar.gz", "fizz-0.2.tar.gz"]
    assert manifest(s3, "gone")["files"] == []
    html = read(s3, ROOT_HTML)
    assert b'href="buzz-pkg/"' in html and b"Buzz_Pkg" not in html
    # A second rebuild reads nothing again.
    again = batches.rebuild(storage)
    assert sum(result.inspected for result in again.results) == 0


def test_metadata_text_helper_is_realistic() -> None:
    assert metadata_text("x", "1").startswith("Metadata-Version: 2.3\nName: x\nVersion: 1\n")


def test_manifests_are_stored_gzipped(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    stored = s3.get_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))
    assert stored["ContentEncoding"] == "gzip"
    body = stored["Body"].read()
    assert body[:2] == b"\x1f\x8b"
    assert manifest(s3, "my-pkg")["files"][0]["href"] == name
    plain = manifests.new("x", ["x"], [])
    assert manifests.decode(json.dumps(plain).encode()) == plain  # stored plain, still read
    assert manifests.decode(json.dumps({"plain": True}).encode()) is None


def test_manifests_keep_files_sorted_by_version_then_filename() -> None:
    def entry(filename: str, version: str) -> manifests.Entry:
        return {
            "filename": filename,
            "key": f"x/{filename}",
            "version": version,
            "size": 1,
            "etag": '"e"',
        }

    shuffled = [
        entry("x-1.10.tar.gz", "1.10"),
        entry("x-1.10-py3-none-any.whl", "1.10"),
        entry("x-1.9.tar.gz", "1.9"),
        entry("x-1.0rc1.tar.gz", "1.0rc1"),
        entry("x-banana.tar.gz", "banana"),  # not PEP 440: before every valid version
    ]
    made = manifests.new("x", ["x"], iter(shuffled))
    assert [file["filename"] for file in made["files"]] == [
        "x-banana.tar.gz",
        "x-1.0rc1.tar.gz",
        "x-1.9.tar.gz",
        "x-1.10-py3-none-any.whl",
        "x-1.10.tar.gz",
    ]


def test_a_malformed_root_index_is_rewritten(
    s3: Any, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    for project in ("alpha", "beta"):
        name, data = wheel_bytes(project, "1.0")
        put(s3, f"{project}/{name}", data)
        reindex(storage, project)
    put(s3, ROOT_JSON, b'{"meta":{"api-version":"1.1"},"projects":[{"name":7}]}')
    with caplog.at_level(logging.WARNING, logger="serverless_pypi.indexer"):
        rootwriter.update_root(storage, {"beta": True})
    assert "unreadable root index: rewriting it" in caplog.text
    assert root(s3) == ["beta"]  # what the event named; the others come back with a rebuild
    batches.rebuild(storage)
    assert root(s3) == ["alpha", "beta"]


def test_pages_too_large_for_lambda_announce_metadata_without_hashes(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serverless_pypi import payload

    for version in ("1.0", "2.0"):
        name, data = wheel_bytes("my-pkg", version)
        put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    assert "metadata-hashes" not in manifest(s3, "my-pkg")
    # Shrink the limits so that this small project counts as too large.
    monkeypatch.setattr(manifeststore, "LARGE_PROJECT", 1)
    monkeypatch.setattr(payload, "MAX_RESPONSE_PAYLOAD", 300)
    reindex(storage, "my-pkg")
    assert manifest(s3, "my-pkg")["metadata-hashes"] is False
    monkeypatch.setattr(payload, "MAX_RESPONSE_PAYLOAD", 6_000_000)
    reindex(storage, "my-pkg")
    assert "metadata-hashes" not in manifest(s3, "my-pkg")


def test_a_rebuild_racing_the_lambda_reindexer_loses_nothing(s3: Any, storage: Storage) -> None:
    """The rebuild lists the bucket, then the Lambda indexes a new upload first.

    The rebuild knew the project had no manifest; its write must not replace
    the one the Lambda wrote meanwhile with its older view.
    """
    first, data1 = wheel_bytes("my-pkg", "1.0")
    second, data2 = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{first}", data1)

    def lambda_reindexer() -> None:
        put(s3, f"my-pkg/{second}", data2)
        indexer.reindex_project(storage, "my-pkg", ["my-pkg"])

    racer = HookedStorage(storage, manifest_key("my-pkg"), lambda_reindexer)
    batch = batches.rebuild(racer)
    assert not batch.failures
    assert sorted(files(s3, "my-pkg")) == [first, second]
    assert root(s3) == ["my-pkg"]


def test_conditional_writes_work_with_a_botocore_that_predates_them(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older Lambda runtime's botocore knows no IfMatch: the headers go out anyway."""
    from serverless_pypi import storage as storage_module

    monkeypatch.setattr(storage_module, "supports_conditional_writes", lambda client: False)
    legacy = Storage(storage_module.make_client(), BUCKET)
    legacy.put("k", b"1", "text/plain", if_absent=True)
    with pytest.raises(PreconditionFailed):
        legacy.put("k", b"2", "text/plain", if_absent=True)
    etag = s3.head_object(Bucket=BUCKET, Key="k")["ETag"]
    with pytest.raises(PreconditionFailed):
        legacy.put("k", b"3", "text/plain", if_match='"0000"')
    legacy.put("k", b"4", "text/plain", if_match=etag)
    assert read(s3, "k") == b"4"
    # Unconditional writes carry no leftover condition.
    legacy.put("k", b"5", "text/plain")
    assert read(s3, "k") == b"5"


# -- the manifest and its pages, one object ----------------------------------


def test_the_manifest_is_stored_with_both_its_pages(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0", requires_python=">=3.9")
    put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    stored = s3.get_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))
    body, metadata = stored["Body"].read(), stored["Metadata"]
    saved = manifests.decode(body)
    assert saved is not None and [entry["filename"] for entry in saved["files"]] == [name]
    html, page = simple.redirect_pages(saved)
    variants: list[tuple[manifests.Variant, str]] = [("html", html), ("json", page)]
    for variant, rendered in variants:
        stored_page = manifests.stored_page(body, metadata, variant, simple.RENDER_VERSION)
        assert stored_page is not None
        assert gzip.decompress(stored_page) == rendered.encode()
    render, *lengths = metadata[manifests.PAGES].split()
    assert render == simple.RENDER_VERSION
    assert sum(int(length) for length in lengths) == len(body)
    assert metadata["files"] == "1"
    assert manifests.stored_page(body, metadata, "json", "another render") is None


def test_a_project_without_files_stores_no_page(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("other", "1.0")
    put(s3, f"my-pkg/{name}", data)
    reindex(storage, "my-pkg")
    stored = s3.get_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))
    body, metadata = stored["Body"].read(), stored["Metadata"]
    assert manifest(s3, "my-pkg")["files"] == []
    for variant in ("html", "json"):
        assert manifests.stored_page(body, metadata, variant, simple.RENDER_VERSION) is None


@pytest.mark.parametrize(
    "layout",
    ["", "1 2 3", "1 a 0 0", "1 -5 5 0", "1 {head} 1 {rest}", "1 {head} {rest} 0", "2 {head} 0 0"],
)
def test_a_stored_layout_that_does_not_add_up_gives_no_page(layout: str) -> None:
    body, _ = manifests.pack(manifests.new("x", ["x"], []), None, "1")
    head = len(body)
    body += b"not gzip at all"
    text = layout.format(head=head, rest=len(body) - head - 1)
    assert manifests.stored_page(body, {manifests.PAGES: text}, "html", "1") is None
    assert manifests.stored_page(body, {manifests.PAGES: text}, "json", "1") is None
    assert manifests.decode(body) == manifests.new("x", ["x"], [])


# -- the incremental path ------------------------------------------------------


def _indexed_project(s3: Any, storage: Storage, *versions: str) -> list[str]:
    names = []
    for version in versions:
        name, data = wheel_bytes("my-pkg", version)
        put(s3, f"my-pkg/{name}", data)
        names.append(name)
    reindex(storage, "my-pkg")
    return names


def test_an_event_adds_its_file_with_four_requests_and_no_listing(
    s3: Any, storage: Storage
) -> None:
    _indexed_project(s3, storage, "1.0", "1.1")
    name, data = wheel_bytes("my-pkg", "2.0", requires_python=">=3.9")
    put(s3, f"my-pkg/{name}", data)
    requests = Requests(storage)
    answer = handler(storage)(created(s3, f"my-pkg/{name}"))
    assert answer == {"projects": ["my-pkg"], "changed": ["my-pkg"], "files": 3}
    assert requests.take() == [
        f"GET {manifest_key('my-pkg')}",
        f"GET my-pkg/{name}",
        f"PUT {metadata_key('my-pkg', name)}",
        f"PUT {manifest_key('my-pkg')}",
    ]
    entry = files(s3, "my-pkg")[name]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["requires-python"] == ">=3.9"
    stored = read(s3, metadata_key("my-pkg", name))
    assert entry["core-metadata"] == hashlib.sha256(stored).hexdigest()
    # What a listing makes of the project is what the event made of it.
    again = indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    assert (again.changed, again.inspected) == (False, 0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: wheel_bytes("my-pkg", "2.0", requires_python=">=3.9"),
        lambda: sdist_bytes("my-pkg", "2.0"),
        lambda: sdist_bytes("my-pkg", "2.0", metadata_version="2.1"),  # not announced
        lambda: ("my_pkg-2.0-py3-none-any.whl", b"not a zip at all"),  # a problem file
    ],
)
def test_an_event_makes_the_entry_a_listing_makes(
    s3: Any, storage: Storage, build: Callable[[], tuple[str, bytes]]
) -> None:
    _indexed_project(s3, storage, "1.0")
    name, data = build()
    put(s3, f"my-pkg/{name}", data)
    requests = Requests(storage)
    handler(storage)(created(s3, f"my-pkg/{name}"))
    assert not [sent for sent in requests.take() if sent.startswith("LIST ")]
    by_event = manifest(s3, "my-pkg")
    assert name in files(s3, "my-pkg")
    listed = indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    assert (listed.changed, listed.inspected) == (False, 0)
    assert manifest(s3, "my-pkg") == by_event


def test_a_repeated_event_costs_one_read(s3: Any, storage: Storage) -> None:
    [name] = _indexed_project(s3, storage, "1.0")
    requests = Requests(storage)
    assert handler(storage)(created(s3, f"my-pkg/{name}"))["changed"] == []
    assert requests.take() == [f"GET {manifest_key('my-pkg')}"]


def test_an_event_older_than_its_object_is_checked_with_a_listing(
    s3: Any, storage: Storage
) -> None:
    _indexed_project(s3, storage, "1.0")
    name, first = wheel_bytes("my-pkg", "2.0", summary="first build")
    put(s3, f"my-pkg/{name}", first)
    stale = created(s3, f"my-pkg/{name}")
    _, second = wheel_bytes("my-pkg", "2.0", summary="second build")
    put(s3, f"my-pkg/{name}", second)
    requests = Requests(storage)
    handler(storage)(stale)
    assert "LIST my-pkg/" in requests.take()
    assert files(s3, "my-pkg")[name]["sha256"] == hashlib.sha256(second).hexdigest()
    assert b"second build" in read(s3, metadata_key("my-pkg", name))


def test_an_event_for_a_file_already_removed_adds_nothing(s3: Any, storage: Storage) -> None:
    [kept] = _indexed_project(s3, storage, "1.0")
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)
    event = created(s3, f"my-pkg/{name}")
    s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{name}")
    handler(storage)(event)
    assert list(files(s3, "my-pkg")) == [kept]


def test_a_replaced_file_is_read_again_after_a_listing(s3: Any, storage: Storage) -> None:
    [name] = _indexed_project(s3, storage, "1.0")
    _, replacement = wheel_bytes("my-pkg", "1.0", summary="rebuilt")
    put(s3, f"my-pkg/{name}", replacement)
    requests = Requests(storage)
    handler(storage)(created(s3, f"my-pkg/{name}"))
    assert "LIST my-pkg/" in requests.take()
    assert files(s3, "my-pkg")[name]["sha256"] == hashlib.sha256(replacement).hexdigest()


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("My_Pkg/my_pkg-2.0-py3-none-any.whl", "a folder the manifest does not know"),
        ("my-pkg/not_mine-2.0-py3-none-any.whl", "a file of another project"),
        ("my_pkg/my_pkg-1.0-py3-none-any.whl", "a filename indexed from another folder"),
        ("my-pkg/my_pkg-1.0-py3-none-any.whl.yanked", "a yank marker"),
    ],
)
def test_what_does_not_add_up_takes_a_listing(
    s3: Any, storage: Storage, key: str, why: str
) -> None:
    _indexed_project(s3, storage, "1.0")
    folder, _, filename = key.partition("/")
    data = b"yanked" if key.endswith(".yanked") else wheel_bytes(*filename.split("-")[:2])[1]
    put(s3, key, data)
    requests = Requests(storage)
    handler(storage)(created(s3, key))
    assert any(sent.startswith("LIST ") for sent in requests.take()), why
    found = indexer.reindex_project(storage, "my-pkg", ["my-pkg", folder])
    assert not found.changed, why  # the listing left nothing to do


def sized(event: dict[str, Any], size: int | None) -> dict[str, Any]:
    """``event`` with its (one) record's object size replaced: None leaves none."""
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    found = message["Records"][0]["s3"]["object"]
    found.pop("size")
    if size is not None:
        found["size"] = size
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


REAL = 256 * 1024  # bytes of random payload: a wheel four times distfile.SMALL_FILE here


@pytest.mark.parametrize(
    "said",
    [0, 1, REAL // 2, 2 * REAL, 1 << 62, -1, None],
    ids=["0", "1", "smaller", "larger", "absurd", "negative", "missing"],
)
def test_the_size_an_event_gives_never_makes_a_read_of_the_whole_object(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch, said: int | None
) -> None:
    """A forged or replayed record with the object's real ETag and another size:
    every GET of the object asks for a range (one without would read it whole,
    600 MB into a function of 512), and the file is indexed as a listing indexes it."""
    monkeypatch.setattr(distfile, "SMALL_FILE", 64 * 1024)
    _indexed_project(s3, storage, "1.0")
    name, data = wheel_bytes("my-pkg", "2.0", extra_files={"my_pkg/blob": os.urandom(REAL)})
    key = f"my-pkg/{name}"
    # With S3's SHA-256, a listing reads the zip's directory by ranges, never all of it.
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, ChecksumAlgorithm="SHA256")
    requests = Requests(storage)
    handler(storage)(sized(created(s3, key), said))
    reads = [byte_range for read_key, byte_range in requests.gets if read_key == key]
    assert None not in reads
    entry = files(s3, "my-pkg")[name]
    assert (entry["size"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert "core-metadata" in entry
    listed = indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    assert (listed.changed, listed.inspected) == (False, 0)


def test_an_event_that_gives_an_empty_object_a_size_is_checked_with_a_listing(
    s3: Any, storage: Storage
) -> None:
    """S3 answers 416 to a range of an empty object: the event does not match the
    bucket, which a listing settles, rather than an error that fails every retry."""
    [kept] = _indexed_project(s3, storage, "1.0")
    name = "my_pkg-2.0-py3-none-any.whl"
    put(s3, f"my-pkg/{name}", b"")
    requests = Requests(storage)
    answer = handler(storage)(sized(created(s3, f"my-pkg/{name}"), 10))
    assert answer["files"] == 2
    assert "LIST my-pkg/" in requests.take()
    entry = files(s3, "my-pkg")[name]
    assert (entry["size"], entry["sha256"]) == (0, hashlib.sha256(b"").hexdigest())
    assert kept in files(s3, "my-pkg")


def test_a_removal_rewrites_the_manifest_even_when_nothing_changes(
    s3: Any, storage: Storage
) -> None:
    """So that an add that checked its file before the removal loses its write."""
    _indexed_project(s3, storage, "1.0")
    before = s3.head_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))["ETag"]
    saved = manifest(s3, "my-pkg")
    gone = "my-pkg/my_pkg-9.0-py3-none-any.whl"  # never indexed
    handler(storage)(s3_event(("ObjectRemoved:Delete", gone)))
    assert s3.head_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))["ETag"] != before
    assert manifest(s3, "my-pkg") == saved


def test_a_lost_event_is_made_up_for_by_the_first_event_after_an_hour(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    _indexed_project(s3, storage, "1.0")
    lost, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{lost}", data)  # its event never comes
    later, data = wheel_bytes("my-pkg", "3.0")
    put(s3, f"my-pkg/{later}", data)
    handler(storage)(created(s3, f"my-pkg/{later}"))
    assert lost not in files(s3, "my-pkg")
    monkeypatch.setattr(manifeststore, "RELIST_SECONDS", 0)  # the last listing is now too old
    last, data = wheel_bytes("my-pkg", "4.0")
    put(s3, f"my-pkg/{last}", data)
    handler(storage)(created(s3, f"my-pkg/{last}"))
    assert {lost, later, last} <= set(files(s3, "my-pkg"))


def test_a_manifest_of_an_older_release_is_listed_and_stored_with_its_pages(
    s3: Any, storage: Storage
) -> None:
    [first] = _indexed_project(s3, storage, "1.0")
    plain = manifest(s3, "my-pkg")
    s3.put_object(Bucket=BUCKET, Key=manifest_key("my-pkg"), Body=manifests.encode(plain))  # type: ignore[arg-type]
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)
    requests = Requests(storage)
    handler(storage)(created(s3, f"my-pkg/{name}"))
    assert "LIST my-pkg/" in requests.take()
    stored = s3.head_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))["Metadata"]
    assert manifests.stored_render(stored) == simple.RENDER_VERSION
    assert manifeststore.LISTED in stored
    assert sorted(files(s3, "my-pkg")) == [first, name]


def test_a_removal_racing_an_add_loses_neither(s3: Any, storage: Storage) -> None:
    """The add reads the manifest, the removal of another file commits first: the
    add loses its write, and adds its file to the manifest the removal wrote."""
    gone, kept = _indexed_project(s3, storage, "1.0", "1.1")
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)

    def removal() -> None:
        s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{gone}")
        handler(storage)(s3_event(("ObjectRemoved:Delete", f"my-pkg/{gone}")))

    racer = HookedStorage(storage, manifest_key("my-pkg"), removal)
    handler(racer)(created(s3, f"my-pkg/{name}"))
    assert sorted(files(s3, "my-pkg")) == [kept, name]


def test_an_add_racing_a_removal_loses_neither(s3: Any, storage: Storage) -> None:
    """The removal lists the project, the add commits first: the removal loses its
    write, lists again, and keeps the new file."""
    gone, kept = _indexed_project(s3, storage, "1.0", "1.1")
    name, data = wheel_bytes("my-pkg", "2.0")

    def add() -> None:
        put(s3, f"my-pkg/{name}", data)
        handler(storage)(created(s3, f"my-pkg/{name}"))

    s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{gone}")
    racer = HookedStorage(storage, manifest_key("my-pkg"), add)
    handler(racer)(s3_event(("ObjectRemoved:Delete", f"my-pkg/{gone}")))
    assert sorted(files(s3, "my-pkg")) == [kept, name]


def test_an_add_racing_the_removal_of_its_own_file_leaves_no_trace(
    s3: Any, storage: Storage
) -> None:
    """The add read the file; before its write, the file is removed and the removal
    handled. The removal's write (a touch: its listing changed nothing) makes the
    add's write fail; the add checks its file again and finds it gone."""
    [kept] = _indexed_project(s3, storage, "1.0")
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)
    event = created(s3, f"my-pkg/{name}")

    def removal() -> None:
        s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{name}")
        handler(storage)(s3_event(("ObjectRemoved:Delete", f"my-pkg/{name}")))

    racer = HookedStorage(storage, manifest_key("my-pkg"), removal)
    handler(racer)(event)
    assert list(files(s3, "my-pkg")) == [kept]


def test_a_metadata_file_a_racing_writer_replaced_is_written_again(
    s3: Any, storage: Storage
) -> None:
    """A reads version 2 of a file; a writer that read version 1 writes its metadata
    file and its manifest first. A's next round uses what it read, and writes its
    metadata file again: the page's metadata hash is the metadata file's.

    (A's first manifest write claims the name, its second follows the read.)"""
    name, old = wheel_bytes("my-pkg", "1.0", summary="old build")
    _, new = wheel_bytes("my-pkg", "1.0", summary="new build")
    put(s3, f"my-pkg/{name}", new)

    def older_writer() -> None:
        stale = {
            "filename": name,
            "key": f"my-pkg/{name}",
            "version": "1.0",
            "size": len(old),
            "etag": '"0123456789abcdef0123456789abcdef"',
        }
        put(s3, metadata_key("my-pkg", name), b"Metadata-Version: 2.1\nSummary: old build\n")
        saved = manifests.new("my-pkg", ["my-pkg"], [stale])  # type: ignore[list-item]
        put(s3, manifest_key("my-pkg"), manifests.encode(saved))

    racer = HookedStorage(storage, manifest_key("my-pkg"), older_writer, nth=2)
    assert indexer.reindex_project(racer, "my-pkg", ["my-pkg"]).inspected == 1
    stored = read(s3, metadata_key("my-pkg", name))
    assert b"new build" in stored
    assert files(s3, "my-pkg")[name]["core-metadata"] == hashlib.sha256(stored).hexdigest()
