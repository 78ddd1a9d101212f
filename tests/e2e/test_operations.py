"""Day-two commands as an operator runs them: `serverless-pypi prune` and `restore`
against the bucket of a running index (`serve`'s embedded S3, through the AWS
environment it prints), the reindexer catching up from the notifications, pip
resolving what is left."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from serverless_pypi.local.apigw_events import multipart_form
from tests.builders import wheel_bytes, write
from tests.clients import open_url, pip, pip_installed, serve, venv
from tests.conftest import s3_event

BUILDS = 50
KEEP = 5


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "serverless_pypi", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _listed(url: str) -> set[str]:
    page = open_url(f"{url}ci-pkg/")
    assert page.status == 200, page.status
    return set(re.findall(r">ci_pkg-([^-]+)-py3-none-any\.whl<", page.read().decode()))


def _download(python: Path, url: str, into: Path, version: str) -> bool:
    """Whether pip finds ``ci-pkg==version`` on the index."""
    args = ["download", "--no-deps", "-d", str(into), "--index-url", url, f"ci-pkg=={version}"]
    return pip(python, *args, check=False).returncode == 0


def test_prune_fifty_dev_builds_then_pip_resolves_the_kept_ones(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    for n in range(1, BUILDS + 1):
        write(dist, wheel_bytes("ci-pkg", f"1.0.dev{n}"))
    with serve("--dist", str(dist)) as served:
        url = served.index_url
        env, bucket = served.aws
        deadline = time.monotonic() + 60
        while len(_listed(url)) < BUILDS:
            assert time.monotonic() < deadline, "the builds were not indexed"
            time.sleep(0.3)

        dry = _cli(env, "prune", "ci-pkg", "--keep", str(KEEP), "--dry-run", "--bucket", bucket)
        assert dry.returncode == 0, dry.stderr
        assert f"dry run: {BUILDS - KEEP} files would be removed" in dry.stdout
        assert len(_listed(url)) == BUILDS

        # The embedded bucket keeps no versions: deleting from it is for good.
        prune = ("prune", "ci-pkg", "--keep", str(KEEP), "--bucket", bucket)
        refused = _cli(env, *prune, "--yes")
        assert refused.returncode == 1 and "--permanent" in refused.stderr, refused.stderr
        pruned = _cli(env, *prune, "--yes", "--permanent")
        assert pruned.returncode == 0, pruned.stderr
        assert pruned.stdout.count("remove 1.0.dev") == BUILDS - KEEP
        kept = {f"1.0.dev{n}" for n in range(BUILDS - KEEP + 1, BUILDS + 1)}
        while _listed(url) != kept:
            assert time.monotonic() < deadline + 60, _listed(url)
            time.sleep(0.3)

        status = _cli(env, "status", "--bucket", bucket)
        assert status.returncode == 0, status.stdout + status.stderr
        assert re.search(rf"ci-pkg\s+{KEEP}\s+{KEEP}\s+1\.0\.dev{BUILDS}", status.stdout)

        python = venv(tmp_path / "venv")
        pip(python, "install", "--index-url", url, "--pre", "ci-pkg")
        assert pip_installed(python)["ci-pkg"] == f"1.0.dev{BUILDS}"
        assert _download(python, url, tmp_path / "d", f"1.0.dev{BUILDS - KEEP + 1}")
        assert not _download(python, url, tmp_path / "d", "1.0.dev1")
        served.stop()


def _post(url: str, body: bytes, content_type: str, authorization: str) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": authorization},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def _versions(url: str, authorization: str) -> dict[str, str]:
    """team-app's versions on the index, with their files' sha256 (none while its
    first files are being indexed: a 503)."""
    page = open_url(f"{url}team-app/", Authorization=authorization, Accept="text/html")
    if page.status == 503:
        return {}
    assert page.status == 200, page.status
    found = re.findall(r'team_app-([^-]+)-py3-none-any\.whl#sha256=(\w+)"', page.read().decode())
    return dict(found)


def _client(env: dict[str, str], service: str) -> Any:
    """A boto3 client of the embedded server that ``env`` (what serve prints) names."""
    make: Any = boto3.client  # one call for any service name
    return make(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def _notify(env: dict[str, str], bucket: str, event_name: str, keys: list[str]) -> None:
    """Publish what S3 sends for deletions on a versioned bucket to the embedded
    topic: moto sends nothing for them (a delete marker added or deleted)."""
    sns = _client(env, "sns")
    [topic] = sns.list_topics()["Topics"]
    wrapped = s3_event(*((event_name, key) for key in keys), bucket=bucket)
    sns.publish(TopicArn=topic["TopicArn"], Message=wrapped["Records"][0]["Sns"]["Message"])


def _until(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def test_an_uploader_cannot_turn_prune_into_the_loss_of_the_owners_releases(
    tmp_path: Path,
) -> None:
    """An uploader whose pattern covers team-app pushes its owner's releases out of
    `prune --keep 3` with higher versions: the plan names who uploaded what, an
    unattended run needs --yes, and `restore` brings the owner's releases back."""
    with serve("--auth") as served:
        url = served.index_url
        env, bucket = served.aws
        s3 = _client(env, "s3")
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        login = re.search(r"twine upload --repository-url (\S+) -u local -p (\S+)", served.output)
        assert login, served.output
        upload_url, owner = login[1], _basic("local", login[2])
        added = _cli(env, "user", "add", "mallory", "--upload", "team-*", "--bucket", bucket)
        assert added.returncode == 0, added.stderr
        mallory = _basic("mallory", added.stdout.splitlines()[-1])
        for version, who in [("1.0", owner), ("1.1", owner)] + [
            (f"9999.{n}", mallory) for n in range(3)
        ]:
            name, data = wheel_bytes("team-app", version)
            fields = {
                ":action": "file_upload",
                "protocol_version": "1",
                "name": "team-app",
                "version": version,
                "filetype": "bdist_wheel",
                "sha256_digest": hashlib.sha256(data).hexdigest(),
            }
            body, content_type = multipart_form(fields, {"content": (name, data)})
            assert _post(upload_url, body, content_type, who) == 200, version
        _until(lambda: len(_versions(url, owner)) == 5, "the uploads were not indexed")
        indexed = _versions(url, owner)

        prune = ("prune", "team-app", "--keep", "3", "--bucket", bucket)
        unattended = _cli(env, *prune)  # no terminal, no --yes: the plan, nothing deleted
        assert unattended.returncode == 1 and "pass --yes" in unattended.stderr
        plan = unattended.stdout
        assert re.search(r"keep +9999\.2 +1 file +uploaded by mallory \(the newest release\)", plan)
        assert re.search(r"remove 1\.1 +1 file +uploaded by local\n", plan), plan
        assert re.search(r"remove 1\.0 +1 file +uploaded by local\n", plan), plan
        pruned = _cli(env, *prune, "--yes")
        assert pruned.returncode == 0, pruned.stderr
        assert "serverless-pypi restore team-app==1.1 --bucket" in pruned.stdout
        owners = [f"team-app/{wheel_bytes('team-app', v)[0]}" for v in ("1.0", "1.1")]
        _notify(env, bucket, "ObjectRemoved:DeleteMarkerCreated", owners)
        _until(lambda: set(_versions(url, owner)) == {"9999.0", "9999.1", "9999.2"}, "pruned")

        restored = _cli(env, "restore", "team-app==1.0", "team-app==1.1", "--bucket", bucket)
        assert restored.returncode == 0, restored.stderr
        assert restored.stdout.count("restored team-app/") == 2
        _notify(env, bucket, "ObjectRemoved:Delete", owners)
        _until(lambda: _versions(url, owner) == indexed, "the restored files were not indexed")
        pip_line = re.search(r"pip install --index-url (\S+) <package>", served.output)
        assert pip_line, served.output
        python = venv(tmp_path / "venv")
        args = ["download", "--no-deps", "-d", str(tmp_path / "d"), "--index-url", pip_line[1]]
        pip(python, *args, "team-app==1.0")
        served.stop()
