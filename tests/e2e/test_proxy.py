"""`serverless-pypi serve --upstream-mode proxy` with the real clients: pip and uv install
real wheels (downloaded from the public index at test time) through this index alone,
from a stand-in upstream on loopback whose upload times the test sets."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.clients import Served, open_url, pip, pip_installed, serve, uv_pip, venv
from tests.upstream_stub import StubFile, Upstream, days_ago, download_real_wheels, upstream_index

UV = str(Path(sys.executable).parent / "uv")
CLI = str(Path(sys.executable).parent / "serverless-pypi")
SIX_OLD = "six-1.16.0-py2.py3-none-any.whl"
SIX_YOUNG = "six-1.17.0-py2.py3-none-any.whl"
DATEUTIL = "python_dateutil-2.9.0.post0-py2.py3-none-any.whl"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return download_real_wheels(tmp_path_factory.mktemp("wheels"))


@pytest.fixture
def upstream(wheels: dict[str, bytes]) -> Iterator[Upstream]:
    up = Upstream()
    up.add("six", StubFile(SIX_OLD, wheels[SIX_OLD], days_ago(400), ">=2.7"))
    up.add("six", StubFile(SIX_YOUNG, wheels[SIX_YOUNG], days_ago(1), ">=2.7"))
    up.add("python-dateutil", StubFile(DATEUTIL, wheels[DATEUTIL], days_ago(300)))
    with upstream_index(up):
        yield up


@pytest.fixture
def proxied(upstream: Upstream) -> Iterator[Served]:
    with serve(
        "--fallback", upstream.index_url, "--upstream-mode", "proxy", "--cooldown", "7d"
    ) as s:
        yield s


def cli(served: Served, *args: str) -> str:
    env, bucket = served.aws
    result = subprocess.run(
        [CLI, *args, "--bucket", bucket], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def eventually(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time the index promises"
        time.sleep(0.5)


def shows(served: Served, filename: str) -> bool:
    return (
        filename
        in open_url(served.index_url + filename.split("-")[0].replace("_", "-") + "/")
        .read()
        .decode()
    )


def pip_install(python: Path, index: str, *args: str, check: bool = True) -> str:
    result = pip(
        python, "install", "--index-url", index, "--only-binary", ":all:", *args, check=check
    )
    return result.stdout + result.stderr


def test_pip_and_uv_install_a_closure_after_the_cooldown_with_hashes(
    proxied: Served, upstream: Upstream, wheels: dict[str, bytes], tmp_path: Path
) -> None:
    index = proxied.index_url
    assert f"proxy of {upstream.index_url} (cooldown 7d)" in proxied.output
    python = venv(tmp_path / "pip")
    requirements = tmp_path / "requirements.txt"
    dateutil, six = (hashlib.sha256(wheels[name]).hexdigest() for name in (DATEUTIL, SIX_OLD))
    requirements.write_text(
        f"python-dateutil==2.9.0.post0 --hash=sha256:{dateutil}\nsix==1.16.0 --hash=sha256:{six}\n"
    )
    pip_install(python, index, "--require-hashes", "-r", str(requirements))
    assert pip_installed(python)["six"] == "1.16.0"
    hashed = venv(tmp_path / "uv-hashes")
    result = uv_pip(
        UV, hashed, "install", "--index-url", index, "--require-hashes", "-r", str(requirements)
    )
    assert result.returncode == 0, result.stderr
    assert pip_installed(hashed)["python-dateutil"] == "2.9.0.post0"
    # Without pins: the young six 1.17.0 is invisible, so 1.16.0 it is.
    fresh = venv(tmp_path / "uv")
    result = uv_pip(UV, fresh, "install", "--index-url", index, "python-dateutil")
    assert result.returncode == 0, result.stderr
    assert pip_installed(fresh)["six"] == "1.16.0"
    # `==` on the young release fails, for pip and for uv.
    failed = pip_install(python, index, "six==1.17.0", check=False)
    assert "No matching distribution found for six==1.17.0" in failed
    refused = uv_pip(UV, fresh, "install", "--index-url", index, "six==1.17.0")
    assert refused.returncode != 0 and "1.17.0" in refused.stderr
    # Every download came through this index: the links on its pages are its own.
    assert open_url(index + f"six/{SIX_YOUNG}").status == 404


def test_deny_blocks_and_allow_lets_a_young_fix_through(
    proxied: Served, upstream: Upstream, tmp_path: Path
) -> None:
    index = proxied.index_url
    python = venv(tmp_path / "venv")
    assert "allowed: six==1.17.0" in cli(proxied, "upstream", "allow", "six==1.17.0")
    eventually(lambda: shows(proxied, SIX_YOUNG))
    pip_install(python, index, "six==1.17.0")
    assert pip_installed(python)["six"] == "1.17.0"
    cli(proxied, "upstream", "deny", "six>=1.17", "--reason", "a bad release")
    eventually(lambda: not shows(proxied, SIX_YOUNG))
    assert "six>=1.17  # a bad release" in cli(proxied, "upstream", "show")
    fresh = venv(tmp_path / "fresh")
    result = uv_pip(UV, fresh, "install", "--index-url", index, "six==1.17.0")
    assert result.returncode != 0
    cli(proxied, "upstream", "unlist", "six>=1.17", "six==1.17.0")
    assert '"deny": []' in cli(proxied, "upstream", "show", "--json")


def test_with_the_upstream_stopped_a_clean_cache_installs_what_was_kept(
    proxied: Served, upstream: Upstream, tmp_path: Path
) -> None:
    index = proxied.index_url
    first = venv(tmp_path / "first")
    pip_install(first, index, "python-dateutil")
    env, bucket = proxied.aws

    def kept() -> bool:
        listing = subprocess.run(
            [
                *("aws", "s3", "ls", "--recursive"),
                *(f"s3://{bucket}/.serverless-pypi/upstream/files/", "--endpoint-url"),
                env["AWS_ENDPOINT_URL"],
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        return all(
            f"{name}{tail}" in listing
            for name in (SIX_OLD, DATEUTIL)
            for tail in ("\n", ".metadata")
        )

    eventually(kept)
    upstream.down = True
    seen = len(upstream.seen)
    second = venv(tmp_path / "second")  # a new environment, pip's cache is off
    pip_install(second, index, "python-dateutil")
    assert pip_installed(second)["python-dateutil"] == "2.9.0.post0"
    assert len(upstream.seen) == seen  # pages from the bucket, files from the kept copies


def test_a_claimed_name_never_shows_an_upstream_file(
    proxied: Served, upstream: Upstream, tmp_path: Path
) -> None:
    cli(proxied, "claim", "six")
    page = open_url(proxied.index_url + "six/")
    assert page.status == 404
    assert SIX_OLD not in page.read().decode()
    result = pip_install(venv(tmp_path / "venv"), proxied.index_url, "six", check=False)
    assert "No matching distribution found for six" in result
    assert not any(path.startswith("/simple/six/") for path in upstream.seen)


def test_an_html_only_upstream_fails_closed_without_upload_times(
    upstream: Upstream, tmp_path: Path
) -> None:
    upstream.html_only = True
    with serve("--fallback", upstream.index_url, "--upstream-mode", "proxy") as served:
        page = open_url(served.index_url + "six/").read().decode()
        assert "six-" not in page  # no upload time: held back by the cooldown
    with serve(
        "--fallback", upstream.index_url, "--upstream-mode", "proxy", "--cooldown", "0"
    ) as served:
        python = venv(tmp_path / "venv")
        pip_install(python, served.index_url, "six")
        assert pip_installed(python)["six"] == "1.17.0"
