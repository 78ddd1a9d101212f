"""A project derived from a listing of its folders (moto S3): what is read, what is
kept, skipped or rewritten, and racing reindexers."""

from __future__ import annotations

import gzip
import hashlib
import logging
from typing import Any

import pytest

from serverless_pypi import indexer, simple
from serverless_pypi import manifest as manifests
from serverless_pypi.layout import (
    METADATA_PREFIX,
    ROOT_HTML,
    manifest_key,
    metadata_key,
)
from serverless_pypi.storage import Storage
from tests.builders import metadata_text, sdist_bytes, wheel_bytes
from tests.conftest import BUCKET
from tests.moto_bucket import (
    HookedStorage,
    files,
    manifest,
    put,
    read,
    reindex,
    root,
)
from tests.unit.test_manifest import HOSTILE_REASONS, raw_controls


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
        def read_range(
            self, key: str, start: int, end: int, etag: str
        ) -> tuple[bytes, dict[str, str]]:
            if key.endswith(second):
                s3.delete_object(Bucket=BUCKET, Key=key)
            return super().read_range(key, start, end, etag)

    result = indexer.reindex_project(Vanishing(storage.client, BUCKET), "my-pkg", ["my-pkg"])
    assert result.files == 1
    assert list(files(s3, "my-pkg")) == [first]


def test_metadata_text_helper_is_realistic() -> None:
    assert metadata_text("x", "1").startswith("Metadata-Version: 2.3\nName: x\nVersion: 1\n")
