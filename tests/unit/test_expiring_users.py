"""Users that expire: `user add --expires`, `user rotate --expires`, the version 3
record, the authorizer's refusal (even warm, with the secret remembered), `user
list` and the warning of `status`."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import pytest

from serverless_pypi import auth, cli
from serverless_pypi.authorizer import Authorizer
from serverless_pypi.cli.user import duration, expiring_users, expiry_text
from serverless_pypi.config import AuthSettings
from serverless_pypi.s3http import S3Reader
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.storage import Storage
from serverless_pypi.userfile import USERS_FILE
from tests.conftest import BUCKET
from tests.unit.test_auth import PATH, basic, event


@pytest.mark.parametrize(
    ("text", "seconds"), [("90d", 90 * 86400), ("36h", 36 * 3600), ("90m", 5400), ("1m", 60)]
)
def test_durations_as_the_cooldown_writes_them(text: str, seconds: int) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "0d", "90", "90s", "1.5d", "-1d", "3651d", "d90", "\uff19d"]
)  # a full-width 9 is no digit here
def test_durations_that_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


def test_an_expiring_user_is_a_version_3_record_and_others_are_unchanged() -> None:
    stored = auth.hash_secret("t", slow=False)
    plain = json.loads(auth.record(frozenset({"read"}), stored))
    assert plain["v"] == 1 and "expires" not in plain
    data = json.loads(auth.record(frozenset({"read", "upload"}), stored, ["team-*"], 1_900_000_000))
    assert data == {
        "v": 3,
        "rights": ["read", "upload"],
        "projects": ["team-*"],
        "expires": 1_900_000_000,
        "hash": stored,
    }
    user = auth.parse_record("ci", data)
    assert user.expires == 1_900_000_000 and user.projects == ("team-*",)
    assert not auth.expired(user, 1_899_999_999) and auth.expired(user, 1_900_000_000)
    with pytest.raises(auth.AuthError, match="expiry"):
        auth.parse_record("ci", {**data, "expires": "soon"})


def test_an_expired_user_is_refused_like_a_wrong_secret_even_by_a_warm_authorizer(
    s3: Any, moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["user", "add", "ci", "--upload", "--expires", "1h", "--bucket", BUCKET]) == 0
    lines = capsys.readouterr().out.splitlines()
    token = lines[-1]
    assert any(line.startswith("it expires at ") and "(in 1h)" in line for line in lines)
    reader = S3Reader(
        BUCKET, "us-east-1", moto_url, credentials=lambda: Credentials("testing", "testing")
    )
    decide = Authorizer(AuthSettings(PATH, 3600, BUCKET), _NoParameters(), objects=reader)
    allowed = decide(event(basic("ci", token), "POST /legacy/"))
    assert allowed["isAuthorized"] is True  # the secret is now remembered, the list kept
    later = time.time() + 3601
    monkeypatch.setattr(time, "time", lambda: later)
    for route in ("POST /legacy/", "GET /simple/{proxy+}"):
        assert decide(event(basic("ci", token), route)) == {"isAuthorized": False}
        assert decide(event(basic("ci", "wrong"), route)) == {"isAuthorized": False}


def test_rotate_sets_or_keeps_the_expiry_and_list_shows_it(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["user", "add", "ci", "--expires", "90d", "--bucket", BUCKET]) == 0
    assert cli.main(["user", "add", "dev", "--bucket", BUCKET]) == 0
    capsys.readouterr()
    assert cli.main(["user", "rotate", "ci", "--bucket", BUCKET]) == 0  # keeps 90 days
    assert cli.main(["user", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    ci, dev = (line for line in listed if "\t" in line)
    assert ci.startswith("ci\tread\ttoken\t-\texpires ") and "(in 90d)" in ci
    assert dev == "dev\tread\ttoken\t-"  # a user who never expires: as before
    assert cli.main(["user", "rotate", "ci", "--expires", "36h", "--bucket", BUCKET]) == 0
    capsys.readouterr()
    assert cli.main(["user", "list"]) == 0
    assert "(in 36h)" in capsys.readouterr().out


def test_status_warns_about_users_expiring_within_a_week(
    s3: Any, storage: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, expires in [("soon", "6d"), ("later", "8d")]:
        assert cli.main(["user", "add", name, "--expires", expires, "--bucket", BUCKET]) == 0
    assert cli.main(["user", "add", "never", "--bucket", BUCKET]) == 0
    assert [name for name, _ in expiring_users(storage)] == ["soon"]
    assert cli.main(["reindex", "--bucket", BUCKET]) == 0  # an (empty) index to report on
    capsys.readouterr()
    cli.main(["status", "--bucket", BUCKET])
    err = capsys.readouterr().err
    assert "warning: user soon expires" in err and "later" not in err and "never" not in err
    assert storage.get(USERS_FILE) is not None


def test_expiry_text() -> None:
    assert expiry_text(None) == "-"
    assert expiry_text(0, now=10) == "1970-01-01T00:00Z (expired)"
    assert expiry_text(86400 * 3, now=0) == "1970-01-04T00:00Z (in 3d)"


class _NoParameters:
    def list(self, path: str, limit: int) -> tuple[dict[str, str], bool]:
        return {}, True
