"""Who may upload what: upload rights per project, and public names
that an upload cannot take over until they are claimed (``serverless-pypi claim``,
``release``), with the upload handler, the api and the commands on moto and a
stand-in for the fallback index on loopback (tests/fallback_stub.py)."""

from __future__ import annotations

import argparse
import base64
from typing import Any

import pytest

from serverless_pypi import manifest as manifests
from serverless_pypi.cli import claims
from serverless_pypi.cli.common import CommandError
from serverless_pypi.config import ConfigError, UploadSettings
from serverless_pypi.layout import manifest_key
from serverless_pypi.local.apigw_events import build_event, multipart_form
from serverless_pypi.objects import Blob
from serverless_pypi.storage import Storage
from serverless_pypi.upload import Uploader, fallback_has
from tests.builders import wheel_bytes
from tests.conftest import BUCKET, Get
from tests.fallback_stub import fake_index
from tests.unit.test_upload import fields_for


def upload_event(
    project: str, version: str = "1.0", projects: str | None = "*", **wheel: Any
) -> dict[str, Any]:
    """A twine upload of a wheel of ``project``, by a user whose authorizer context
    holds these project patterns (None: no patterns at all, as an older authorizer)."""
    name, data = wheel_bytes(project, version, **wheel)
    body, content_type = multipart_form(
        fields_for(project, version, data), {"content": (name, data)}
    )
    event = build_event(
        "POST",
        "/legacy/",
        [("Content-Type", content_type)],
        body,
        route_keys=["POST /legacy/"],
    )
    context = {"user": "team-ci", "rights": "read,upload"}
    if projects is not None:
        context["projects"] = projects
    event["requestContext"]["authorizer"] = {"lambda": context}
    return event


def answer(uploader: Uploader, event: dict[str, Any]) -> tuple[int, str]:
    result = uploader(event)
    body = result["body"]
    text = base64.b64decode(body).decode() if result.get("isBase64Encoded") else body
    return result["statusCode"], text


# -- upload rights per project --------------------------------------------------------


@pytest.mark.parametrize(
    ("projects", "project", "status"),
    [
        ("team-*", "team-a", 200),
        ("team-*", "Team_B", 200),  # the pattern matches the normalized name
        ("team-*", "other", 403),
        ("team-*,lib-?", "lib-x", 200),
        ("", "team-a", 403),
        (None, "anything", 200),  # an authorizer from before patterns: every project
    ],
)
def test_an_upload_right_covers_the_projects_its_patterns_match(
    s3: Any, storage: Storage, projects: str | None, project: str, status: int
) -> None:
    uploader = Uploader(UploadSettings(BUCKET), storage)
    code, text = answer(uploader, upload_event(project, projects=projects))
    assert code == status, text
    if status == 403:
        assert "may not upload to" in text
        assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_a_callers_own_authorizer_decides_alone(storage: Storage) -> None:
    theirs = Uploader(UploadSettings(BUCKET, require_upload_right=False), storage)
    assert answer(theirs, upload_event("other", projects="team-*"))[0] == 200


@pytest.mark.parametrize(
    ("version", "tag"),
    [
        ("1.0+evil", "py3-none-any"),  # a local version
        ("1.0", "1-py3-none-any"),  # a build tag
        ("1.0", "py311-none-any"),  # a more specific tag
        ("1.0.0", "py3-none-any"),  # the same version, respelled
    ],
)
def test_the_owners_versions_cannot_be_joined_by_another_projects_uploader(
    storage: Storage, version: str, tag: str
) -> None:
    """The review's four ways to slip a file next to the owner's 1.0, each one a
    file pip would pick for `owned==1.0`: the project's pattern refuses them all."""
    uploader = Uploader(UploadSettings(BUCKET), storage)
    assert answer(uploader, upload_event("owned", "1.0", projects="owned"))[0] == 200
    code, text = answer(uploader, upload_event("owned", version, projects="team-*", tag=tag))
    assert code == 403, text
    # The owner may add it.
    assert answer(uploader, upload_event("owned", version, projects="owned", tag=tag))[0] == 200


# -- public names are not taken over by accident ---------------------------------------


def test_a_public_name_new_to_the_bucket_is_refused_until_claimed(
    s3: Any, storage: Storage, get: Get
) -> None:
    with fake_index({"/simple/requests/": 200}) as (index, fallback):
        uploader = Uploader(UploadSettings(BUCKET, fallback_index_url=fallback), storage)
        code, text = answer(uploader, upload_event("Requests"))
        assert code == 403, text
        assert f"serverless-pypi claim requests --bucket {BUCKET}" in text
        assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
        # A name the fallback index does not have is taken at once.
        assert answer(uploader, upload_event("ours-only"))[0] == 200
        assert index.seen == ["/simple/requests/", "/simple/ours-only/"]
        # Claimed: the name is this index's, and it no longer falls back.
        get.configure(fallback_index_url=fallback)
        assert get("/simple/requests/").status == 302
        assert "claimed requests" in claims.claim(storage, "requests")
        assert get("/simple/requests/").status == 404
        assert answer(uploader, upload_event("requests"))[0] == 200
        # Held names are never asked about again.
        assert answer(uploader, upload_event("ours-only", "2.0"))[0] == 200
        assert answer(uploader, upload_event("requests", "2.0"))[0] == 200
        assert index.seen == ["/simple/requests/", "/simple/ours-only/"]


def test_a_name_in_any_spelling_of_its_folder_is_held(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("requests", "0.1")
    s3.put_object(Bucket=BUCKET, Key=f"Requests/{name}", Body=data)  # with `aws s3 cp`
    with fake_index({"/simple/requests/": 200}) as (index, fallback):
        uploader = Uploader(UploadSettings(BUCKET, fallback_index_url=fallback), storage)
        assert answer(uploader, upload_event("requests"))[0] == 200
        assert index.seen == []


def test_when_the_fallback_index_cannot_tell_the_upload_is_refused(storage: Storage) -> None:
    """Fail closed: a retry or a claim costs less than a name taken over for good."""
    with fake_index({"/simple/flaky/": 503, "/simple/loop/": (302, "/simple/loop/")}) as (
        _,
        fallback,
    ):
        uploader = Uploader(UploadSettings(BUCKET, fallback_index_url=fallback), storage)
        for project in ("flaky", "loop"):
            code, text = answer(uploader, upload_event(project))
            assert code == 503, text
            assert "did not say" in text and f"serverless-pypi claim {project}" in text


def test_the_upload_function_reads_the_apis_fallback_index_from_its_environment() -> None:
    given = {"S3_BUCKET": BUCKET, "FALLBACK_INDEX_URL": "https://pypi.org/simple"}
    assert UploadSettings.from_env(given).fallback_index_url == "https://pypi.org/simple/"
    assert UploadSettings.from_env({"S3_BUCKET": BUCKET}).fallback_index_url is None
    with pytest.raises(ConfigError, match="FALLBACK_INDEX_URL"):
        UploadSettings.from_env({**given, "FALLBACK_INDEX_URL": "ftp://pypi.org/"})


def test_asking_the_fallback_index() -> None:
    pages: dict[str, int | tuple[int, str]] = {
        "/simple/here/": 200,
        "/simple/gone/": 410,
        "/simple/moved/": (301, "/simple/here/"),
        "/simple/far/": (302, "/simple/moved/"),
        "/simple/farther/": (302, "/simple/far/"),
        "/simple/broken/": 500,
    }
    with fake_index(pages) as (_, url):
        assert fallback_has(url, "here") is True
        assert fallback_has(url, "nowhere") is False
        assert fallback_has(url, "gone") is False
        assert fallback_has(url, "moved") is True
        assert fallback_has(url, "far") is True  # two redirects
        assert fallback_has(url, "farther") is None  # three: too many
        assert fallback_has(url, "broken") is None
    with fake_index({}, delay=1.0) as (_, slow):
        assert fallback_has(slow, "here", timeout=0.2) is None
    assert fallback_has("http://127.0.0.1:9/simple/", "here") is None  # nothing listens


# -- claim and release -----------------------------------------------------------------


def test_claim_writes_the_names_empty_manifest_once(storage: Storage) -> None:
    assert "claimed team-a" in claims.claim(storage, "team-a")
    stored = storage.get(manifest_key("team-a"))
    assert isinstance(stored, Blob)
    assert manifests.decode(stored.body) == manifests.new("team-a", [], [])
    assert "already" in claims.claim(storage, "team-a")


def test_claim_leaves_a_name_with_files_alone(s3: Any, storage: Storage) -> None:
    s3.put_object(Bucket=BUCKET, Key="Team.A/team_a-1.0.tar.gz", Body=b"x")
    assert "has files in Team.A/" in claims.claim(storage, "team-a")
    assert storage.head(manifest_key("team-a")) is None


def test_release_gives_a_name_without_files_back(s3: Any, storage: Storage, get: Get) -> None:
    get.configure(fallback_index_url="https://pypi.org/simple/")
    claims.claim(storage, "requests")
    assert get("/simple/requests/").status == 404
    assert "released requests" in claims.release(storage, "requests")
    assert get("/simple/requests/").status == 302
    assert "goes to the fallback index already" in claims.release(storage, "requests")


def test_release_refuses_a_name_with_files(s3: Any, storage: Storage) -> None:
    claims.claim(storage, "team-a")
    s3.put_object(Bucket=BUCKET, Key="team_a/team_a-1.0.tar.gz", Body=b"x")
    with pytest.raises(CommandError, match="has files in team_a/"):
        claims.release(storage, "team-a")
    assert storage.head(manifest_key("team-a")) is not None
    listed = manifests.new("listed", ["listed"], [])
    listed["files"] = [
        {"filename": "listed-1.0.tar.gz", "key": "listed/listed-1.0.tar.gz", "version": "1.0",
         "size": 1, "etag": '"x"'}
    ]  # fmt: skip
    storage.put(manifest_key("listed"), manifests.encode(listed), "application/json")
    with pytest.raises(CommandError, match="still lists files"):
        claims.release(storage, "listed")


def test_the_commands_parse_and_run(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    claims.add_parsers(parser.add_subparsers(required=True))
    args = parser.parse_args(["claim", "Team_A", "--bucket", BUCKET])
    assert args.run(args) == 0
    assert (
        capsys.readouterr().out
        == "claimed team-a: it no longer falls back, and uploads of it are accepted\n"
    )
    args = parser.parse_args(["release", "team.a", "--bucket", BUCKET])
    assert args.run(args) == 0
    assert capsys.readouterr().out.startswith("released team-a")
    bad = parser.parse_args(["claim", "--bucket", BUCKET, "--", "-bad-"])
    with pytest.raises(CommandError, match="not a project name"):
        bad.run(bad)
    missing = parser.parse_args(["claim", "x", "--bucket", "no-such-bucket"])
    with pytest.raises(CommandError, match="no such bucket"):
        missing.run(missing)


def test_release_that_an_upload_races_says_the_name_is_still_private(
    s3: Any, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims.claim(storage, "team-a")
    delete = storage.delete

    def upload_then_delete(key: str) -> None:
        # The upload route's PUT lands after release's checks, before its delete.
        s3.put_object(Bucket=BUCKET, Key="team-a/team_a-1.0.tar.gz", Body=b"x")
        delete(key)

    monkeypatch.setattr(storage, "delete", upload_then_delete)
    with pytest.raises(CommandError, match=r"team-a was not released: .*files in team-a/"):
        claims.release(storage, "team-a")
