"""Day-two commands as an operator runs them: `serverless-pypi prune` against the
bucket of a running index (`serve`'s embedded S3, through the AWS environment it
prints), the reindexer catching up from the notifications, pip resolving what is left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.builders import wheel_bytes, write
from tests.clients import isolated_env, open_url, pip, pip_installed, start_serve, venv

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


def test_prune_fifty_dev_builds_then_pip_resolves_the_kept_ones(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    for n in range(1, BUILDS + 1):
        write(dist, wheel_bytes("ci-pkg", f"1.0.dev{n}"))
    process, output = start_serve("--dist", str(dist))
    try:
        url = re.search(r"at (http://127\.0\.0\.1:\d+/simple/)", output)
        where = re.search(r"upload: ((?:AWS_\w+=\S+ )+)aws s3 cp FILE s3://(\S+)/PROJECT/", output)
        assert url and where, output
        env = isolated_env(dict(pair.split("=", 1) for pair in where[1].split()))
        env = {**env, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        bucket = where[2]
        deadline = time.monotonic() + 60
        while len(_listed(url[1])) < BUILDS:
            assert time.monotonic() < deadline, "the builds were not indexed"
            time.sleep(0.3)

        dry = _cli(env, "prune", "ci-pkg", "--keep", str(KEEP), "--dry-run", "--bucket", bucket)
        assert dry.returncode == 0, dry.stderr
        assert f"dry run: {BUILDS - KEEP} files would be removed" in dry.stdout
        assert len(_listed(url[1])) == BUILDS

        pruned = _cli(env, "prune", "ci-pkg", "--keep", str(KEEP), "--bucket", bucket)
        assert pruned.returncode == 0, pruned.stderr
        assert pruned.stdout.count("removing ci-pkg 1.0.dev") == BUILDS - KEEP
        kept = {f"1.0.dev{n}" for n in range(BUILDS - KEEP + 1, BUILDS + 1)}
        while _listed(url[1]) != kept:
            assert time.monotonic() < deadline + 60, _listed(url[1])
            time.sleep(0.3)

        status = _cli(env, "status", "--bucket", bucket)
        assert status.returncode == 0, status.stdout + status.stderr
        assert re.search(rf"ci-pkg\s+{KEEP}\s+{KEEP}\s+1\.0\.dev{BUILDS}", status.stdout)

        python = venv(tmp_path / "venv")
        pip(python, "install", "--index-url", url[1], "--pre", "ci-pkg")
        assert pip_installed(python)["ci-pkg"] == f"1.0.dev{BUILDS}"
        pip(
            python,
            "download",
            "--no-deps",
            "-d",
            str(tmp_path / "d"),
            "--index-url",
            url[1],
            f"ci-pkg==1.0.dev{BUILDS - KEEP + 1}",
        )
        gone = pip(
            python,
            "download",
            "--no-deps",
            "-d",
            str(tmp_path / "d"),
            "--index-url",
            url[1],
            "ci-pkg==1.0.dev1",
            check=False,
        )
        assert gone.returncode != 0 and "No matching distribution" in gone.stderr
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
