"""Publishing with the real tools: twine and uv publish against the upload route,
behind the authorizer and API Gateway's part, on moto; then pip installs it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from serverless_pypi import auth, authorizer, layout
from serverless_pypi.authgate import Gateway
from serverless_pypi.local import routes
from serverless_pypi.reindex import Reindexer
from serverless_pypi.s3http import Credentials
from serverless_pypi.server import make_server
from serverless_pypi.ssm import SsmReader
from serverless_pypi.storage import Storage
from serverless_pypi.upload import MAX_FILE, Uploader, UploadSettings
from serverless_pypi.users import UserStore
from tests.builders import sdist_bytes, wheel_bytes, write
from tests.clients import isolated_env, pip, pip_installed, venv
from tests.conftest import BUCKET, Get, s3_event

pytestmark = pytest.mark.slow

PATH = "/serverless-pypi/users/"
BIN = Path(sys.executable).parent


@dataclass
class Index:
    origin: str  # http://127.0.0.1:<port>
    reader: str
    uploader: str
    s3: Any

    @property
    def legacy(self) -> str:
        return self.origin + "/legacy/"

    def simple(self, user: str, token: str) -> str:
        return self.origin.replace("http://", f"http://{user}:{token}@") + "/simple/"

    def reindex(self, *keys: str) -> None:
        """What the bucket notification does after a 200 (moto delivers no Lambda)."""
        storage = Storage(self.s3, BUCKET)
        reindexer = Reindexer(_settings(), storage)
        reindexer(s3_event(*[("ObjectCreated:Put", key) for key in keys]), None)


def _settings() -> Any:
    from serverless_pypi.config import Settings

    return Settings(bucket=BUCKET)


@pytest.fixture
def index(s3: Any, storage: Storage, get: Get, moto_url: str) -> Iterator[Index]:
    store = UserStore(boto3.client("ssm", region_name="us-east-1"), PATH)
    reader = store.add("dev", frozenset({"read"}))
    uploader = store.add("ci", frozenset({"read", "upload"}))
    parameters = SsmReader("us-east-1", moto_url, credentials=lambda: Credentials("t", "t"))
    decide = authorizer.Authorizer(authorizer.AuthSettings(PATH, 60), parameters)
    upload_routes = frozenset(auth.UPLOAD_ROUTES)
    handler = routes(
        get.app,
        Uploader(UploadSettings(BUCKET), storage),
        upload_routes,
        lambda inner: Gateway(inner, decide, ttl=300),
    )
    server = make_server(
        "127.0.0.1",
        0,
        handler,
        route_keys=[*layout.ROUTE_KEYS, *sorted(upload_routes)],
        max_body=10 * 1024 * 1024,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Index(f"http://127.0.0.1:{server.server_address[1]}", reader, uploader, s3)
    server.shutdown()
    server.server_close()


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    out.mkdir()
    write(out, wheel_bytes("pub-pkg", "1.0", summary="published with twine"))
    write(out, sdist_bytes("pub-pkg", "1.0"))
    return out


def twine(index: Index, user: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "twine"),
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            index.legacy,
            "-u",
            user,
            "-p",
            token,
            *args,
        ],
        env=isolated_env({"TWINE_CERT": ""}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_twine_uploads_then_pip_installs(index: Index, dist: Path, tmp_path: Path) -> None:
    files = sorted(str(path) for path in dist.iterdir())
    result = twine(index, "ci", index.uploader, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    keys = [f"pub-pkg/{Path(file).name}" for file in files]
    assert (
        sorted(
            item["Key"]
            for item in index.s3.list_objects_v2(Bucket=BUCKET)["Contents"]
            if item["Key"].startswith("pub-pkg/")
        )
        == keys
    )
    index.reindex(*keys)
    python = venv(tmp_path / "venv")
    pip(python, "install", "--index-url", index.simple("dev", index.reader), "pub-pkg")
    assert pip_installed(python)["pub-pkg"] == "1.0"
    # Again: refused as existing (409, "File already exists").
    again = twine(index, "ci", index.uploader, *files)
    assert again.returncode != 0 and "409" in again.stdout + again.stderr
    # twine 7 allows --skip-existing only for PyPI's own URLs (a client-side check);
    # twine 6 sends the upload and skips on this answer. twine's own test of the
    # answer, on the real response:
    import requests
    from twine.commands.upload import skip_upload
    from twine.package import PackageFile

    wheel = next(path for path in files if path.endswith(".whl"))
    answer = requests.post(
        index.legacy,
        auth=("ci", index.uploader),
        files={"content": (Path(wheel).name, Path(wheel).read_bytes())},
        data={
            ":action": "file_upload",
            "protocol_version": "1",
            "name": "pub-pkg",
            "version": "1.0",
            "filetype": "bdist_wheel",
            "sha256_digest": hashlib.sha256(Path(wheel).read_bytes()).hexdigest(),
        },
        timeout=30,
    )
    assert answer.status_code == 409 and "File already exists" in answer.text
    assert skip_upload(answer, True, PackageFile.from_filename(wheel, None))


def test_uv_publish(index: Index, dist: Path) -> None:
    env = isolated_env({"UV_PUBLISH_USERNAME": "ci", "UV_PUBLISH_PASSWORD": index.uploader})
    command = [str(BIN / "uv"), "publish", "--publish-url", index.legacy, str(dist / "*")]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    index.reindex(*[f"pub-pkg/{path.name}" for path in dist.iterdir()])
    # Publishing again: without --check-url the 409 is an error; with it, uv finds the
    # same files (same hash) on the index and skips them, as a retried CI job needs.
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "File already exists" in again.stderr
    check = ["--check-url", index.simple("ci", index.uploader)]
    skipped = subprocess.run(
        [*command[:-1], *check, command[-1]], env=env, capture_output=True, text=True, timeout=120
    )
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "already exists" in (skipped.stdout + skipped.stderr).lower()


def test_a_reader_cannot_upload_even_right_after_a_read(index: Index, dist: Path) -> None:
    import base64
    import urllib.request

    header = "Basic " + base64.b64encode(f"dev:{index.reader}".encode()).decode()
    request = urllib.request.Request(index.origin + "/simple/", headers={"Authorization": header})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    result = twine(index, "dev", index.reader, str(next(dist.glob("*.whl"))))
    assert result.returncode != 0 and "403" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("digest", "sha256_digest does not match"),
        ("other-project", "is not a wheel or sdist filename of"),
        ("oversize", "serverless-pypi upload"),
    ],
)
def test_refused_uploads_say_why(index: Index, tmp_path: Path, change: str, reason: str) -> None:
    import base64
    import hashlib
    import urllib.error
    import urllib.request

    name, data = wheel_bytes("pub-pkg", "2.0")
    if change == "oversize":
        name, data = wheel_bytes(
            "pub-pkg",
            "2.0",
            extra_files={"pub_pkg/blob.bin": bytes(range(256)) * (MAX_FILE // 200)},
        )
    project = "other-pkg" if change == "other-project" else "pub-pkg"
    digest = hashlib.sha256(data).hexdigest()
    if change == "digest":
        digest = "0" * 64
    boundary = "----test"
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": project,
        "version": "2.0",
        "filetype": "bdist_wheel",
        "sha256_digest": digest,
    }
    body = (
        b"".join(_field(boundary, key, value) for key, value in fields.items())
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    header = "Basic " + base64.b64encode(f"ci:{index.uploader}".encode()).decode()
    request = urllib.request.Request(
        index.legacy,
        data=body,
        method="POST",
        headers={
            "Authorization": header,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == (413 if change == "oversize" else 400)
    assert reason in refused.value.read().decode()


def _field(boundary: str, name: str, value: str) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    return f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode()
