"""The incremental path: the files an event names added to their manifest (moto S3),
what it costs, and what makes it take a listing instead."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import pytest

from serverless_pypi import distfile, indexer, manifeststore
from serverless_pypi import manifest as manifests
from serverless_pypi.catalog import CATALOG
from serverless_pypi.layout import (
    manifest_key,
    metadata_key,
)
from serverless_pypi.storage import Storage
from tests.builders import sdist_bytes, wheel_bytes
from tests.conftest import BUCKET, s3_event
from tests.moto_bucket import (
    HookedStorage,
    Requests,
    created,
    files,
    indexed_project,
    manifest,
    put,
    read,
    reindexer,
    sized,
)


@pytest.mark.parametrize("catalog", [False, True], ids=["default", "with-the-pages"])
def test_an_event_adds_its_file_with_four_requests_and_no_listing(
    s3: Any, storage: Storage, catalog: bool
) -> None:
    """Four requests, as ever; with the pages for people deployed (``api_ui``), two
    more, after the manifest: the project's line in their list."""
    indexed_project(s3, storage, "1.0", "1.1")
    name, data = wheel_bytes("my-pkg", "2.0", requires_python=">=3.9")
    put(s3, f"my-pkg/{name}", data)
    requests = Requests(storage)
    answer = reindexer(storage, catalog=catalog)(created(s3, f"my-pkg/{name}"))
    assert answer == {"projects": ["my-pkg"], "changed": ["my-pkg"], "files": 3}
    assert requests.take() == [
        f"GET {manifest_key('my-pkg')}",
        f"GET my-pkg/{name}",
        f"PUT {metadata_key('my-pkg', name)}",
        f"PUT {manifest_key('my-pkg')}",
        *([f"GET {CATALOG}", f"PUT {CATALOG}"] if catalog else []),
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
    indexed_project(s3, storage, "1.0")
    name, data = build()
    put(s3, f"my-pkg/{name}", data)
    requests = Requests(storage)
    reindexer(storage)(created(s3, f"my-pkg/{name}"))
    assert not [sent for sent in requests.take() if sent.startswith("LIST ")]
    by_event = manifest(s3, "my-pkg")
    assert name in files(s3, "my-pkg")
    listed = indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    assert (listed.changed, listed.inspected) == (False, 0)
    assert manifest(s3, "my-pkg") == by_event


def test_a_repeated_event_costs_one_read(s3: Any, storage: Storage) -> None:
    [name] = indexed_project(s3, storage, "1.0")
    requests = Requests(storage)
    assert reindexer(storage)(created(s3, f"my-pkg/{name}"))["changed"] == []
    assert requests.take() == [f"GET {manifest_key('my-pkg')}"]


def test_an_event_older_than_its_object_is_checked_with_a_listing(
    s3: Any, storage: Storage
) -> None:
    indexed_project(s3, storage, "1.0")
    name, first = wheel_bytes("my-pkg", "2.0", summary="first build")
    put(s3, f"my-pkg/{name}", first)
    stale = created(s3, f"my-pkg/{name}")
    _, second = wheel_bytes("my-pkg", "2.0", summary="second build")
    put(s3, f"my-pkg/{name}", second)
    requests = Requests(storage)
    reindexer(storage)(stale)
    assert "LIST my-pkg/" in requests.take()
    assert files(s3, "my-pkg")[name]["sha256"] == hashlib.sha256(second).hexdigest()
    assert b"second build" in read(s3, metadata_key("my-pkg", name))


def test_an_event_for_a_file_already_removed_adds_nothing(s3: Any, storage: Storage) -> None:
    [kept] = indexed_project(s3, storage, "1.0")
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)
    event = created(s3, f"my-pkg/{name}")
    s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{name}")
    reindexer(storage)(event)
    assert list(files(s3, "my-pkg")) == [kept]


def test_a_replaced_file_is_read_again_after_a_listing(s3: Any, storage: Storage) -> None:
    [name] = indexed_project(s3, storage, "1.0")
    _, replacement = wheel_bytes("my-pkg", "1.0", summary="rebuilt")
    put(s3, f"my-pkg/{name}", replacement)
    requests = Requests(storage)
    reindexer(storage)(created(s3, f"my-pkg/{name}"))
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
    indexed_project(s3, storage, "1.0")
    folder, _, filename = key.partition("/")
    data = b"yanked" if key.endswith(".yanked") else wheel_bytes(*filename.split("-")[:2])[1]
    put(s3, key, data)
    requests = Requests(storage)
    reindexer(storage)(created(s3, key))
    assert any(sent.startswith("LIST ") for sent in requests.take()), why
    found = indexer.reindex_project(storage, "my-pkg", ["my-pkg", folder])
    assert not found.changed, why  # the listing left nothing to do


def test_a_removal_rewrites_the_manifest_even_when_nothing_changes(
    s3: Any, storage: Storage
) -> None:
    """So that an add that checked its file before the removal loses its write."""
    indexed_project(s3, storage, "1.0")
    before = s3.head_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))["ETag"]
    saved = manifest(s3, "my-pkg")
    gone = "my-pkg/my_pkg-9.0-py3-none-any.whl"  # never indexed
    reindexer(storage)(s3_event(("ObjectRemoved:Delete", gone)))
    assert s3.head_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))["ETag"] != before
    assert manifest(s3, "my-pkg") == saved


def test_a_lost_event_is_made_up_for_by_the_first_event_after_an_hour(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed_project(s3, storage, "1.0")
    lost, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{lost}", data)  # its event never comes
    later, data = wheel_bytes("my-pkg", "3.0")
    put(s3, f"my-pkg/{later}", data)
    reindexer(storage)(created(s3, f"my-pkg/{later}"))
    assert lost not in files(s3, "my-pkg")
    monkeypatch.setattr(manifeststore, "RELIST_SECONDS", 0)  # the last listing is now too old
    last, data = wheel_bytes("my-pkg", "4.0")
    put(s3, f"my-pkg/{last}", data)
    reindexer(storage)(created(s3, f"my-pkg/{last}"))
    assert {lost, later, last} <= set(files(s3, "my-pkg"))


def test_a_removal_racing_an_add_loses_neither(s3: Any, storage: Storage) -> None:
    """The add reads the manifest, the removal of another file commits first: the
    add loses its write, and adds its file to the manifest the removal wrote."""
    gone, kept = indexed_project(s3, storage, "1.0", "1.1")
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)

    def removal() -> None:
        s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{gone}")
        reindexer(storage)(s3_event(("ObjectRemoved:Delete", f"my-pkg/{gone}")))

    racer = HookedStorage(storage, manifest_key("my-pkg"), removal)
    reindexer(racer)(created(s3, f"my-pkg/{name}"))
    assert sorted(files(s3, "my-pkg")) == [kept, name]


def test_an_add_racing_a_removal_loses_neither(s3: Any, storage: Storage) -> None:
    """The removal lists the project, the add commits first: the removal loses its
    write, lists again, and keeps the new file."""
    gone, kept = indexed_project(s3, storage, "1.0", "1.1")
    name, data = wheel_bytes("my-pkg", "2.0")

    def add() -> None:
        put(s3, f"my-pkg/{name}", data)
        reindexer(storage)(created(s3, f"my-pkg/{name}"))

    s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{gone}")
    racer = HookedStorage(storage, manifest_key("my-pkg"), add)
    reindexer(racer)(s3_event(("ObjectRemoved:Delete", f"my-pkg/{gone}")))
    assert sorted(files(s3, "my-pkg")) == [kept, name]


def test_an_add_racing_the_removal_of_its_own_file_leaves_no_trace(
    s3: Any, storage: Storage
) -> None:
    """The add read the file; before its write, the file is removed and the removal
    handled. The removal's write (a touch: its listing changed nothing) makes the
    add's write fail; the add checks its file again and finds it gone."""
    [kept] = indexed_project(s3, storage, "1.0")
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)
    event = created(s3, f"my-pkg/{name}")

    def removal() -> None:
        s3.delete_object(Bucket=BUCKET, Key=f"my-pkg/{name}")
        reindexer(storage)(s3_event(("ObjectRemoved:Delete", f"my-pkg/{name}")))

    racer = HookedStorage(storage, manifest_key("my-pkg"), removal)
    reindexer(racer)(event)
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
    indexed_project(s3, storage, "1.0")
    name, data = wheel_bytes("my-pkg", "2.0", extra_files={"my_pkg/blob": os.urandom(REAL)})
    key = f"my-pkg/{name}"
    # With S3's SHA-256, a listing reads the zip's directory by ranges, never all of it.
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, ChecksumAlgorithm="SHA256")
    requests = Requests(storage)
    reindexer(storage)(sized(created(s3, key), said))
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
    [kept] = indexed_project(s3, storage, "1.0")
    name = "my_pkg-2.0-py3-none-any.whl"
    put(s3, f"my-pkg/{name}", b"")
    requests = Requests(storage)
    answer = reindexer(storage)(sized(created(s3, f"my-pkg/{name}"), 10))
    assert answer["files"] == 2
    assert "LIST my-pkg/" in requests.take()
    entry = files(s3, "my-pkg")[name]
    assert (entry["size"], entry["sha256"]) == (0, hashlib.sha256(b"").hexdigest())
    assert kept in files(s3, "my-pkg")


@pytest.mark.parametrize("large", [False, True], ids=["read-whole", "headed-then-streamed"])
def test_who_uploaded_a_file_is_kept_by_an_event_and_by_a_rebuild(
    s3: Any, storage: Storage, large: bool
) -> None:
    """The upload route records its user in the object's metadata; both paths carry
    it into the entry from the requests they already send (a small file's GET, a
    large one's HEAD), cleaned as a yank reason is: anyone who may write the
    bucket can set it."""
    indexed_project(s3, storage, "1.0")
    extra = {"blob.bin": os.urandom(distfile.SMALL_FILE + 1024)} if large else None
    name, data = wheel_bytes("my-pkg", "2.0", extra_files=extra)
    recorded = "ci\x1b[2J\x07publisher" + "x" * 1500  # S3 metadata is ASCII (botocore checks)
    s3.put_object(
        Bucket=BUCKET, Key=f"my-pkg/{name}", Body=data, Metadata={"uploaded-by": recorded}
    )
    requests = Requests(storage)
    reindexer(storage)(created(s3, f"my-pkg/{name}"))
    if not large:  # no request more than the four of any added file
        assert len(requests.take()) == 4
    kept = "ci[2Jpublisher" + "x" * (manifests.MAX_UPLOADER - len("ci[2Jpublisher"))
    assert files(s3, "my-pkg")[name]["uploaded-by"] == kept
    by_event = manifest(s3, "my-pkg")
    s3.delete_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))
    indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    assert manifest(s3, "my-pkg")["files"] == by_event["files"]
    assert "uploaded-by" not in files(s3, "my-pkg")[next(iter(files(s3, "my-pkg")))]
