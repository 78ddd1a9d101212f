"""The changes a manifest write makes visible (a table of old and new manifests),
their stable ids, their entries and the calls that carry them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_pypi import changeevents
from serverless_pypi import manifest as manifests
from serverless_pypi.changeevents import IndexChange, batches, change_id, derived, detail, entry
from serverless_pypi.manifest import Entry, Manifest


def file(
    version: str, etag: str = '"a"', yanked: str | bool | None = None, marker: str = ""
) -> Entry:
    found: Entry = {
        "filename": f"p-{version}.tar.gz",
        "key": f"p/p-{version}.tar.gz",
        "version": version,
        "size": 10,
        "etag": etag,
        "sha256": "ab" * 32,
        "upload-time": "2026-01-02T03:04:05.000000Z",
    }
    if yanked is not None:
        found["yanked"] = yanked
        found["marker-etag"] = marker
    return found


def made(*files: Entry) -> Manifest:
    return manifests.new("p", ["p"], list(files))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, made(), []),
        (made(), made(), []),
        (None, made(file("1.0")), [("published", "1.0")]),
        (made(file("1.0")), made(file("1.0"), file("2.0")), [("published", "2.0")]),
        (made(file("1.0"), file("2.0")), made(file("2.0")), [("removed", "1.0")]),
        (made(file("1.0")), made(file("1.0", '"b"')), [("removed", "1.0"), ("published", "1.0")]),
        (made(file("1.0")), made(file("1.0", yanked="bad", marker='"m"')), [("yanked", "1.0")]),
        (made(file("1.0", yanked=True, marker='"m"')), made(file("1.0")), [("unyanked", "1.0")]),
        # Another reason: another marker, yanked again.
        (
            made(file("1.0", yanked="bad", marker='"m"')),
            made(file("1.0", yanked="worse", marker='"n"')),
            [("yanked", "1.0")],
        ),
        # The same marker with its reason kept otherwise (an older release's raw text).
        (
            made(file("1.0", yanked="bad\tone", marker='"m"')),
            made(file("1.0", yanked="bad one", marker='"m"')),
            [],
        ),
        (
            None,
            made(file("1.0", yanked="bad", marker='"m"')),
            [("published", "1.0"), ("yanked", "1.0")],
        ),
        (made(file("1.0", yanked="bad", marker='"m"')), made(), [("removed", "1.0")]),
    ],
)
def test_the_changes_a_write_makes_visible(
    old: Manifest | None, new: Manifest, expected: list[tuple[str, str]]
) -> None:
    assert [(change.kind, change.version) for change in derived(old, new)] == expected


def test_what_each_change_carries() -> None:
    published, yanked = derived(None, made(file("1.0", yanked="bad", marker='"m"')))
    assert (published.size, published.sha256, published.marker) == (10, "ab" * 32, "")
    assert (yanked.reason, yanked.marker, yanked.size) == ("bad", '"m"', None)
    (unyanked,) = derived(made(file("1.0", yanked=True, marker='"m"')), made(file("1.0")))
    assert (unyanked.reason, unyanked.marker) == ("", '"m"')


def test_a_published_file_names_who_uploaded_it_where_recorded() -> None:
    sent = file("1.0")
    sent["uploaded-by"] = "ci-publisher"
    (published,) = derived(None, made(sent))
    assert detail(published, "b")["uploaded-by"] == "ci-publisher"
    (copied,) = derived(None, made(file("1.0")))  # aws s3 cp: not recorded
    assert detail(copied, "b")["uploaded-by"] is None
    (removed,) = derived(made(sent), made())
    assert "uploaded-by" not in detail(removed, "b")


def test_the_same_change_has_the_same_id_and_another_change_another() -> None:
    first = derived(None, made(file("1.0")))[0]
    again = derived(made(), made(file("1.0")))[0]
    assert change_id(first, "b") == change_id(again, "b")
    replaced = derived(None, made(file("1.0", '"other"')))[0]
    ids = {
        change_id(first, "b"),
        change_id(first, "other-bucket"),
        change_id(replaced, "b"),
        change_id(IndexChange("removed", **_same_file(first)), "b"),
    }
    assert len(ids) == 4


def _same_file(change: IndexChange) -> dict[str, Any]:
    return {"project": change.project, "key": change.key, "etag": change.etag}


def test_a_detail_holds_its_documented_fields_and_nothing_else() -> None:
    status = IndexChange("status", "p", status="archived", reason="moved to q")
    assert detail(status, "b") == {
        "change-id": change_id(status, "b"),
        "bucket": "b",
        "project": "p",
        "status": "archived",
        "reason": "moved to q",
    }
    item = entry(status, "b", "arn:aws:events:eu-west-1:123456789012:event-bus/x")
    assert item["Source"] == "serverless-pypi"
    assert item["DetailType"] == "Project Status Changed"
    assert item["EventBusName"] == "arn:aws:events:eu-west-1:123456789012:event-bus/x"
    assert json.loads(item["Detail"]) == detail(status, "b")
    unread = file("1.0")
    del unread["sha256"]  # a file too large to read in time
    assert detail(derived(None, made(unread))[0], "b")["sha256"] is None


def sized(size: int) -> dict[str, Any]:
    return {"Source": "s", "DetailType": "d", "Detail": "x" * (size - 2)}


def test_calls_hold_at_most_ten_entries_and_256_kb() -> None:
    assert [len(batch) for batch in batches([sized(10)] * 23)] == [10, 10, 3]
    quarter = changeevents.MAX_CALL_BYTES // 4
    assert [len(batch) for batch in batches([sized(quarter)] * 5)] == [4, 1]
    assert [len(batch) for batch in batches([sized(quarter + 1)] * 4)] == [3, 1]
    assert list(batches([])) == []


def test_a_status_change_is_one_change_and_a_first_manifest_none() -> None:
    archived = made() | {"status": {"status": "archived", "reason": "see x2"}}
    assert derived(made(), archived) == [
        IndexChange("status", archived["name"], status="archived", reason="see x2")
    ]
    assert derived(archived, made()) == [IndexChange("status", archived["name"], status="active")]
    assert derived(archived, archived) == []
    assert derived(None, archived) == []  # a first manifest: its status was set before
