"""`serverless-pypi serve` as a user runs it: a child process, its embedded S3,
and real clients (pip, twine, the AWS CLI) against what it prints."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.builders import sdist_bytes, wheel_bytes, write
from tests.clients import isolated_env, open_url, pip, pip_installed, serve, venv

BIN = Path(sys.executable).parent
MIB = 1024 * 1024


def test_serve_stops_cleanly_on_sigterm() -> None:
    with serve() as served:
        assert "stopped" in served.stop(signal.SIGTERM)


def test_serve_with_the_embedded_s3_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    write(dist, wheel_bytes("hello", "1.0"))
    write(dist, sdist_bytes("hello", "1.1"))
    with serve("--dist", str(dist)) as served:
        assert "uploaded 2 distributions" in served.output
        url = served.index_url
        assert f"pip install --index-url {url} <package>" in served.output
        page = open_url(url + "hello/").read().decode()
        assert "hello-1.0-py3-none-any.whl#sha256=" in page
        assert "hello-1.1.tar.gz#sha256=" in page
        # What a newcomer does next: install from it with pip.
        python = venv(tmp_path / "venv")
        pip(python, "install", "--index-url", url, "--only-binary", ":all:", "hello")
        assert pip_installed(python)["hello"] == "1.0"
        rest = served.stop()
        assert "GET /simple/hello/ 200" in rest
        assert "stopped" in rest


def test_serve_auth_guards_the_local_index_with_the_users_of_the_cli(tmp_path: Path) -> None:
    """`serve --auth`: the printed `user add` line works against the embedded SSM."""
    dist = tmp_path / "dist"
    dist.mkdir()
    write(dist, wheel_bytes("hello", "1.0"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with serve("--auth", "--dist", str(dist)) as served:
        url = served.index_url
        users = re.search(
            r"users: ((?:AWS_\w+=\S+ )+)serverless-pypi user add NAME .*--bucket (\S+)",
            served.output,
        )
        assert users, served.output
        assert open_url(url + "hello/").status == 401
        user_env = {**env, **dict(pair.split("=", 1) for pair in users[1].split())}
        added = subprocess.run(
            [sys.executable, "-m", "serverless_pypi", "user", "add", "dev", "--bucket", users[2]],
            env=user_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        token = added.stdout.splitlines()[-1]
        good = "Basic " + base64.b64encode(f"dev:{token}".encode()).decode()
        bad = "Basic " + base64.b64encode(b"dev:nope").decode()
        # The authorizer reads the users whole at its first decision (this one, after
        # `user add`), then once per its cache period.
        assert open_url(url + "hello/", Authorization=bad).status == 403
        page = open_url(url + "hello/", Authorization=good)
        assert page.status == 200 and b"hello-1.0-py3-none-any.whl" in page.read()
        assert token not in served.stop()


def test_serve_prints_twine_and_pip_lines_that_work_without_aws_credentials(
    tmp_path: Path,
) -> None:
    """What `make serve` prints, run as printed, on a machine with no AWS setup."""
    dist = tmp_path / "dist"
    dist.mkdir()
    write(dist, wheel_bytes("fresh", "1.0"))
    no_files = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    with serve("--auth", env=no_files) as served:
        twine_line = re.search(r"  (twine upload .*) dist/\*", served.output)
        pip_line = re.search(r"pip install --index-url (\S+) <package>", served.output)
        assert twine_line and pip_line, served.output
        uploaded = subprocess.run(
            [*twine_line[1].split(), "--non-interactive", str(dist / "fresh-1.0-py3-none-any.whl")],
            # twine as a user runs it: from the PATH (this virtualenv's).
            env=isolated_env({"PATH": f"{BIN}:{os.environ['PATH']}"}),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
        python = venv(tmp_path / "venv")
        pip(python, "install", "--index-url", pip_line[1], "fresh")
        assert pip_installed(python)["fresh"] == "1.0"
        served.stop()


def _big_wheel(directory: Path, name: str, size: int) -> Path:
    """A wheel of about ``size`` bytes (an incompressible payload)."""
    payload = {f"{name.replace('-', '_')}/blob.bin": os.urandom(size)}
    return write(directory, wheel_bytes(name, "1.0", extra_files=payload))


def _page_hashes(url: str, project: str, deadline: float) -> dict[str, str]:
    """filename -> the sha256 its link on the project page carries, once listed."""
    while True:
        page = open_url(f"{url}{project}/")
        if page.status == 200:
            text = page.read().decode()
            return dict(re.findall(r'href="(?:[^"]*/)?([^/"#]+\.whl)#sha256=([0-9a-f]{64})', text))
        assert time.monotonic() < deadline, f"{project} was not indexed: {page.status}"
        time.sleep(0.3)


def test_files_over_8_mib_are_listed_with_their_own_sha256(tmp_path: Path) -> None:
    """The wheels of numpy, pandas and botocore are over 8 MiB. `serve --dist` puts
    one in S3 in one PUT with its SHA-256 checksum (which S3 keeps for the whole
    object); `aws s3 cp` sends a 20 MB one in parts, whose SHA-256 checksum is a
    checksum of the parts' checksums and must never be listed as the file's.
    pip then installs both with --require-hashes."""
    dist = tmp_path / "dist"
    dist.mkdir()
    single = _big_wheel(dist, "big-single", 9 * MIB)
    parts = _big_wheel(tmp_path, "big-parts", 20 * MIB)
    with serve("--dist", str(dist)) as served:
        url = served.index_url
        aws_env, bucket = served.aws
        command = [
            "s3",
            "cp",
            "--checksum-algorithm",
            "SHA256",
            str(parts),
            f"s3://{bucket}/big-parts/",
        ]
        copied = subprocess.run(
            [str(BIN / "aws"), *command], env=aws_env, capture_output=True, text=True, timeout=120
        )
        assert copied.returncode == 0, copied.stdout + copied.stderr
        deadline = time.monotonic() + 60
        for path in (single, parts):
            project = path.name.split("-")[0].replace("_", "-")
            listed = _page_hashes(url, project, deadline)
            assert listed == {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
        requirements = tmp_path / "requirements.txt"
        requirements.write_text(
            "".join(
                f"{path.name.split('-')[0]}==1.0 "
                f"--hash=sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}\n"
                for path in (single, parts)
            )
        )
        python = venv(tmp_path / "venv")
        pip(python, "install", "--index-url", url, "--require-hashes", "-r", str(requirements))
        installed = pip_installed(python)
        assert (installed["big-single"], installed["big-parts"]) == ("1.0", "1.0")
        served.stop()


def test_serve_event_bus_puts_the_index_events_where_its_printed_line_reads_them(
    tmp_path: Path,
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    write(dist, wheel_bytes("hello", "1.0"))
    with serve("--event-bus", "index-events", "--dist", str(dist)) as served:
        found = re.search(r"events on index-events: ((?:AWS_\w+=\S+ )+)(aws sqs .*)", served.output)
        assert found, served.output
        variables = dict(pair.split("=", 1) for pair in found[1].split())
        files = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        env = isolated_env({**variables, **files})
        events = []
        for _ in range(20):  # the reindexer's thread delivers within a second
            answer = subprocess.run(
                [str(BIN / "aws"), *found[2].split()[1:], "--output", "json"],
                env=env,
                capture_output=True,
                text=True,
            )
            assert answer.returncode == 0, answer.stderr
            if answer.stdout.strip():
                events += [json.loads(m["Body"]) for m in json.loads(answer.stdout)["Messages"]]
                break
            time.sleep(0.5)
        assert [(event["detail-type"], event["detail"]["filename"]) for event in events] == [
            ("Distribution Published", "hello-1.0-py3-none-any.whl")
        ]


def test_a_project_s_status_governs_what_serve_offers_and_accepts(tmp_path: Path) -> None:
    """archive: twine's upload is refused, pip still installs; quarantine: pip cannot
    install, a file URL is 404 and the list of projects leaves the project off;
    activate: all of it back. The commands run as a user runs them, against the
    embedded S3 the printed hints name."""
    dist = tmp_path / "dist"
    dist.mkdir()
    write(dist, wheel_bytes("hello", "1.0"))
    newer = write(tmp_path, wheel_bytes("hello", "2.0"))
    with serve("--auth", "--dist", str(dist)) as served:
        pip_url = re.search(r"pip install --index-url (\S+) <package>", served.output)
        twine_line = re.search(r"  (twine upload .*) dist/\*", served.output)
        assert pip_url and twine_line, served.output
        token = re.search(r"-p (\S+)", twine_line[1])
        assert token
        login = "Basic " + base64.b64encode(f"local:{token[1]}".encode()).decode()
        url = served.index_url
        aws_env, bucket = served.aws

        def command(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "serverless_pypi", *args, "--bucket", bucket],
                env=aws_env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            return done.stdout

        def twine_upload() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*twine_line[1].split(), "--non-interactive", str(newer)],
                env=isolated_env({"PATH": f"{BIN}:{os.environ['PATH']}"}),
                capture_output=True,
                text=True,
                timeout=120,
            )

        def install(into: str) -> subprocess.CompletedProcess[str]:
            python = venv(tmp_path / into)
            return pip(python, "install", "--index-url", pip_url[1], "hello", check=False)

        wheel = f"{url}hello/hello-1.0-py3-none-any.whl"
        assert "hello is archived" in command("archive", "hello", "--reason", "see hello2")
        refused = twine_upload()
        assert refused.returncode != 0
        assert "403" in refused.stdout + refused.stderr
        assert install("archived").returncode == 0

        assert "hello is quarantined" in command("quarantine", "hello", "--reason", "malware")
        assert install("quarantined").returncode != 0
        assert open_url(wheel, Authorization=login).status == 404
        assert open_url(wheel + ".metadata", Authorization=login).status == 404
        assert b"hello" not in open_url(url, Authorization=login).read()

        assert "hello is active" in command("activate", "hello")
        assert open_url(wheel, Authorization=login).status == 302
        assert b"hello" in open_url(url, Authorization=login).read()
        assert twine_upload().returncode == 0
        assert install("active").returncode == 0
        served.stop()
