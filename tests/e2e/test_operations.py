"""Day-two commands as an operator runs them: `serverless-pypi prune` against the
bucket of a running index (`serve`'s embedded S3, through the AWS environment it
prints), the reindexer catching up from the notifications, pip resolving what is left."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from tests.builders import wheel_bytes, write
from tests.clients import open_url, pip, pip_installed, serve, venv

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

        pruned = _cli(env, "prune", "ci-pkg", "--keep", str(KEEP), "--bucket", bucket)
        assert pruned.returncode == 0, pruned.stderr
        assert pruned.stdout.count("removing ci-pkg 1.0.dev") == BUILDS - KEEP
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
