"""Real pip and uv against a private index: the api behind the authorizer and API
Gateway's part (401, 403, the result cache), users in SSM (moto)."""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from serverless_pypi import batch as batches
from serverless_pypi.storage import Storage
from tests.builders import wheel_bytes
from tests.clients import isolated_env, venv
from tests.conftest import BUCKET
from tests.e2e.conftest import PrivateIndex

PATH = "/serverless-pypi/users/"
UV = str(Path(sys.executable).parent / "uv")


@pytest.fixture
def private(private_index: PrivateIndex, s3: Any, storage: Storage) -> PrivateIndex:
    """The private index with one project in it."""
    _, wheel = wheel_bytes("secret-pkg", "1.0")
    s3.put_object(Bucket=BUCKET, Key="secret-pkg/secret_pkg-1.0-py3-none-any.whl", Body=wheel)
    batches.rebuild(storage)
    return private_index


def _status(url: str, header: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": header} if header else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def _pip(python: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [str(python), "-m", "pip", *args],
        env=isolated_env(env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_no_credentials_401_wrong_ones_403(private: PrivateIndex) -> None:
    assert _status(private.url + "secret-pkg/") == 401
    assert _status(private.url + "secret-pkg/", _basic("dev", "wrong")) == 403
    assert _status(private.url + "secret-pkg/", _basic("nobody", private.reader)) == 403
    assert _status(private.url + "secret-pkg/", _basic("dev", private.reader)) == 200
    # The file link itself needs credentials; S3's presigned URL does not.
    link = private.url + "secret-pkg/secret_pkg-1.0-py3-none-any.whl"
    assert _status(link) == 401


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return venv(tmp_path_factory.mktemp("venv"))


def test_pip_with_credentials_in_the_url(private: PrivateIndex, python: Path) -> None:
    # Without credentials pip sees a 401 on the page (and no netrc or keyring has any).
    refused = _pip(python, "install", "--no-deps", "--index-url", private.url, "secret-pkg")
    assert refused.returncode != 0 and "No matching distribution" in refused.stderr
    url = private.with_user("dev", private.reader)
    result = _pip(python, "install", "--no-deps", "--index-url", url, "secret-pkg")
    assert result.returncode == 0, result.stdout + result.stderr
    assert private.reader not in result.stdout + result.stderr


def test_pip_with_a_netrc_file(private: PrivateIndex, python: Path, tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin dev\npassword {private.reader}\n")
    netrc.chmod(0o600)
    out = tmp_path / "out"
    result = _pip(
        python,
        "download",
        "--no-deps",
        "-d",
        str(out),
        "--index-url",
        private.url,
        "secret-pkg",
        env={"NETRC": str(netrc)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert [path.name for path in out.iterdir()] == ["secret_pkg-1.0-py3-none-any.whl"]


def test_uv_with_index_credentials_in_the_environment(
    private: PrivateIndex, python: Path, tmp_path: Path
) -> None:
    env = isolated_env(
        {
            "UV_INDEX_PRIVATE_USERNAME": "dev",
            "UV_INDEX_PRIVATE_PASSWORD": private.reader,
        }
    )
    result = subprocess.run(
        [
            UV,
            "pip",
            "install",
            "--python",
            str(python),
            "--no-deps",
            "--default-index",
            f"private={private.url}",
            "secret-pkg",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_removed_user_is_refused_once_the_cache_ttl_has_passed(private: PrivateIndex) -> None:
    header = _basic("dev", private.reader)
    assert _status(private.url + "secret-pkg/", header) == 200
    private.store.remove("dev")
    assert _status(private.url + "secret-pkg/", header) == 200  # API Gateway's cache
    private.clock.now += 301
    assert _status(private.url + "secret-pkg/", header) == 403
