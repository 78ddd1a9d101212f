"""Hostile uploads seen from the reindexer: one bad file never breaks its project,
the logs stay one line per record, the root index converges under contention."""

from __future__ import annotations

import functools
import io
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from serverless_pypi import batch as batches
from serverless_pypi import deadline as deadlines
from serverless_pypi import indexer, reindex
from serverless_pypi.layout import manifest_key
from serverless_pypi.objects import Blob, NotModified, ObjectInfo
from serverless_pypi.storage import Storage
from tests.builders import sdist_bytes, wheel_bytes
from tests.conftest import BUCKET, s3_event
from tests.moto_bucket import Requests, created, files, manifest, notify, put, read, reindexer, root


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line of the package, formatted as a handler would write it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    package = logging.getLogger("serverless_pypi")
    package.addHandler(handler)
    level = package.level
    package.setLevel(logging.INFO)
    yield stream
    package.removeHandler(handler)
    package.setLevel(level)


FORGED = "INFO serverless_pypi.indexer indexed evil"


@pytest.mark.parametrize(
    "key",
    [
        "my-pkg/x%0A" + FORGED.replace(" ", "+") + ".whl",
        "my-pkg/x%0D%0A" + FORGED.replace(" ", "%20") + ".tar.gz",
        "my%0A" + FORGED.replace(" ", "+") + "/x.whl",
        "my-pkg/x\u2028" + FORGED + ".zip",
    ],
)
def test_keys_cannot_forge_log_lines(
    s3: Any, storage: Storage, log_lines: io.StringIO, key: str
) -> None:
    """In events, and in listings (S3 keys may hold a newline; moto refuses them,
    so the listing is made to return one)."""
    from datetime import UTC, datetime
    from urllib.parse import unquote_plus

    listed = ObjectInfo(unquote_plus(key), '"0"', 1, datetime.now(UTC))

    class Listing(Storage):
        def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
            yield from super().list(prefix, start_after)
            if listed.key.startswith(prefix):
                yield listed

    notify(("ObjectCreated:Put", key))
    indexer.reindex_project(Listing(storage.client, BUCKET), "my-pkg", ["my-pkg"])
    lines = log_lines.getvalue().splitlines()
    assert any("skipped" in line for line in lines), lines
    assert not any(line.startswith(FORGED) for line in lines), lines
    assert all(line.split(" ")[0] in ("INFO", "WARNING") for line in lines), lines


def test_member_names_and_problems_cannot_forge_log_lines(
    s3: Any, storage: Storage, log_lines: io.StringIO
) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a\n" + FORGED + ".dist-info/METADATA", "Name: my-pkg\n")
        archive.writestr("b\n" + FORGED + ".dist-info/METADATA", "Name: my-pkg\n")
    put(s3, "my-pkg/my_pkg-1.0-py3-none-any.whl", buffer.getvalue())
    indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    lines = log_lines.getvalue().splitlines()
    assert not any(line.startswith(FORGED) for line in lines), lines
    problem = files(s3, "my-pkg")["my_pkg-1.0-py3-none-any.whl"]["problem"]
    assert "\n" not in problem and len(problem) <= indexer.MAX_PROBLEM + 3


def test_a_problem_is_escaped_once_in_the_manifest_and_once_in_the_log(
    s3: Any, storage: Storage, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive's words, with a control character and a backslash in them."""
    from serverless_pypi import distfile

    said = "bad \x1b[31m member \\ name \u00e9"
    assert "\x1b" in said and "\\" in said  # one real ESC, one real backslash

    def inspect(*args: Any, **kwargs: Any) -> distfile.Inspection:
        return distfile.Inspection("0" * 64, None, None, said)

    monkeypatch.setattr(distfile, "inspect", inspect)
    put(s3, "my-pkg/my_pkg-1.0-py3-none-any.whl", wheel_bytes("my-pkg", "1.0")[1])
    indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    once = "bad \\x1b[31m member \\\\ name \\xe9"
    assert files(s3, "my-pkg")["my_pkg-1.0-py3-none-any.whl"]["problem"] == once
    assert f"without metadata: {once}" in log_lines.getvalue()


class Recording(Storage):
    """Counts the bytes each kind of read asks for, per key."""

    def __init__(self, inner: Storage) -> None:
        super().__init__(inner.client, inner.bucket)
        self.whole: list[str] = []
        self.ranges: list[tuple[str, int]] = []

    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None:
        self.whole.append(key)
        return super().get(key, if_none_match)

    def read_range(
        self, key: str, start: int, end: int, etag: str
    ) -> tuple[bytes, dict[str, str]]:  # every ranged read (get_range too) comes here
        self.ranges.append((key, end - start + 1))
        return super().read_range(key, start, end, etag)


def test_a_huge_yank_marker_costs_one_small_ranged_read(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    marker = f"my-pkg/{name}.yanked"
    put(s3, marker, b"do not use\n" + b"x" * (16 << 20))
    recording = Recording(storage)
    indexer.reindex_project(recording, "my-pkg", ["my-pkg"])
    assert marker not in recording.whole
    assert [size for key, size in recording.ranges if key == marker] == [indexer.MAX_YANK_REASON]
    yanked = files(s3, "my-pkg")[name]["yanked"]
    assert yanked.startswith("do not use x")
    assert len(yanked) <= indexer.MAX_YANK_REASON


def test_a_kelvin_sign_folder_does_not_merge_into_another_project(
    s3: Any, storage: Storage
) -> None:
    name, data = sdist_bytes("key", "1.0")
    put(s3, f"key/{name}", data)
    notify(("ObjectCreated:Put", f"key/{name}"))
    evil, evil_data = sdist_bytes("key", "6.6.6")
    kelvin = f"\u212aey/{evil}"
    put(s3, kelvin, evil_data)
    notify(("ObjectCreated:Put", kelvin))
    batches.rebuild(storage)
    assert list(files(s3, "key")) == [name]
    assert manifest(s3, "key")["folders"] == ["key"]


def test_progress_survives_a_killed_invocation(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files read before the function died are not read again (checkpoints)."""
    names = []
    for version in ("1.0", "2.0", "3.0"):
        name, data = wheel_bytes("my-pkg", version)
        put(s3, f"my-pkg/{name}", data)
        names.append(name)
    monkeypatch.setattr(indexer, "CHECKPOINT_SECONDS", 0.0)

    class Killed(Exception):
        pass

    class DiesOnTheThirdFile(Storage):
        reads = 0

        def read_range(
            self, key: str, start: int, end: int, etag: str
        ) -> tuple[bytes, dict[str, str]]:
            DiesOnTheThirdFile.reads += 1
            if DiesOnTheThirdFile.reads == 3:
                raise Killed
            return super().read_range(key, start, end, etag)

    with pytest.raises(Killed):
        indexer.reindex_project(DiesOnTheThirdFile(storage.client, BUCKET), "my-pkg", ["my-pkg"])
    saved = manifest(s3, "my-pkg")
    assert [entry["filename"] for entry in saved["files"]] == names[:2]
    assert saved["pending"] == 1
    result = indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    assert (result.files, result.inspected) == (3, 1)
    assert "pending" not in manifest(s3, "my-pkg")


def test_out_of_time_writes_what_was_read_and_fails_for_a_retry(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    put(s3, f"my-pkg/{name}", data)
    with pytest.raises(deadlines.OutOfTime):
        indexer.reindex_project(
            storage, "my-pkg", ["my-pkg"], deadline=deadlines.Deadline(at=0.0, budget=300.0)
        )
    assert manifest(s3, "my-pkg")["pending"] == 1
    assert indexer.reindex_project(storage, "my-pkg", ["my-pkg"]).files == 1


def test_a_project_whose_files_are_all_skipped_keeps_a_manifest(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("other", "1.0")
    put(s3, f"my-pkg/{name}", data)
    result = indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    assert result.files == 0
    assert manifest(s3, "my-pkg") == {
        "schema": 1,
        "name": "my-pkg",
        "folders": ["my-pkg"],
        "files": [],
        "skipped": 1,
    }


@pytest.fixture
def atomic_conditional_puts(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto checks If-Match / If-None-Match and then writes, in two steps that
    concurrent requests can interleave; S3 does both atomically. Make moto do so."""
    from moto.s3.responses import S3Response

    lock = threading.Lock()
    real = S3Response.put_object

    def put_object(self: S3Response) -> Any:
        with lock:
            return real(self)

    monkeypatch.setattr(S3Response, "put_object", put_object)


def _at_once(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Run every call in its own thread, all released at once; the errors they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - collected and asserted on
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return errors


def test_the_root_index_converges_under_32_way_contention(
    s3: Any, atomic_conditional_puts: None
) -> None:
    """16 reindexes of one project and 16 of one-file projects at once, no retries."""
    events = []
    for version in range(16):
        name, data = wheel_bytes("busy", f"1.{version}")
        put(s3, f"busy/{name}", data)
        events.append(s3_event(("ObjectCreated:Put", f"busy/{name}")))
    for number in range(16):
        project = f"solo-{number:02d}"
        name, data = wheel_bytes(project, "1.0")
        put(s3, f"{project}/{name}", data)
        events.append(s3_event(("ObjectCreated:Put", f"{project}/{name}")))
    errors = _at_once([functools.partial(reindex.handler, event, None) for event in events])
    assert not errors, errors
    assert root(s3) == ["busy", *[f"solo-{number:02d}" for number in range(16)]]
    assert len(files(s3, "busy")) == 16
    html = s3.get_object(Bucket=BUCKET, Key="index.html")["Body"].read().decode()
    assert all(f'href="{name}/"' in html for name in root(s3))
    assert s3.head_object(Bucket=BUCKET, Key=manifest_key("busy"))["Metadata"]["files"] == "16"


def test_a_huge_requires_python_never_reaches_a_page(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0", requires_python=">=3.8," * 600_000)
    put(s3, f"my-pkg/{name}", data)
    indexer.reindex_project(storage, "my-pkg", ["my-pkg"])
    entry = files(s3, "my-pkg")[name]
    assert "requires-python" not in entry
    assert "Requires-Python" in entry["problem"]
    assert len(read(s3, manifest_key("my-pkg"))) < 2000


def test_32_uploads_to_one_project_at_once_are_all_added_without_a_listing(
    s3: Any, storage: Storage, atomic_conditional_puts: None
) -> None:
    """32 events, each naming one new file of one indexed project, handled at once:
    none fails (so Lambda retries none), none lists the project, none is lost."""
    first, data = wheel_bytes("busy", "0.1")
    put(s3, f"busy/{first}", data)
    reindexer(storage)(created(s3, f"busy/{first}"))
    events = []
    for number in range(32):
        name, data = wheel_bytes("busy", f"1.{number}")
        put(s3, f"busy/{name}", data)
        events.append(created(s3, f"busy/{name}"))
    requests = Requests(storage)
    index = reindexer(storage)
    errors = _at_once([functools.partial(index, event) for event in events])
    assert not errors, errors
    assert len(files(s3, "busy")) == 33
    assert not [sent for sent in requests.take() if sent.startswith("LIST ")]
    assert root(s3) == ["busy"]
    # A listing finds nothing the events missed.
    assert not indexer.reindex_project(storage, "busy", ["busy"]).changed


def test_removals_racing_uploads_in_one_project_leave_what_the_bucket_holds(
    s3: Any, storage: Storage, atomic_conditional_puts: None
) -> None:
    """8 files removed and 16 added at once, each event handled on its own."""
    old = []
    for number in range(8):
        name, data = wheel_bytes("busy", f"0.{number}")
        put(s3, f"busy/{name}", data)
        old.append(name)
    indexer.reindex_project(storage, "busy", ["busy"])
    calls: list[Callable[[], object]] = []
    new = []
    index = reindexer(storage)
    for number in range(16):
        name, data = wheel_bytes("busy", f"1.{number}")
        put(s3, f"busy/{name}", data)
        calls.append(functools.partial(index, created(s3, f"busy/{name}")))
        new.append(name)
    for name in old:
        s3.delete_object(Bucket=BUCKET, Key=f"busy/{name}")
        removal = s3_event(("ObjectRemoved:Delete", f"busy/{name}"))
        calls.append(functools.partial(index, removal))
    errors = _at_once(calls)
    assert not errors, errors
    assert sorted(files(s3, "busy")) == sorted(new)
    assert not indexer.reindex_project(storage, "busy", ["busy"]).changed
