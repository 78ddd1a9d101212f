"""The catalog: a card per listed project, its encoding, and its updates."""

from __future__ import annotations

from typing import Any, cast

from serverless_pypi import catalog
from serverless_pypi import manifest as manifests


def entry(filename: str, version: str, when: str, **extra: Any) -> manifests.Entry:
    found: dict[str, Any] = {
        "filename": filename, "key": f"x/{filename}", "version": version, "size": 1,
        "etag": '"e"', "upload-time": when, **extra,
    }  # fmt: skip
    return cast(manifests.Entry, found)


def test_a_card_has_the_latest_version_summary_and_last_upload() -> None:
    manifest = manifests.new(
        "x",
        ["x"],
        [
            entry("x-1.0.tar.gz", "1.0", "2026-01-01T00:00:00.000000Z"),
            entry("x-2.0b1.tar.gz", "2.0b1", "2026-03-01T00:00:00.000000Z"),
            entry("x-1.1.tar.gz", "1.1", "2026-02-01T00:00:00.000000Z", yanked="bad"),
        ],
    )
    manifest["details"] = {"from": "x-1.0.tar.gz", "version": "1.0", "summary": "S" * 500}
    assert catalog.card_of(manifest) == {
        "name": "x",
        "version": "1.0",
        "summary": "S" * catalog.MAX_SUMMARY,
        "uploaded": "2026-03-01T00:00:00.000000Z",
    }


def test_a_project_without_offered_files_has_no_card() -> None:
    assert catalog.card_of(manifests.new("x", ["x"], [])) is None
    quarantined = manifests.new(
        "x", ["x"], [entry("x-1.0.tar.gz", "1.0", "t")], status={"status": "quarantined"}
    )
    assert catalog.card_of(quarantined) is None
    assert catalog.card_of(None) is None


def test_encoding_round_trips_and_updates_put_and_take_out() -> None:
    cards: dict[str, catalog.Card] = {"b": {"name": "b", "version": "1"}}
    changed = catalog.updated(cards, {"a": {"name": "a", "version": "2"}, "b": None})
    assert changed == {"a": {"name": "a", "version": "2"}}
    body = catalog.encode({"z": {"name": "z", "version": "1"}, **changed})
    assert catalog.decode(body) == {
        "a": {"name": "a", "version": "2"},
        "z": {"name": "z", "version": "1"},
    }
    assert list(catalog.decode(body) or {}) == ["a", "z"]
    for bad in (b"", b"{", b'{"v":2,"projects":[]}', b'{"v":1,"projects":[{"name":1}]}'):
        assert catalog.decode(bad) is None
