"""The reindexer run as Lambda runs it, on hostile uploads: a child process with a
memory cap and a timeout. Every bomb is indexed (hash, no metadata) with the
project's good files, within a fixed memory budget, by the event handler and by
the full rebuild alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from serverless_pypi.layout import manifest_key
from tests.builders import ChunkStream, Zeros, gzip_chunks, huge_header, wheel_bytes, zeros_first
from tests.conftest import BUCKET, s3_event
from tests.moto_bucket import files
from tests.unit.test_archives import ROOT, RepeatedDirectory

MiB = 1 << 20
MEMORY_BUDGET = 64 * MiB  # peak RSS over the handler's baseline, per invocation
LAMBDA_MEMORY = 512 * MiB  # the reindex function's default memory size
LAMBDA_TIMEOUT = 300  # and its default timeout, in seconds

GOOD = "evil-2.0-py3-none-any.whl"
REASON = b"do not install: it eats disks\n"
BOMBS = {
    "evil-1.0.tar.gz": "tar header of 300000000 bytes (limit 65536)",
    "evil-1.1.tar.gz": "tar header of 300000000 bytes (limit 65536)",
    "evil-1.2.tar.gz": "over the 1 GiB unpacked-size budget",
    "evil-1.3-py3-none-any.whl": "central directory",
}

# Runs in the child: the handler Lambda runs, then the peak memory over what the
# process held once boto3 and the S3 client were ready (Lambda's baseline).
_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from serverless_pypi import batch as batches, reindex
    from serverless_pypi.storage import Storage, make_client

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    class Context:
        def get_remaining_time_in_millis(self):
            return int(sys.argv[2]) * 1000

    storage = Storage(make_client(), sys.argv[3])
    storage.head("warm-up")  # the client's first request loads its models
    reindex.default_reindexer()
    baseline = status("VmRSS")
    cap = status("VmSize") + int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    event = json.load(sys.stdin)
    if event:
        outcome = reindex.handler(event, Context())
    else:
        batch = batches.rebuild(storage)
        outcome = {"failures": sorted(batch.failures), "files": batch.files}
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec.
    print(json.dumps({"outcome": outcome, "over_baseline": status("VmHWM") - baseline}))
    """
)


def _run(moto_url: str, event: dict[str, Any] | None) -> dict[str, Any]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto_url,
        "S3_BUCKET": BUCKET,
        "MALLOC_ARENA_MAX": "2",  # glibc's per-thread arenas would blur the address space
    }
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(LAMBDA_MEMORY), str(LAMBDA_TIMEOUT), BUCKET],
        input=json.dumps(event or {}),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LAMBDA_TIMEOUT,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    assert "MemoryError" not in child.stderr
    return json.loads(child.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def _gzip_file(parts: Iterable[bytes | Zeros]) -> ChunkStream:
    return ChunkStream(gzip_chunks(parts))


def _marker_chunks(size: int) -> Iterator[bytes]:
    yield REASON
    for _ in range(size // MiB):
        yield b"x" * MiB


@pytest.fixture
def hostile_project(s3: Any) -> dict[str, bytes]:
    """The project "evil": four bombs, a good wheel and a 100 MiB yank marker."""
    uploads: dict[str, Any] = {
        "evil-1.0.tar.gz": _gzip_file(huge_header(b"L", 300_000_000)),
        "evil-1.1.tar.gz": _gzip_file(huge_header(b"x", 300_000_000)),
        "evil-1.2.tar.gz": _gzip_file(zeros_first(2 << 30)),
        "evil-1.3-py3-none-any.whl": RepeatedDirectory(2_000_000),
        f"{GOOD}.yanked": ChunkStream(_marker_chunks(100 * MiB)),
    }
    for filename, body in uploads.items():
        s3.upload_fileobj(body, BUCKET, f"evil/{filename}")
    _, good = wheel_bytes("evil", "2.0")
    s3.put_object(Bucket=BUCKET, Key=f"evil/{GOOD}", Body=good)
    return {GOOD: good}


def _assert_indexed(s3: Any) -> None:
    entries = files(s3, "evil")
    assert sorted(entries) == sorted([*BOMBS, GOOD])
    for filename, reason in BOMBS.items():
        entry = entries[filename]
        assert len(entry["sha256"]) == 64
        assert "core-metadata" not in entry
        assert reason in entry["problem"], (filename, entry["problem"])
    good = entries[GOOD]
    assert "core-metadata" in good and "problem" not in good
    first_kib = (REASON + b"x" * 1024)[:1024].decode()
    assert good["yanked"] == " ".join(first_kib.split())


def test_bombs_never_stop_their_project_in_a_lambda_sized_process(
    s3: Any, moto_url: str, hostile_project: dict[str, bytes]
) -> None:
    keys = [f"evil/{name}" for name in [*BOMBS, GOOD, f"{GOOD}.yanked"]]
    event = s3_event(*[("ObjectCreated:Put", key) for key in keys])
    result = _run(moto_url, event)
    assert result["outcome"]["files"] == 5
    assert result["over_baseline"] <= MEMORY_BUDGET, result
    _assert_indexed(s3)
    # A retry (or a dead-letter replay) reads nothing again.
    again = _run(moto_url, event)
    assert again["outcome"]["changed"] == []


def test_the_full_rebuild_survives_the_bombs(
    s3: Any, moto_url: str, hostile_project: dict[str, bytes]
) -> None:
    _, other = wheel_bytes("fine", "1.0")
    s3.put_object(Bucket=BUCKET, Key="fine/fine-1.0-py3-none-any.whl", Body=other)
    result = _run(moto_url, None)
    assert result["outcome"] == {"failures": [], "files": 6}
    assert result["over_baseline"] <= MEMORY_BUDGET, result
    _assert_indexed(s3)
    assert s3.head_object(Bucket=BUCKET, Key=manifest_key("fine"))["Metadata"]["files"] == "1"
