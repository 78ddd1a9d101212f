"""A project's status (PEP 792) through the real command line on moto: archive,
deprecate, quarantine and activate; what the api, the upload route, ``upload``,
the root index and ``status`` make of it; and a status write racing the reindexer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from serverless_pypi import batch as batches
from serverless_pypi import cli, manifeststore
from serverless_pypi import manifest as manifests
from serverless_pypi.cli import lifecycle
from serverless_pypi.config import UploadSettings
from serverless_pypi.layout import manifest_key, status_key
from serverless_pypi.negotiate import JSON_V1
from serverless_pypi.storage import Storage
from serverless_pypi.upload import Uploader
from tests.builders import wheel_bytes, write
from tests.conftest import BUCKET, Get
from tests.moto_bucket import HookedStorage, Requests, created, files, put, reindexer, root
from tests.unit.test_ownership import answer, upload_event

WHEEL = "my_pkg-1.0-py3-none-any.whl"
FALLBACK = "https://fallback.example/simple/"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main([*args, "--bucket", BUCKET])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def index(s3: Any, storage: Storage) -> Storage:
    """my-pkg 1.0 in my-pkg/, other-pkg 1.0: indexed, with the root index."""
    for project in ("my-pkg", "other-pkg"):
        name, data = wheel_bytes(project, "1.0")
        put(s3, f"{project}/{name}", data)
    batches.rebuild(storage)
    return storage


def page(get: Get, path: str = "/simple/my-pkg/") -> Any:
    reply = get(path, headers={"accept": JSON_V1})
    assert reply.status == 200
    return reply.json()


def test_archive_marks_the_pages_keeps_the_files_and_refuses_uploads(
    s3: Any, index: Storage, get: Get, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "archive", "My.Pkg", "--reason", "use new-pkg")
    assert code == 0 and "my-pkg is archived" in out
    found = page(get)
    assert found["meta"]["api-version"] == "1.4"
    assert found["project-status"] == {"status": "archived", "reason": "use new-pkg"}
    assert [f["filename"] for f in found["files"]] == [WHEEL]
    html = get("/simple/my-pkg/", headers={"accept": "text/html"}).text
    assert '<meta name="pypi:project-status" content="archived">' in html
    assert '<meta name="pypi:project-status-reason" content="use new-pkg">' in html
    assert get(f"/simple/my-pkg/{WHEEL}").status == 302
    assert "my-pkg" in root(s3)
    # The upload route and the command line both refuse a new file.
    status, text = answer(Uploader(UploadSettings(BUCKET), index), upload_event("my-pkg", "2.0"))
    assert status == 403 and "my-pkg is archived" in text
    dist = write(tmp_path, wheel_bytes("my-pkg", "3.0"))
    code, _, err = run(capsys, "upload", str(dist))
    assert code == 1 and "refused, my-pkg is archived" in err
    assert set(files(s3, "my-pkg")) == {WHEEL}
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="my-pkg/")["KeyCount"] == 1


def test_deprecate_marks_the_pages_and_changes_nothing_else(
    s3: Any, index: Storage, get: Get, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deprecate", "my-pkg")[0] == 0
    found = page(get)
    assert found["project-status"] == {"status": "deprecated"}
    assert [f["filename"] for f in found["files"]] == [WHEEL]
    status, _ = answer(Uploader(UploadSettings(BUCKET), index), upload_event("my-pkg", "2.0"))
    assert status == 200


def test_quarantine_offers_no_file_and_activate_restores_them(
    s3: Any, index: Storage, get: Get, capsys: pytest.CaptureFixture[str]
) -> None:
    get.configure(fallback_index_url=FALLBACK)
    code, out, _ = run(capsys, "quarantine", "my-pkg", "--reason", "malware in 1.0")
    assert code == 0 and "my-pkg is quarantined" in out
    found = page(get)
    assert found["project-status"] == {"status": "quarantined", "reason": "malware in 1.0"}
    assert (found["files"], found["versions"]) == ([], [])
    html = get("/simple/my-pkg/", headers={"accept": "text/html"}).text
    assert "<a " not in html and 'content="quarantined"' in html
    # Every file URL is 404, a lock file's link and its core metadata included,
    # in any spelling of the folder; and the name never goes to the fallback index.
    for path in (WHEEL, f"{WHEEL}.metadata", f"My.Pkg/{WHEEL}"):
        assert get(f"/simple/my-pkg/{path}").status == 404
        assert get(f"/simple/my-pkg/{path}", method="HEAD").status == 404
    assert root(s3) == ["other-pkg"]
    assert "my-pkg" not in get("/simple/").text
    status, text = answer(Uploader(UploadSettings(BUCKET), index), upload_event("my-pkg", "2.0"))
    assert status == 403 and "quarantined" in text
    # The report lists it.
    code, out, _ = run(capsys, "status")
    assert "quarantined: my-pkg: malware in 1.0" in out
    assert "archived" not in out and "deprecated" not in out
    # Active again: everything back.
    code, out, _ = run(capsys, "activate", "my-pkg")
    assert code == 0 and "my-pkg is active" in out
    found = page(get)
    assert "project-status" not in found and found["meta"]["api-version"] == "1.1"
    assert [f["filename"] for f in found["files"]] == [WHEEL]
    assert get(f"/simple/my-pkg/{WHEEL}").status == 302
    assert get(f"/simple/my-pkg/{WHEEL}.metadata").status == 200
    assert root(s3) == ["my-pkg", "other-pkg"]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=status_key(""))["KeyCount"] == 0
    code, out, _ = run(capsys, "status", "--json")
    assert all(p["status"] == "active" for p in json.loads(out)["projects"])


def test_a_quarantined_claimed_name_shows_its_status_and_never_falls_back(
    s3: Any, storage: Storage, get: Get, capsys: pytest.CaptureFixture[str]
) -> None:
    get.configure(fallback_index_url=FALLBACK)
    assert run(capsys, "claim", "held")[0] == 0
    assert run(capsys, "quarantine", "held")[0] == 0
    assert page(get, "/simple/held/")["project-status"] == {"status": "quarantined"}


def test_a_project_the_index_does_not_hold_gets_no_status(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "archive", "nope")
    assert code == 1
    assert "no project nope" in err and "serverless-pypi claim nope" in err
    assert manifeststore.read_status(index, "nope") is None
    # Files not indexed yet: the reindexer must come first.
    name, data = wheel_bytes("late-pkg", "1.0")
    put(s3, f"Late.Pkg/{name}", data)
    code, _, err = run(capsys, "quarantine", "late-pkg")
    assert code == 1 and "not indexed yet" in err and "Late.Pkg/" in err
    assert run(capsys, "archive", "not a name")[0] == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("archive", "my-pkg", "--reason", "bad\x1b[2J"), "control or format characters"),
        (("archive", "my-pkg", "--reason", "\u202egnp.exe"), "control or format characters"),
        (("archive", "my-pkg", "--reason", "x" * 501), "at most 500"),
        (("activate", "my-pkg", "--reason", "why"), "no reason"),
    ],
)
def test_a_reason_that_cannot_be_shown_as_given_is_refused(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], error: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 1 and error in err
    assert manifests.status_of(manifeststore.read(index, "my-pkg").manifest) == "active"


def test_setting_the_same_status_again_says_so(
    index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "archive", "my-pkg")
    code, out, _ = run(capsys, "archive", "my-pkg")
    assert code == 0 and "my-pkg is archived already" in out


def test_the_status_survives_an_incremental_add_at_six_requests(
    s3: Any, index: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "deprecate", "my-pkg", "--reason", "old")
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)
    requests = Requests(index)
    reindexer(index)(created(s3, f"my-pkg/{name}"))
    # The manifest's four, then the list of projects for people (a GET and a PUT).
    assert len(requests.take()) == 6
    stored = manifeststore.read(index, "my-pkg").manifest
    assert stored is not None and name in {e["filename"] for e in stored["files"]}
    assert stored.get("status") == {"status": "deprecated", "reason": "old"}


def test_the_status_survives_a_rebuild_in_any_spelling_even_without_its_manifest(
    s3: Any, index: Storage, get: Get, capsys: pytest.CaptureFixture[str]
) -> None:
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"My_Pkg/{name}", data)
    batches.rebuild(index)
    run(capsys, "quarantine", "my-pkg", "--reason", "bad")
    batches.rebuild(index)
    assert manifests.status_of(manifeststore.read(index, "my-pkg").manifest) == "quarantined"
    # The derived manifest lost (deleted by hand): the status object brings it back.
    s3.delete_object(Bucket=BUCKET, Key=manifest_key("my-pkg"))
    batches.rebuild(index)
    stored = manifeststore.read(index, "my-pkg").manifest
    assert stored is not None and len(stored["files"]) == 2
    assert stored.get("status") == {"status": "quarantined", "reason": "bad"}
    assert root(s3) == ["other-pkg"]
    assert page(get)["files"] == []


def test_a_status_write_racing_an_incremental_add_loses_neither(s3: Any, index: Storage) -> None:
    """The add commits first: the status write loses its conditional write, reads
    the manifest again and applies the status to it, new file included."""
    name, data = wheel_bytes("my-pkg", "2.0")

    def add() -> None:
        put(s3, f"my-pkg/{name}", data)
        reindexer(index)(created(s3, f"my-pkg/{name}"))

    racer = HookedStorage(index, manifest_key("my-pkg"), add)
    lifecycle.set_status(racer, "my-pkg", {"status": "archived"})
    assert set(files(s3, "my-pkg")) == {WHEEL, name}
    stored = manifeststore.read(index, "my-pkg").manifest
    assert manifests.status_of(stored) == "archived"


def test_an_incremental_add_racing_a_status_write_loses_neither(s3: Any, index: Storage) -> None:
    """The status write commits first: the add loses its conditional write, reads
    the manifest again and adds its file to it, status kept."""
    name, data = wheel_bytes("my-pkg", "2.0")
    put(s3, f"my-pkg/{name}", data)

    def status() -> None:
        lifecycle.set_status(index, "my-pkg", {"status": "quarantined"})

    racer = HookedStorage(index, manifest_key("my-pkg"), status)
    reindexer(racer)(created(s3, f"my-pkg/{name}"))
    assert set(files(s3, "my-pkg")) == {WHEEL, name}
    stored = manifeststore.read(index, "my-pkg").manifest
    assert manifests.status_of(stored) == "quarantined"
    assert root(s3) == ["other-pkg"]


def test_a_name_with_a_status_is_not_released_until_it_is_active(
    s3: Any, storage: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "claim", "held")
    run(capsys, "quarantine", "held")
    code, _, err = run(capsys, "release", "held")
    assert code == 1 and "held is quarantined: make it active first" in err
    assert manifeststore.exists(storage, "held")
    run(capsys, "activate", "held")
    assert run(capsys, "release", "held")[0] == 0
    assert not manifeststore.exists(storage, "held")
    assert manifeststore.read_status(storage, "held") is None
