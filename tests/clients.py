"""Real installers, isolated from this machine's configuration."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# The Accept header pip sends for an index page (pip 22.2 and later: PEP 691 JSON first).
PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)


def isolated_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment where pip and uv see no configuration of this machine's.

    The machine's pip configuration adds local find-links and extra indexes:
    an install could succeed from those instead of the index under test.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "AWS_")) and key != "VIRTUAL_ENV"
    }
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_CACHE_DIR": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "UV_NO_CONFIG": "1",
            "UV_NO_CACHE": "1",
        }
    )
    env.update(extra or {})
    return env


def venv(path: Path) -> Path:
    """A fresh virtual environment (with the pip that ships with this Python)."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    return path / "bin" / "python"


def pip(python: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(python), "-m", "pip", *args],
        env=isolated_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def pip_installed(python: Path) -> dict[str, str]:
    listed = json.loads(pip(python, "list", "--format", "json").stdout)
    return {item["name"].lower().replace("_", "-"): item["version"] for item in listed}


def uv_pip(uv: str, python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``uv pip <args>`` for the environment of ``python`` (no check: callers assert)."""
    command, *rest = args
    return subprocess.run(
        [uv, "pip", command, "--python", str(python), *rest],
        env=isolated_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- `serverless-pypi serve` in a child process ---------------------------------

ROOT = Path(__file__).resolve().parents[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def open_url(url: str, method: str = "GET", **headers: str) -> Any:
    """A response (an HTTPError is one too), redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        return opener.open(request, timeout=10)
    except urllib.error.HTTPError as error:
        return error


def _default_sigint() -> None:
    # A shell's background job (how CI may run) inherits SIGINT ignored, and
    # Python then leaves it ignored: give the server the terminal's default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Served:
    """`serverless-pypi serve` running in a child process, and what it printed."""

    process: subprocess.Popen[str]
    output: str  # up to "Ctrl-C stops it."

    @property
    def index_url(self) -> str:
        """The index URL it printed (http://127.0.0.1:<port>/simple/)."""
        found = re.search(r"at (http://127\.0\.0\.1:\d+/simple/)", self.output)
        assert found, self.output
        return found[1]

    @property
    def aws(self) -> tuple[dict[str, str], str]:
        """The AWS environment that reaches its embedded S3 (isolated from this
        machine's configuration), and its bucket: what the `aws s3 cp` hint prints."""
        found = re.search(
            r"upload: ((?:AWS_\w+=\S+ )+)aws s3 cp FILE s3://(\S+)/PROJECT/", self.output
        )
        assert found, self.output
        variables = dict(pair.split("=", 1) for pair in found[1].split())
        files = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        return isolated_env({**variables, **files}), found[2]

    def stop(self, sig: int = signal.SIGINT) -> str:
        """Stop it as a user does (Ctrl-C, or SIGTERM); what it printed since."""
        self.process.send_signal(sig)
        rest, _ = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, rest
        return rest


@contextlib.contextmanager
def serve(*options: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`serverless-pypi serve OPTIONS` in a child process with no AWS settings, once
    it says "Ctrl-C stops it."; killed at the end if it still runs."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "serverless_pypi", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**clean, **(env or {})},
        cwd=ROOT,
        preexec_fn=_default_sigint,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        yield Served(process, "".join(lines))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@contextlib.contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """``server`` answering in a thread while the block runs; its origin."""
    # A short poll: shutdown() waits for the loop to look (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler of the tests' stand-ins: HTTP/1.1, no access log."""

    protocol_version = "HTTP/1.1"

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Answer with ``status``, ``body`` and its length, and ``headers``."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return
