"""The stored manifest: its object (gzipped, with both pages), conditional writes,
page fitting, and manifests of older releases (moto S3)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from serverless_pypi import manifest as manifests
from serverless_pypi import manifeststore, simple
from serverless_pypi.layout import (
    manifest_key,
    metadata_key,
)
from serverless_pypi.objects import PreconditionFailed
from serverless_pypi.storage import Storage
from tests.builders import wheel_bytes
from tests.conftest import BUCKET
from tests.moto_bucket import (
    Requests,
    created,
    files,
    indexed_project,
    manifest,
    put,
    read,
    reindex,
    reindexer,
)


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


def test_a_manifest_of_an_older_release_is_listed_and_stored_with_its_pages(
    s3: Any, storage: Storage
) -> None:
    [first] = indexed_project(s3, storage, "1.0")
    plain = manifest(s3, "my-pkg")
    s3.put_object(Bucket=BUCKET, Key=manifest_key("my-pkg"), Body=manifests.encode(plain))  # type: ignore[arg-type]
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)
    requests = Requests(storage)
    reindexer(storage)(created(s3, f"my-pkg/{name}"))
    assert "LIST my-pkg/" in requests.take()
    stored = s3.head_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))["Metadata"]
    assert manifests.stored_render(stored) == simple.RENDER_VERSION
    assert manifeststore.LISTED in stored
    assert sorted(files(s3, "my-pkg")) == [first, name]


def test_a_claimed_name_exists_without_files_and_is_gone_once_deleted(storage: Storage) -> None:
    assert not manifeststore.exists(storage, "team-a")
    manifeststore.Writer(storage, manifeststore.Stored(None, None), None).write(
        manifests.new("team-a", [], [])
    )
    assert manifeststore.exists(storage, "team-a")
    assert not manifeststore.has_files(storage, "team-a")
    assert manifeststore.read(storage, "team-a").manifest == manifests.new("team-a", [], [])
    manifeststore.delete(storage, "team-a")
    assert manifeststore.read(storage, "team-a") == manifeststore.Stored(None, None)


def test_a_second_writer_from_nothing_loses_its_race(storage: Storage) -> None:
    first = manifeststore.Writer(storage, manifeststore.Stored(None, None), None)
    second = manifeststore.Writer(storage, manifeststore.Stored(None, None), None)
    first.write(manifests.new("team-a", [], []))
    with pytest.raises(PreconditionFailed):
        second.write(manifests.new("team-a", ["team-a"], []))


# -- the details the pages for people show -----------------------------------


def _entry(version: str, **extra: Any) -> manifests.Entry:
    filename = f"my_pkg-{version}-py3-none-any.whl"
    found: dict[str, Any] = {
        "filename": filename,
        "key": f"my-pkg/{filename}",
        "version": version,
        "size": 1,
        "etag": '"e"',
        "core-metadata": version,
        **extra,
    }
    return found  # type: ignore[return-value]


def test_the_details_are_read_once_from_the_latest_files_metadata(
    s3: Any, storage: Storage
) -> None:
    for version in ("1.0", "2.0"):
        text = f"Metadata-Version: 2.1\nName: my-pkg\nVersion: {version}\nSummary: v{version}\n"
        s3.put_object(
            Bucket=BUCKET,
            Key=metadata_key("my-pkg", f"my_pkg-{version}-py3-none-any.whl"),
            Body=text.encode(),
        )
    requests = Requests(storage)
    first = manifests.new("my-pkg", ["my-pkg"], [_entry("1.0"), _entry("2.0")])
    manifeststore.attach_details(storage, first, None)
    assert first["details"]["summary"] == "v2.0"
    assert requests.take() == [f"GET {metadata_key('my-pkg', 'my_pkg-2.0-py3-none-any.whl')}"]
    # Kept while the same file describes the project: no read.
    again = manifests.new("my-pkg", ["my-pkg"], [_entry("1.0"), _entry("2.0")])
    manifeststore.attach_details(storage, again, first)
    assert again["details"] == first["details"] and requests.take() == []
    # The latest file yanked: the one before describes the project.
    yanked = manifests.new("my-pkg", ["my-pkg"], [_entry("1.0"), _entry("2.0", yanked=True)])
    manifeststore.attach_details(storage, yanked, first)
    assert yanked["details"]["summary"] == "v1.0"
    # Given by the caller (just read): no read either.
    known = {("my-pkg/my_pkg-1.0-py3-none-any.whl", '"e"'): b"Name: x\nSummary: known\n"}
    fresh = manifests.new("my-pkg", ["my-pkg"], [_entry("1.0")])
    requests.take()
    manifeststore.attach_details(storage, fresh, None, known)
    assert fresh["details"]["summary"] == "known" and requests.take() == []
    # No file with metadata: no details.
    bare = manifests.new("my-pkg", ["my-pkg"], [_entry("3.0", **{"core-metadata": ""})])
    bare["details"] = first["details"]
    manifeststore.attach_details(storage, bare, first)
    assert "details" not in bare
