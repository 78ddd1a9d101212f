"""The day-two commands (status, yank, unyank, remove, prune) through their real CLI
entry point, on moto; the retention policy and the report as pure functions."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serverless_pypi import batch as batches
from serverless_pypi import cli
from serverless_pypi.cli.ops import Retention, plan
from serverless_pypi.cli.status import EXIT_ATTENTION
from serverless_pypi.config import ReindexSettings, UploadSettings
from serverless_pypi.layout import manifest_key
from serverless_pypi.local.apigw_events import build_event, multipart_form
from serverless_pypi.manifest import Entry
from serverless_pypi.reindex import Reindexer
from serverless_pypi.storage import Storage
from serverless_pypi.upload import Uploader
from tests.builders import sdist_bytes, wheel_bytes
from tests.conftest import BUCKET, s3_event
from tests.moto_bucket import files, manifest, put
from tests.unit.test_manifest import HOSTILE_REASONS, raw_controls
from tests.unit.test_upload import fields_for

# Keys, names and versions as a manifest or a listing may hold them: an OSC title and
# an OSC 8 hyperlink (no "/": a key stays one level deep), CR, NUL, a bidi override and
# a C1 CSI.
HOSTILE = "\x1b]0;owned\x07\x1b]8;;mailto:a@evil.example\x1b\\x\x1b]8;;\x1b\\\r\x00\u202e\x9b2J"


def doomed_versions(files: list[Entry], policy: Retention, now: datetime) -> list[str]:
    """The versions whose files ``policy`` removes, oldest first."""
    return [
        decision.version for decision in reversed(plan(files, policy, now)) if not decision.keep
    ]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main([*args, "--bucket", BUCKET])
    out, err = capsys.readouterr()
    return code, out, err


def keys(s3: Any, prefix: str = "") -> set[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {item["Key"] for item in listed if not item["Key"].startswith(".serverless-pypi/")}


@pytest.fixture
def index(s3: Any, storage: Storage) -> Storage:
    """my-pkg 1.0 (a wheel and an sdist) and 2.0 (a wheel), other-pkg 1.0 in Other.Pkg/."""
    for build in (
        wheel_bytes("my-pkg", "1.0"),
        sdist_bytes("my-pkg", "1.0"),
        wheel_bytes("my-pkg", "2.0"),
    ):
        put(s3, f"my-pkg/{build[0]}", build[1])
    name, data = wheel_bytes("other-pkg", "1.0")
    put(s3, f"Other.Pkg/{name}", data)
    batches.rebuild(storage)
    return storage


def reindex(storage: Storage) -> None:
    """What the bucket notifications make the reindexer do (moto runs no Lambda)."""
    batches.rebuild(storage)


# -- yank and unyank -------------------------------------------------------------------


def test_yank_a_version_then_unyank_a_file(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "yank", "my-pkg==1.0.0", "--reason", "broken  build")
    assert code == 0 and out.count("yanked my-pkg/") == 2 and "status --bucket" in out
    reindex(index)
    yanked = {name: entry.get("yanked") for name, entry in files(s3, "my-pkg").items()}
    assert yanked == {
        "my_pkg-1.0-py3-none-any.whl": "broken build",
        "my_pkg-1.0.tar.gz": "broken build",
        "my_pkg-2.0-py3-none-any.whl": None,
    }
    code, out, _ = run(capsys, "unyank", "my_pkg-1.0.tar.gz")
    assert code == 0 and "unyanked my-pkg/my_pkg-1.0.tar.gz" in out
    reindex(index)
    assert "yanked" not in files(s3, "my-pkg")["my_pkg-1.0.tar.gz"]
    assert files(s3, "my-pkg")["my_pkg-1.0-py3-none-any.whl"]["yanked"] == "broken build"


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param(raw, id=name)
        for name, (raw, clean) in HOSTILE_REASONS.items()
        if " ".join(raw.split()) != clean  # more than whitespace to collapse
    ]
    # What Python makes of an argument that is not UTF-8.
    + [pytest.param("undecodable \udcff byte", id="surrogate")],
)
def test_yank_refuses_a_reason_with_control_characters(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str], reason: str
) -> None:
    before = keys(s3)
    code, out, err = run(capsys, "yank", "my-pkg==1.0", "--reason", reason)
    assert code == 1 and "control or format characters" in err and "remove them" in err
    assert len(err.strip().splitlines()) == 1 and not raw_controls(err), err
    assert keys(s3) == before and not out


def test_yank_finds_a_file_in_a_folder_spelled_otherwise(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "yank", "other_pkg-1.0-py3-none-any.whl")[0] == 0
    assert "Other.Pkg/other_pkg-1.0-py3-none-any.whl.yanked" in keys(s3, "Other.Pkg/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["yank", "my-pkg/other_pkg-1.0-py3-none-any.whl"], "is not a distribution of my-pkg"),
        (["yank", "my-pkg==3.0"], "my-pkg has no version 3.0 (it has: 1.0, 2.0)"),
        (["yank", "nope==1.0"], "no project nope"),
        (["yank", "my_pkg-9.9-py3-none-any.whl"], "has my_pkg-9.9-py3-none-any.whl"),
        (["yank", "my-pkg==not a version"], "is not PROJECT==VERSION"),
        (["yank", "README.txt"], "is not a wheel or sdist filename"),
        (["yank", "my-pkg==1.0", "--reason", "x" * 1025], "at most 1024"),
        (["remove", "my-pkg==1.0", "my-pkg==3.0", "--yes"], "no version 3.0"),
        (["prune", "my-pkg", "--keep", "0"], "--keep must be 1 or more"),
        (["prune", "nope", "--keep", "1"], "no project nope"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    before = keys(s3)
    code, out, err = run(capsys, *args)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert keys(s3) == before
    assert not out


def test_a_bucket_that_is_not_an_index_is_refused(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    put(s3, "my-pkg/my_pkg-1.0-py3-none-any.whl", wheel_bytes("my-pkg", "1.0")[1])
    for args in (["status"], ["yank", "my-pkg==1.0"], ["prune", "my-pkg", "--keep", "1"]):
        code, _, err = run(capsys, *args)
        assert code == 1 and "is not a serverless-pypi index" in err and "reindex" in err
    assert keys(s3) == {"my-pkg/my_pkg-1.0-py3-none-any.whl"}


# -- remove ------------------------------------------------------------------------------


def test_remove_deletes_a_version_and_its_markers_but_keeps_the_name(
    s3: Any, index: Storage, get: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "yank", "my-pkg==1.0")
    code, out, _ = run(capsys, "remove", "my-pkg==1.0", "--yes", "--permanent")
    assert code == 0 and "removed my-pkg/my_pkg-1.0.tar.gz.yanked" in out
    assert "deleted for good" in out
    assert keys(s3, "my-pkg/") == {"my-pkg/my_pkg-2.0-py3-none-any.whl"}
    assert s3.head_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))  # derived data untouched
    reindex(index)
    assert set(files(s3, "my-pkg")) == {"my_pkg-2.0-py3-none-any.whl"}
    run(capsys, "remove", "my-pkg==2.0", "--yes", "--permanent")
    reindex(index)
    get.configure(fallback_index_url="https://pypi.org/simple/")
    assert get("/simple/my-pkg/").status == 404  # private, never the fallback


def test_remove_asks_first_and_needs_yes_off_a_terminal(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = keys(s3)
    code, _, err = run(capsys, "remove", "my-pkg==2.0", "--permanent")
    assert code == 1 and "--yes" in err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, _ = run(capsys, "remove", "my-pkg==2.0", "--permanent")
    assert code == 0 and "nothing removed" in out
    assert keys(s3) == before


# -- prune -------------------------------------------------------------------------------


def _entries(*versions: str, days_ago: int = 30) -> list[Entry]:
    when = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        {
            "filename": f"p-{version}.tar.gz",
            "key": f"p/p-{version}.tar.gz",
            "version": version,
            "size": 1,
            "etag": '"e"',
            "upload-time": when,
        }
        for version in versions
    ]


@pytest.mark.parametrize(
    ("versions", "policy", "doomed"),
    [
        # The newest final release stays, even past --keep.
        (["1.0", "1.1.dev1", "1.1.dev2", "1.1.dev3"], Retention(2), ["1.1.dev1"]),
        (["1.0", "2.0", "3.0"], Retention(1), ["1.0", "2.0"]),
        # Pre-releases only: final releases are never candidates.
        (
            ["1.0", "1.1a1", "1.1b1", "2.0", "2.1rc1"],
            Retention(1, pre_releases_only=True),
            ["1.1a1", "1.1b1"],
        ),
        # One version in two spellings is one version.
        (["1.0", "1.0.0", "2.0"], Retention(1), ["1.0"]),
        (["1.0.dev1"], Retention(1), []),
    ],
)
def test_the_retention_policy(versions: list[str], policy: Retention, doomed: list[str]) -> None:
    assert doomed_versions(_entries(*versions), policy, datetime.now(UTC)) == doomed


def test_older_than_keeps_what_is_recent() -> None:
    files = _entries("1.0.dev1", "1.0.dev2", days_ago=10) + _entries("1.0.dev3", days_ago=1)
    policy = Retention(1, older_than=timedelta(days=5))
    assert doomed_versions(
        files + _entries("0.9.dev1", days_ago=10), policy, datetime.now(UTC)
    ) == [
        "0.9.dev1",
        "1.0.dev1",
        "1.0.dev2",
    ]
    policy = Retention(1, older_than=timedelta(days=30))
    assert doomed_versions(files, policy, datetime.now(UTC)) == []


def test_prune_dry_run_then_prune(
    s3: Any, storage: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(1, 8):
        name, data = wheel_bytes("ci-pkg", f"0.1.dev{n}")
        put(s3, f"ci-pkg/{name}", data)
    name, data = wheel_bytes("ci-pkg", "0.0.9")
    put(s3, f"ci-pkg/{name}", data)
    batches.rebuild(storage)
    before = keys(s3)
    code, out, _ = run(capsys, "prune", "ci-pkg", "--keep", "3", "--dry-run")
    assert code == 0 and "ci-pkg: 4 versions kept, 4 removed (4 files)" in out
    assert re.search(r"remove 0\.1\.dev1 +1 file +uploaded by \(not recorded", out), out
    assert re.search(r"keep +0\.0\.9 .*\(the newest release\)", out), out
    assert "dry run: 4 files would be removed" in out
    assert keys(s3) == before
    code, out, _ = run(capsys, "prune", "ci-pkg", "--keep", "3", "--yes", "--permanent")
    assert code == 0 and "removed 4 files" in out
    left = sorted(key.split("-")[2] for key in keys(s3, "ci-pkg/"))
    assert left == ["0.0.9", "0.1.dev5", "0.1.dev6", "0.1.dev7"]


# -- status ------------------------------------------------------------------------------


def test_status_is_all_well_for_a_fresh_index(
    index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    assert out.splitlines()[0].split() == [
        "project",
        "files",
        "versions",
        "latest",
        "last",
        "upload",
        "problems",
    ]
    assert "my-pkg     3      2         2.0" in out
    assert out.strip().endswith("2 projects; all well")


def test_status_reports_a_planted_problem_and_drift(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    put(s3, "my-pkg/my_pkg-3.0-py3-none-any.whl", b"PK\x05\x06" + bytes(18))  # corrupt
    batches.rebuild(index)
    put(s3, "my-pkg/my_pkg-4.0-py3-none-any.whl", wheel_bytes("my-pkg", "4.0")[1])  # no event
    s3.delete_object(Bucket=BUCKET, Key="my-pkg/my_pkg-1.0.tar.gz")  # no event either
    put(s3, "new-pkg/new_pkg-1.0-py3-none-any.whl", wheel_bytes("new-pkg", "1.0")[1])
    s3.put_object(
        Bucket=BUCKET,
        Key=manifest_key("claimed"),
        Body=json.dumps(manifest(s3, "my-pkg") | {"name": "claimed", "files": []}),
    )
    code, out, _ = run(capsys, "status")
    assert code == EXIT_ATTENTION, out
    assert "problem: my-pkg/my_pkg-3.0-py3-none-any.whl: " in out
    assert "drift: not in any manifest: my-pkg/my_pkg-4.0-py3-none-any.whl" in out
    assert "drift: indexed but gone: my-pkg/my_pkg-1.0.tar.gz" in out
    assert "drift: not indexed: new-pkg" in out
    assert "private, no files: claimed" in out
    code, out, _ = run(capsys, "status", "--json")
    report = json.loads(out)
    assert code == EXIT_ATTENTION
    assert report["unlisted"] == ["my-pkg/my_pkg-4.0-py3-none-any.whl"]
    assert report["missing"] == ["my-pkg/my_pkg-1.0.tar.gz"]
    assert report["unindexed"] == ["new-pkg"]
    assert report["private_without_files"] == ["claimed"]
    assert set(report["attention"]) == {
        "1 files indexed with a problem",
        "1 files no manifest lists",
        "1 indexed files that are gone",
        "1 projects not indexed",
    }
    code, out, _ = run(capsys, "status", "other-pkg")
    assert code == 0 and out.strip().endswith("1 projects; all well")


def test_status_shows_what_the_bucket_holds_escaped(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key in a project folder, and what a manifest written by hand holds (a name,
    a key, a version, an upload time, a problem), act on no terminal."""
    put(s3, f"my-pkg/{HOSTILE}.whl", b"not indexed")
    forged = manifest(s3, "my-pkg") | {
        "name": f"evil{HOSTILE}",
        "files": [
            {
                "filename": f"evil-1.0{HOSTILE}.tar.gz",
                "key": f"evil-pkg/{HOSTILE}.tar.gz",
                "version": f"1.0{HOSTILE}",
                "size": 1,
                "etag": '"e"',
                "upload-time": f"2026-01-01{HOSTILE}",
                "problem": f"bad archive{HOSTILE}",
            }
        ],
    }
    put(s3, manifest_key(f"evil{HOSTILE}"), json.dumps(forged).encode())
    code, out, err = run(capsys, "status")
    assert code == EXIT_ATTENTION
    assert not raw_controls(out) and not raw_controls(err), out
    assert "drift: not in any manifest: my-pkg/\\x1b]0;owned\\x07" in out
    assert "drift: indexed but gone: evil-pkg/\\x1b]0;owned\\x07" in out
    assert "problem: evil\\x1b]0;owned\\x07" in out
    code, out, _ = run(capsys, "status", "--json")
    assert not raw_controls(out) and f"my-pkg/{HOSTILE}.whl" in json.loads(out)["unlisted"]


def test_status_counts_the_dead_letter_queue(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="reindex-dlq")["QueueUrl"]
    code, out, _ = run(capsys, "status", "--dead-letter-queue", url)
    assert code == 0 and "dead-letter queue: 0 events waiting" in out
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    code, out, _ = run(capsys, "status", "--dead-letter-queue", url)
    assert code == EXIT_ATTENTION and "1 events in the dead-letter queue" in out


# -- what the commands print ---------------------------------------------------------


def test_the_commands_print_what_a_manifest_holds_escaped(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    """yank, unyank, remove, prune and their errors quote keys and versions from the
    manifests: a manifest written by hand cannot act on the operator's terminal."""
    hostile: Entry = {
        "filename": "evil_pkg-1.0-py3-none-any.whl",
        "key": f"evil-pkg/{HOSTILE}.whl",
        "version": f"1.0{HOSTILE}",
        "size": 1,
        "etag": '"e"',
    }
    name, data = wheel_bytes("evil-pkg", "2.0")
    put(s3, f"evil-pkg/{name}", data)
    put(s3, hostile["key"], b"x")
    forged = manifest(s3, "my-pkg") | {"name": "evil-pkg", "folders": ["evil-pkg"]}
    forged["files"] = [
        hostile,
        {**hostile, "filename": name, "key": f"evil-pkg/{name}", "version": "2.0"},
    ]
    put(s3, manifest_key("evil-pkg"), json.dumps(forged).encode())
    target = "evil-pkg/evil_pkg-1.0-py3-none-any.whl"
    printed = []
    for args in (
        ["yank", target],
        ["unyank", target],
        ["prune", "evil-pkg", "--keep", "1", "--dry-run"],
        ["yank", "evil-pkg==3.0"],
        ["remove", target, "--yes", "--permanent"],
    ):
        _, out, err = run(capsys, *args)
        assert not raw_controls(out + err), (args, out, err)
        printed.append(out + err)
    assert "yanked evil-pkg/\\x1b]0;owned\\x07" in printed[0]
    assert "unyanked evil-pkg/\\x1b]0;owned\\x07" in printed[1]
    assert "remove 1.0\\x1b]0;owned\\x07" in printed[2]
    assert "(it has: 1.0\\x1b]0;owned\\x07" in printed[3]
    assert "removed evil-pkg/\\x1b]0;owned\\x07" in printed[4]


# -- what prune and remove delete can be restored ---------------------------------------


def upload_as(storage: Storage, user: str, project: str, version: str) -> str:
    """A wheel of ``project`` through the upload route, by ``user``; its key."""
    name, data = wheel_bytes(project, version)
    body, content_type = multipart_form(
        fields_for(project, version, data), {"content": (name, data)}
    )
    event = build_event(
        "POST", "/legacy/", [("Content-Type", content_type)], body, route_keys=["POST /legacy/"]
    )
    context = {"user": user, "rights": "read,upload", "projects": "*"}
    event["requestContext"]["authorizer"] = {"lambda": context}
    result = Uploader(UploadSettings(BUCKET), storage)(event)
    assert result["statusCode"] == 200, result["body"]
    return f"{project}/{name}"


def notify(storage: Storage, event_name: str, *keys: str) -> None:
    """What S3 sends the reindexer for a deletion or a restore on a versioned bucket
    (moto sends nothing for a delete on a versioned bucket)."""
    Reindexer(ReindexSettings(BUCKET), storage)(s3_event(*((event_name, key) for key in keys)))


@pytest.fixture
def team_app(s3: Any, storage: Storage) -> dict[str, str]:
    """team-app on a versioned bucket: the owner's 1.0 and 1.1 through the upload
    route, 0.9 put straight into the bucket, then an uploader's 9999.0 to 9999.2."""
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    keys = {version: upload_as(storage, "owner", "team-app", version) for version in ("1.0", "1.1")}
    name, data = wheel_bytes("team-app", "0.9")
    put(s3, f"team-app/{name}", data)
    keys["0.9"] = f"team-app/{name}"
    for version in ("9999.0", "9999.1", "9999.2"):
        keys[version] = upload_as(storage, "mallory", "team-app", version)
    batches.rebuild(storage)
    return keys


def test_prune_shows_who_uploaded_each_version_and_asks_first(
    s3: Any,
    team_app: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = keys(s3)
    code, out, err = run(capsys, "prune", "team-app", "--keep", "3")
    assert code == 1 and "not on a terminal: pass --yes" in err
    assert "team-app: 3 versions kept, 3 removed (3 files)" in out
    assert re.search(r"keep +9999\.2 +1 file +uploaded by mallory \(the newest release\)", out)
    assert re.search(r"keep +9999\.0 +1 file +uploaded by mallory\n", out)
    assert re.search(r"remove 1\.1 +1 file +uploaded by owner\n", out)
    assert re.search(r"remove 0\.9 +1 file +uploaded by \(not recorded: put into the bucket", out)
    assert keys(s3) == before
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, _ = run(capsys, "prune", "team-app", "--keep", "3")
    assert code == 0 and "nothing removed" in out
    assert keys(s3) == before


def test_prune_and_remove_refuse_a_bucket_that_keeps_no_versions(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    before = keys(s3)
    for args in (["prune", "my-pkg", "--keep", "1", "--yes"], ["remove", "my-pkg==1.0", "--yes"]):
        code, out, err = run(capsys, *args)
        assert code == 1 and "keeps no earlier versions (versioning is off)" in err, err
        assert "could never be restored" in err and "--permanent" in err
        assert "removed" not in out
    assert keys(s3) == before
    code, out, _ = run(capsys, "prune", "my-pkg", "--keep", "1", "--yes", "--permanent")
    assert code == 0 and "removed 2 files" in out and "deleted for good" in out
    assert keys(s3, "my-pkg/") == {"my-pkg/my_pkg-2.0-py3-none-any.whl"}


def test_what_prune_removed_comes_back_as_it_was(
    s3: Any, storage: Storage, team_app: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    owners = [team_app["0.9"], team_app["1.0"], team_app["1.1"]]
    before = {key: s3.head_object(Bucket=BUCKET, Key=key) for key in owners}
    indexed = files(s3, "team-app")
    code, out, _ = run(capsys, "prune", "team-app", "--keep", "3", "--yes")
    assert code == 0 and "removed 3 files" in out
    assert "serverless-pypi restore team-app==1.1 --bucket" in out
    notify(storage, "ObjectRemoved:DeleteMarkerCreated", *owners)
    assert {entry["version"] for entry in files(s3, "team-app").values()} == {
        "9999.0",
        "9999.1",
        "9999.2",
    }
    filename = team_app["1.0"].partition("/")[2]
    code, out, _ = run(capsys, "restore", "team-app==1.1", filename, "Team_App/" + filename)
    assert code == 0, out
    assert out.count("restored team-app/") == 2  # the file named twice is restored once
    run(capsys, "restore", "team-app==0.9")
    for key in owners:
        after = s3.head_object(Bucket=BUCKET, Key=key)
        for field in ("ETag", "LastModified", "Metadata", "VersionId", "ContentLength"):
            assert after[field] == before[key][field], (key, field)
    notify(storage, "ObjectRemoved:Delete", *owners)  # what S3 sends for a restore
    assert files(s3, "team-app") == indexed  # same hashes and upload times


def test_restore_says_why_when_there_is_nothing_to_restore(
    s3: Any, storage: Storage, team_app: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "restore", "team-app==1.0")
    assert code == 1 and "team-app==1.0 is in s3://" in err and "nothing to restore" in err
    code, _, err = run(capsys, "restore", "team-app==3.0")
    assert code == 1 and "team-app==3.0 was never in s3://test-pypi-bucket\n" in err
    code, _, err = run(capsys, "restore", "team_app-3.0-py3-none-any.whl")
    assert code == 1 and "team_app-3.0-py3-none-any.whl was never in" in err
    # The whole command is refused when one target is: nothing changes.
    run(capsys, "remove", "team-app==1.1", "--yes")
    before = keys(s3)
    code, _, err = run(capsys, "restore", "team-app==1.1", "team-app==3.0")
    assert code == 1 and "team-app==3.0 was never in" in err
    assert keys(s3) == before
    # Its versions expired: only the delete marker is left.
    for version in s3.list_object_versions(Bucket=BUCKET, Prefix=team_app["1.1"])["Versions"]:
        s3.delete_object(Bucket=BUCKET, Key=team_app["1.1"], VersionId=version["VersionId"])
    code, _, err = run(capsys, "restore", "team-app==1.1")
    assert code == 1 and "its earlier versions are gone" in err


def test_restore_on_a_bucket_that_keeps_no_versions(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "remove", "my-pkg==1.0", "--yes", "--permanent")
    code, _, err = run(capsys, "restore", "my-pkg==1.0")
    assert code == 1
    assert "was never in s3://test-pypi-bucket, or was deleted for good (the bucket" in err


def test_a_restored_file_is_yanked_again_only_if_it_was_when_removed(
    s3: Any, storage: Storage, team_app: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    yanked, unyanked = team_app["1.0"], team_app["1.1"]
    run(capsys, "yank", "team-app==1.0", "team-app==1.1", "--reason", "broken")
    run(capsys, "unyank", "team-app==1.1")
    time.sleep(1.1)  # S3 times versions to the second: the unyank comes first
    code, out, _ = run(capsys, "remove", "team-app==1.0", "team-app==1.1", "--yes")
    assert code == 0 and f"removed {yanked}.yanked" in out
    code, out, _ = run(capsys, "restore", "team-app==1.0", "team-app==1.1")
    assert code == 0 and f"restored {yanked} (yanked, as it was)" in out
    assert f"restored {unyanked}\n" in out
    assert s3.get_object(Bucket=BUCKET, Key=yanked + ".yanked")["Body"].read() == b"broken"
    assert keys(s3, unyanked + ".yanked") == set()
    notify(storage, "ObjectRemoved:Delete", yanked + ".yanked", yanked, unyanked)
    restored = {entry["version"]: entry.get("yanked") for entry in files(s3, "team-app").values()}
    assert restored["1.0"] == "broken" and restored["1.1"] is None
