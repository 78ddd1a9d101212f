"""Upload rights per project and claimed names, end to end: users made
with `serverless-pypi user add`, twine against the upload route behind the
authorizer and API Gateway's part, a stand-in for PyPI on loopback as the
fallback index, `serverless-pypi claim`, then pip installing the claimed name
from this index rather than from the fallback."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from serverless_pypi import cli
from serverless_pypi.authorizer import Authorizer
from serverless_pypi.cli import claims
from serverless_pypi.cli.userstore import UserStore
from serverless_pypi.config import AuthSettings, UploadSettings
from serverless_pypi.layout import USERS_FILE
from serverless_pypi.local import stand_in
from serverless_pypi.s3http import S3Reader
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import SsmReader
from serverless_pypi.storage import Storage
from serverless_pypi.upload import Uploader
from tests.builders import wheel_bytes, write
from tests.clients import isolated_env, pip, pip_installed, serving, venv
from tests.conftest import BUCKET, Get
from tests.e2e.conftest import USERS_PATH, PrivateIndex
from tests.fallback_stub import FakeIndex, fake_index

BIN = Path(sys.executable).parent


@dataclass
class Guarded:
    index: PrivateIndex
    fallback: FakeIndex
    tokens: dict[str, str]


def add_user(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """`serverless-pypi user add ARGS`, as the README says; the token it prints last."""
    assert cli.main(["user", "add", *args, "--path", USERS_PATH, "--bucket", BUCKET]) == 0
    return capsys.readouterr().out.splitlines()[-1]


@pytest.fixture
def guarded(
    s3: Any, storage: Storage, get: Get, moto_url: str, capsys: pytest.CaptureFixture[str]
) -> Iterator[Guarded]:
    tokens = {
        "team-ci": add_user(capsys, "team-ci", "--upload", "team-*"),
        "ci": add_user(capsys, "ci", "--upload"),
        "dev": add_user(capsys, "dev"),
    }
    keys = Credentials("t", "t")
    parameters = SsmReader("us-east-1", moto_url, credentials=lambda: keys)
    objects = S3Reader(BUCKET, "us-east-1", moto_url, credentials=lambda: keys)
    with fake_index({"/simple/requests/": 200}) as (fallback, url):
        get.configure(fallback_index_url=url)
        server = stand_in(
            get.app,
            upload=Uploader(UploadSettings(BUCKET, fallback_index_url=url), storage),
            authorizer=Authorizer(AuthSettings(USERS_PATH, 0, BUCKET), parameters, objects=objects),
            ttl=300,
        )
        store = UserStore(boto3.client("ssm", region_name="us-east-1"), USERS_PATH, bucket=storage)
        with serving(server) as origin:
            index = PrivateIndex(origin, tokens["dev"], tokens["ci"], store, s3)
            yield Guarded(index, fallback, tokens)


def uploaded(index: PrivateIndex) -> list[str]:
    """The keys in the bucket but the users file."""
    found = index.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return [item["Key"] for item in found if item["Key"] != USERS_FILE]


def twine(index: PrivateIndex, user: str, token: str, dist: Path) -> tuple[int, str]:
    result = subprocess.run(
        [str(BIN / "twine"), "upload", "--non-interactive", "--disable-progress-bar",
         "--verbose", "--repository-url", index.legacy, "-u", user, "-p", token, str(dist)],
        env=isolated_env({"TWINE_CERT": ""}),
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def claim(name: str) -> int:
    parser = argparse.ArgumentParser()
    claims.add_parsers(parser.add_subparsers(required=True))
    args = parser.parse_args(["claim", name, "--bucket", BUCKET])
    return int(args.run(args))


def test_a_team_uploader_publishes_its_projects_only(
    guarded: Guarded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = guarded.index
    code, out = twine(
        index, "team-ci", guarded.tokens["team-ci"], write(tmp_path, wheel_bytes("team-a", "1.0"))
    )
    assert code == 0, out
    code, out = twine(
        index, "team-ci", guarded.tokens["team-ci"], write(tmp_path, wheel_bytes("other", "1.0"))
    )
    assert code != 0 and "403" in out and "may not upload to other (only to: team-*)" in out, out
    assert uploaded(index) == ["team-a/team_a-1.0-py3-none-any.whl"]
    assert cli.main(["user", "list", "--path", USERS_PATH]) == 0
    assert sorted(capsys.readouterr().out.splitlines()) == [
        "ci\tread,upload\ttoken\t*",
        "dev\tread\ttoken\t-",
        "team-ci\tread,upload\ttoken\tteam-*",
    ]  # fmt: skip


def test_a_public_name_is_refused_until_it_is_claimed(guarded: Guarded, tmp_path: Path) -> None:
    index = guarded.index
    ours = write(tmp_path, wheel_bytes("requests", "99.0", summary="the private one"))
    code, out = twine(index, "ci", guarded.tokens["ci"], ours)
    assert code != 0 and "403" in out, out
    assert f"serverless-pypi claim requests --bucket {BUCKET}" in out
    assert guarded.fallback.seen == ["/simple/requests/"]
    assert claim("requests") == 0
    code, out = twine(index, "ci", guarded.tokens["ci"], ours)
    assert code == 0, out
    index.reindex(f"requests/{ours.name}")
    python = venv(tmp_path / "venv")
    pip(
        python,
        "install",
        "--no-deps",
        "--index-url",
        index.with_user("dev", index.reader),
        "requests",
    )
    assert pip_installed(python)["requests"] == "99.0"
    assert guarded.fallback.seen == ["/simple/requests/"]  # never asked again


def test_changed_rights_keep_the_token(
    guarded: Guarded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`user rights` narrows what a token may upload to without replacing the token
    (this test's authorizer reads the users again at most once a second, and nothing is
    cached before the change)."""
    index, token = guarded.index, guarded.tokens["ci"]
    rights = ["rights", "ci", "--upload", "team-*", "--path", USERS_PATH, "--bucket", BUCKET]
    assert cli.main(["user", *rights]) == 0
    assert "may now read, upload to team-*" in capsys.readouterr().out
    code, out = twine(index, "ci", token, write(tmp_path, wheel_bytes("other", "1.0")))
    assert code != 0 and "may not upload to other (only to: team-*)" in out, out
    code, out = twine(index, "ci", token, write(tmp_path, wheel_bytes("team-b", "1.0")))
    assert code == 0, out
    assert uploaded(index) == ["team-b/team_b-1.0-py3-none-any.whl"]
