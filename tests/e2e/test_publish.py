"""Publishing with the real tools: twine and uv publish against the upload route,
behind the authorizer and API Gateway's part, on moto; then pip installs it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from serverless_pypi.local.apigw_events import multipart_form
from serverless_pypi.upload import MAX_FILE
from tests.builders import sdist_bytes, wheel_bytes, write
from tests.clients import isolated_env, pip, pip_installed, venv
from tests.conftest import BUCKET
from tests.e2e.conftest import PrivateIndex

BIN = Path(sys.executable).parent


@pytest.fixture
def index(private_index: PrivateIndex) -> PrivateIndex:
    return private_index


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    out.mkdir()
    write(out, wheel_bytes("pub-pkg", "1.0", summary="published with twine"))
    write(out, sdist_bytes("pub-pkg", "1.0"))
    return out


def twine(
    index: PrivateIndex, user: str, token: str, *args: str
) -> subprocess.CompletedProcess[str]:
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


def test_twine_uploads_then_pip_installs(index: PrivateIndex, dist: Path, tmp_path: Path) -> None:
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
    pip(python, "install", "--index-url", index.with_user("dev", index.reader), "pub-pkg")
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


def test_uv_publish(index: PrivateIndex, dist: Path) -> None:
    env = isolated_env({"UV_PUBLISH_USERNAME": "ci", "UV_PUBLISH_PASSWORD": index.uploader})
    command = [str(BIN / "uv"), "publish", "--publish-url", index.legacy, str(dist / "*")]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    index.reindex(*[f"pub-pkg/{path.name}" for path in dist.iterdir()])
    # Publishing again: without --check-url the 409 is an error; with it, uv finds the
    # same files (same hash) on the index and skips them, as a retried CI job needs.
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "File already exists" in again.stderr
    check = ["--check-url", index.with_user("ci", index.uploader)]
    skipped = subprocess.run(
        [*command[:-1], *check, command[-1]], env=env, capture_output=True, text=True, timeout=120
    )
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "already exists" in (skipped.stdout + skipped.stderr).lower()


def test_a_reader_cannot_upload_even_right_after_a_read(index: PrivateIndex, dist: Path) -> None:
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
def test_refused_uploads_say_why(
    index: PrivateIndex, tmp_path: Path, change: str, reason: str
) -> None:
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
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": project,
        "version": "2.0",
        "filetype": "bdist_wheel",
        "sha256_digest": digest,
    }
    body, content_type = multipart_form(fields, {"content": (name, data)})
    header = "Basic " + base64.b64encode(f"ci:{index.uploader}".encode()).decode()
    request = urllib.request.Request(
        index.legacy,
        data=body,
        method="POST",
        headers={
            "Authorization": header,
            "Content-Type": content_type,
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == (413 if change == "oversize" else 400)
    assert reason in refused.value.read().decode()
