"""Every reindex timeout that the module accepts indexes small files whole; the
time each file may take scales with the time left."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from serverless_pypi import deadline as deadlines
from serverless_pypi import distfile, indexer, reindex
from serverless_pypi.archives import Limits
from serverless_pypi.config import ReindexSettings
from serverless_pypi.objects import ObjectInfo
from serverless_pypi.storage import Storage
from tests.builders import sdist_bytes, wheel_bytes
from tests.conftest import BUCKET, s3_event
from tests.moto_bucket import Requests, created, files, manifest, put, sized


@dataclass
class LambdaContext:
    """What Lambda hands the handler: the time left of its timeout."""

    timeout: float
    started: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout * 1000) - 30  # the invocation started a moment ago


def _small(size: int = 1024) -> ObjectInfo:
    return ObjectInfo("my-pkg/x.whl", '"e"', size, datetime.now(UTC))


@pytest.mark.parametrize("timeout", [3, 10, 30])
def test_every_accepted_timeout_indexes_small_files_with_hash_and_metadata(
    s3: Any, storage: Storage, timeout: int
) -> None:
    """3 s is the shortest lambda_reindex_timeout the module accepts (the older
    module's default); before, anything up to 25 s indexed nothing."""
    keys = []
    for build in (
        wheel_bytes("my-pkg", "1.0"),
        wheel_bytes("my-pkg", "1.1", requires_python=">=3.9"),
        sdist_bytes("my-pkg", "1.1"),
        wheel_bytes("my-pkg", "2.0"),
    ):
        keys.append(f"my-pkg/{build[0]}")
        put(s3, keys[-1], build[1])
    handler = reindex.Reindexer(ReindexSettings(BUCKET), storage)
    event = s3_event(*[("ObjectCreated:Put", key) for key in keys])
    assert handler(event, LambdaContext(timeout))["files"] == 4
    entries = files(s3, "my-pkg")
    assert len(entries) == 4
    for entry in entries.values():
        assert len(entry["sha256"]) == 64 and len(entry["core-metadata"]) == 64
        assert "problem" not in entry and "time-budget" not in entry
    assert "pending" not in manifest(s3, "my-pkg")


@pytest.mark.parametrize(
    ("timeout", "reserve"), [(3, 1.0), (10, 2.0), (30, 6.0), (300, 15.0), (900, 15.0)]
)
def test_a_fifth_of_the_timeout_is_kept_to_write(timeout: int, reserve: float) -> None:
    assert deadlines.finish_reserve(timeout) == reserve
    deadline = deadlines.Deadline.from_remaining(timeout * 1000, clock=lambda: 100.0)
    assert deadline.budget == timeout - reserve
    assert deadline.at == 100.0 + timeout - reserve


@pytest.mark.parametrize(
    ("left", "seconds"),
    [(1000.0, 10.0), (10.0, 10.0), (4.0, 4.0), (0.5, 0.5), (0.1, deadlines.MIN_EXTRACTION)],
)
def test_a_file_s_extraction_gets_the_usual_budget_or_the_time_left(
    left: float, seconds: float
) -> None:
    now = 50.0
    deadline = deadlines.Deadline(at=now + left, budget=2000.0, clock=lambda: now)
    assert deadline.limits(_small()).seconds == pytest.approx(seconds, abs=0.01)
    assert deadlines.Deadline().limits(_small()) == Limits()


def test_a_file_is_started_only_with_time_to_move_its_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(deadlines, "READ_RATE", 1000)  # bytes a second
    now = 50.0
    deadline = deadlines.Deadline(at=now + 2.0, budget=2.0, clock=lambda: now)
    assert deadline.allows(_small(1000)) and deadline.ever_allows(_small(1000))
    assert not deadline.allows(_small(1800)) and not deadline.ever_allows(_small(1800))


class _SlowInspection:
    """``distfile.inspect`` for archives whose extraction takes ``needs`` seconds:
    it runs out of time under any shorter limit, as Budget.check would make it."""

    def __init__(self, needs: float) -> None:
        self.needs = needs
        self.limits: list[float] = []
        self.real = distfile.inspect

    def __call__(
        self,
        storage: Storage,
        obj: ObjectInfo,
        dist: Any,
        limits: Limits | None = None,
        **known: Any,
    ) -> distfile.Inspection:
        seconds = (limits or Limits()).seconds
        self.limits.append(seconds)
        found = self.real(storage, obj, dist, limits, **known)
        if seconds >= self.needs:
            return found
        problem = f"over the {seconds:.3g} s inspection budget"
        return distfile.Inspection(found.sha256, None, None, problem, over_time=True)


NOW = 50.0  # what the deadlines' clock says
WHEEL = "my_pkg-1.0-py3-none-any.whl"


@pytest.fixture
def slow(s3: Any, monkeypatch: pytest.MonkeyPatch) -> _SlowInspection:
    """my-pkg 1.0 in the bucket, with an archive that takes 5 s to read."""
    name, data = wheel_bytes("my-pkg", "1.0")
    assert name == WHEEL
    put(s3, f"my-pkg/{name}", data)
    inspection = _SlowInspection(needs=5.0)
    monkeypatch.setattr(distfile, "inspect", inspection)
    return inspection


def test_a_file_the_deadline_cut_short_is_read_by_the_next_invocation(
    s3: Any, storage: Storage, slow: _SlowInspection
) -> None:
    name, now = WHEEL, NOW
    # 20 s for the invocation, but only 2 s left when this file comes up.
    late = deadlines.Deadline(at=now + 2.0, budget=20.0, clock=lambda: now)
    with pytest.raises(deadlines.OutOfTime):
        indexer.reindex_project(storage, "my-pkg", ["my-pkg"], deadline=late)
    assert manifest(s3, "my-pkg")["pending"] == 1
    assert name not in files(s3, "my-pkg")
    fresh = deadlines.Deadline(at=now + 20.0, budget=20.0, clock=lambda: now)
    assert indexer.reindex_project(storage, "my-pkg", ["my-pkg"], deadline=fresh).files == 1
    entry = files(s3, "my-pkg")[name]
    assert "core-metadata" in entry and "problem" not in entry
    assert slow.limits == pytest.approx([2.0, 10.0], abs=0.01)


def test_a_file_no_invocation_of_this_timeout_can_read_is_read_by_a_longer_one(
    s3: Any, storage: Storage, slow: _SlowInspection, caplog: pytest.LogCaptureFixture
) -> None:
    """With a 3 s timeout a file whose archive needs 5 s is listed with its hash and
    the reason; raising the timeout (or `serverless-pypi reindex`) reads it again."""
    name, now = WHEEL, NOW
    short = deadlines.Deadline(at=now + 2.0, budget=2.0, clock=lambda: now)
    assert indexer.reindex_project(storage, "my-pkg", ["my-pkg"], deadline=short).files == 1
    entry = files(s3, "my-pkg")[name]
    assert entry["time-budget"] == 2.0 and "sha256" in entry and "core-metadata" not in entry
    assert entry["problem"] == "over the 2 s inspection budget"
    # The same timeout again: not read again (no retry could do better).
    again = deadlines.Deadline(at=now + 2.0, budget=2.0, clock=lambda: now)
    assert indexer.reindex_project(storage, "my-pkg", ["my-pkg"], deadline=again).inspected == 0
    # A 30 s timeout reads it again, and this time it fits.
    longer = deadlines.Deadline(at=now + 24.0, budget=24.0, clock=lambda: now)
    with caplog.at_level(logging.INFO):
        result = indexer.reindex_project(storage, "my-pkg", ["my-pkg"], deadline=longer)
    assert result.inspected == 1
    entry = files(s3, "my-pkg")[name]
    assert "core-metadata" in entry and "problem" not in entry and "time-budget" not in entry
    assert slow.limits == pytest.approx([2.0, 10.0], abs=0.01)


def test_a_file_too_large_to_move_in_one_invocation_is_read_without_a_deadline(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines, "READ_RATE", 500)  # so that a 1 KB wheel takes 2 s
    name, data = wheel_bytes("my-pkg", "1.0")
    assert len(data) > 500
    put(s3, f"my-pkg/{name}", data)
    tiny = deadlines.Deadline(at=None, budget=1.0)
    result = indexer.reindex_project(storage, "my-pkg", ["my-pkg"], deadline=tiny)
    assert (result.files, result.inspected) == (1, 0)
    entry = files(s3, "my-pkg")[name]
    assert "sha256" not in entry and "core-metadata" not in entry
    assert "lambda_reindex_timeout" in entry["problem"] and "in one PUT" in entry["problem"]
    assert entry["time-budget"] == 1.0
    # `serverless-pypi reindex` has no deadline: it reads the file.
    assert indexer.reindex_project(storage, "my-pkg", ["my-pkg"]).inspected == 1
    assert "sha256" in files(s3, "my-pkg")[name]


def test_a_hand_edited_time_budget_means_read_again(s3: Any, storage: Storage) -> None:
    from serverless_pypi import manifest as manifests
    from serverless_pypi.layout import manifest_key

    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    saved = manifest(s3, "my-pkg")
    saved["files"][0]["time-budget"] = "soon"
    s3.put_object(Bucket=BUCKET, Key=manifest_key("my-pkg"), Body=manifests.encode(saved))  # type: ignore[arg-type]
    assert indexer.reindex_project(storage, "my-pkg", ["my-pkg"]).inspected == 1


def test_an_event_that_understates_a_size_cannot_stretch_an_invocation(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline is weighed on the size an event gives: a record with a real ETag
    and a smaller size would have a 5 s invocation start a file it cannot read
    (here 4 s of transfer). The object's own size, from its HEAD, does not match:
    a listing indexes it, within the invocation's budget, without reading it."""
    monkeypatch.setattr(distfile, "SMALL_FILE", 16 * 1024)
    monkeypatch.setattr(deadlines, "READ_RATE", 64 * 1024)
    put(s3, "my-pkg/my_pkg-1.0-py3-none-any.whl", wheel_bytes("my-pkg", "1.0")[1])
    indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    name, data = wheel_bytes("my-pkg", "2.0", extra_files={"my_pkg/blob": os.urandom(256 * 1024)})
    key = f"my-pkg/{name}"
    put(s3, key, data)
    requests = Requests(storage)
    handler = reindex.Reindexer(ReindexSettings(BUCKET), storage)
    handler(sized(created(s3, key), 32 * 1024), LambdaContext(5))
    assert not [read for read, _ in requests.gets if read == key]
    entry = files(s3, "my-pkg")[name]
    assert entry["size"] == len(data) and "sha256" not in entry
    assert "lambda_reindex_timeout" in entry["problem"]
