"""The local server and the command line."""

from __future__ import annotations

import gzip
import io
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from serverless_pypi import batch as batches
from serverless_pypi import cli
from serverless_pypi.cli import serve as serve_commands
from serverless_pypi.cli.common import ProgressBar, TerminalBar
from serverless_pypi.indexer import ProjectResult
from serverless_pypi.local.apigw_events import build_event
from serverless_pypi.local.server import make_server
from serverless_pypi.storage import Storage
from tests.builders import sdist_bytes, wheel_bytes, write
from tests.clients import open_url, serving
from tests.conftest import BUCKET, Get
from tests.unit.test_manifest import raw_controls
from tests.unit.test_ops import HOSTILE

ROOT = Path(__file__).resolve().parents[2]


def test_events_are_built_as_api_gateway_builds_them() -> None:
    event = build_event(
        "GET",
        "/simple/My%20Pkg/?a=1&a=2&b=",
        [
            ("Host", "example.com"),
            ("Accept", "text/html"),
            ("X-Dup", "1"),
            ("x-dup", "2"),
            ("Cookie", "a=1; b=2"),
        ],
        b"\x00binary",
        "10.0.0.1",
    )
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/simple/My%20Pkg/"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"] == {"host": "example.com", "accept": "text/html", "x-dup": "1,2"}
    assert event["cookies"] == ["a=1", "b=2"]
    context = event["requestContext"]
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/simple/My Pkg/"
    assert context["http"]["sourceIp"] == "10.0.0.1"
    assert context["stage"] == "$default"
    assert event["isBase64Encoded"] is True
    assert event["body"] == "AGJpbmFyeQ=="


@pytest.fixture
def served(s3: Any, storage: Storage, get: Get) -> Iterator[str]:
    for version in ("1.0", "1.1", "1.2"):
        name, wheel = wheel_bytes("my-pkg", version)
        s3.put_object(Bucket=BUCKET, Key=f"my-pkg/{name}", Body=wheel)
    batches.rebuild(storage)
    server = make_server("127.0.0.1", 0, get.app)
    with serving(server) as origin:
        yield origin


def test_the_local_server_runs_the_handler(served: str) -> None:
    page = open_url(f"{served}/simple/my-pkg/", **{"Accept-Encoding": "gzip"})
    assert page.status == 200
    assert page.headers["Content-Encoding"] == "gzip"
    body = page.read()
    assert int(page.headers["Content-Length"]) == len(body)
    assert b"my_pkg-1.0-py3-none-any.whl#sha256=" in gzip.decompress(body)
    head = open_url(f"{served}/simple/my-pkg/", method="HEAD")
    assert head.status == 200
    assert head.read() == b""
    assert int(head.headers["Content-Length"]) > 0
    redirect = open_url(f"{served}/simple/my-pkg/my_pkg-1.0-py3-none-any.whl")
    assert redirect.status == 302
    assert "X-Amz-Signature=" in redirect.headers["Location"]
    assert open_url(f"{served}/simple/my-pkg/", method="POST").status == 405
    assert open_url(f"{served}/simple/My_Pkg/").headers["Location"] == "../my-pkg/"


def _raw(url: str, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection, keep it open for writing, and read the
    whole answer: a server that waited for more body would time out here."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("length", "status"),
    [
        ("-1", b"400"),
        ("12abc", b"400"),
        ("0x10", b"400"),
        ("\u0661", b"400"),  # an Arabic-Indic digit: int() takes it, HTTP does not
        ("99999999999999999999999", b"400"),
        (str(300 * 1024 * 1024), b"413"),
    ],
)
def test_the_local_server_refuses_bad_lengths_without_reading_the_body(
    served: str, length: str, status: bytes
) -> None:
    head = f"POST /simple/ HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    # The start of a body that the server must neither wait for nor take for a request.
    answer = _raw(served, head + b"GET /simple/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert answer.count(b"HTTP/1.1 ") == 1


def test_the_local_server_refuses_chunked_and_conflicting_lengths(served: str) -> None:
    chunked = b"POST /simple/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert _raw(served, chunked + b"5\r\nhello\r\n0\r\n\r\n").startswith(b"HTTP/1.1 411")
    twice = b"POST /simple/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
    assert _raw(served, twice + b"ab").startswith(b"HTTP/1.1 400")


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {}, "body": "ok"}


def _closed_within(connection: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed ``connection`` within ``seconds``, and what it sent."""
    connection.settimeout(seconds)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        return False, received
    return True, received


def test_the_local_server_closes_connections_that_fall_silent() -> None:
    server = make_server("127.0.0.1", 0, _ok, idle_timeout=0.3)
    with serving(server) as origin:
        address = ("127.0.0.1", int(origin.rpartition(":")[2]))
        with socket.create_connection(address) as half_sent:
            half_sent.sendall(b"GET /simple/ HTTP/1.1\r\nHost: x\r\n")  # no blank line
            assert _closed_within(half_sent, 5) == (True, b"")
        with socket.create_connection(address) as short_body:
            short_body.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            closed, answer = _closed_within(short_body, 5)
            assert closed and answer.startswith(b"HTTP/1.1 408"), answer
        with socket.create_connection(address) as kept_alive:
            kept_alive.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            closed, answer = _closed_within(kept_alive, 5)  # answered, then idle
            assert closed and answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok")


def test_the_local_server_serves_a_bounded_number_of_connections_at_once() -> None:
    server = make_server("127.0.0.1", 0, _ok, idle_timeout=10, max_connections=4)
    with serving(server) as origin:
        address = ("127.0.0.1", int(origin.rpartition(":")[2]))
        held = [socket.create_connection(address) for _ in range(4)]
        try:
            for connection in held:
                connection.sendall(b"GET / HTTP/1.1\r\n")  # half a request each
            with socket.create_connection(address) as one_more:
                closed, answer = _closed_within(one_more, 5)
                assert closed and answer.startswith(b"HTTP/1.1 503"), answer
                assert b"Retry-After: 1" in answer
            held.pop().close()  # a slot frees once its thread sees the close
            for _ in range(50):
                if open_url(f"{origin}/").status == 200:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("no slot came free")
        finally:
            for connection in held:
                connection.close()


def test_progress_bar_draws_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    result = ProjectResult("my-pkg", 1, True)
    for stream in (terminal, pipe):
        bar = ProgressBar(stream)
        bar(1, 2, result)
        bar(2, 2, result)
    assert "[###############...............] 1/2 projects" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")
    assert pipe.getvalue() == ""


def test_a_progress_bar_shows_names_escaped() -> None:
    """Its text names projects, and status reads their names from manifests' keys."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    TerminalBar(terminal).draw(1, 2, f"1/2 evil{HOSTILE}")
    shown = terminal.getvalue()
    assert shown.startswith("\r[") and not raw_controls(shown[1:])
    assert "evil\\x1b]0;owned\\x07" in shown


def test_reindex_rebuilds_and_summarizes(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    for project in ("alpha", "beta"):
        name, data = sdist_bytes(project, "1.0")
        s3.put_object(Bucket=BUCKET, Key=f"{project}/{name}", Body=data)
    assert cli.main(["reindex", "--bucket", BUCKET]) == 0
    out = capsys.readouterr().out
    assert re.search(r"reindexed 2 projects, 2 files \(2 read\) in \d+\.\d s", out)


def test_an_s3_failure_in_any_command_is_one_line(
    s3: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from serverless_pypi.cli.index import Index
    from serverless_pypi.objects import AwsError

    def failing(self: Index) -> None:
        raise AwsError("s3://x: SlowDown, retried 6 times")

    monkeypatch.setattr(Index, "check", failing)
    assert cli.main(["yank", "my-pkg==1.0", "--bucket", BUCKET]) == 1
    assert capsys.readouterr().err == (
        "serverless-pypi: AwsError: s3://x: SlowDown, retried 6 times\n"
    )


def test_reindex_of_a_missing_bucket(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["reindex", "--bucket", "no-such-bucket"]) == 1
    assert "no such bucket: no-such-bucket" in capsys.readouterr().err


def test_reindex_without_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never a real endpoint
    assert cli.main(["reindex", "--bucket", "whatever"]) == 1
    assert "no AWS credentials found" in capsys.readouterr().err


def test_serve_on_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 1
    assert f"port {port} on 127.0.0.1 is busy" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.10", False),
    ],
)
def test_which_hosts_are_this_machine_only(host: str, loopback: bool) -> None:
    assert serve_commands.on_loopback(host) is loopback


def test_serve_to_the_network_without_auth_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Refused before anything listens: no socket is opened beyond loopback.
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "--host 0.0.0.0 serves the index beyond this machine without --auth" in err
    assert "--public" in err


def test_upload_puts_files_in_their_normalized_folder_once(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write(tmp_path, wheel_bytes("Fancy.Name", "2.0"))
    sdist = write(tmp_path, sdist_bytes("Fancy.Name", "2.0"))
    assert cli.main(["upload", str(wheel), str(sdist), "--bucket", BUCKET]) == 0
    out = capsys.readouterr().out
    assert f"uploaded s3://{BUCKET}/fancy-name/{wheel.name}" in out
    stored = s3.get_object(Bucket=BUCKET, Key=f"fancy-name/{wheel.name}", ChecksumMode="ENABLED")
    assert stored["Body"].read() == wheel.read_bytes()
    assert "ChecksumSHA256" in stored
    # Who uploaded it: the AWS identity the command ran as, as STS names it.
    arn = boto3.client("sts").get_caller_identity()["Arn"]
    assert arn.startswith("arn:aws:") and stored["Metadata"] == {"uploaded-by": arn}
    # Never replaced: a second upload of the same name is refused (exit 1).
    assert cli.main(["upload", str(wheel), "--bucket", BUCKET]) == 1
    assert "exists, not replaced" in capsys.readouterr().err
    assert cli.main(["upload", str(tmp_path / "nope.whl"), "--bucket", BUCKET]) == 1


def test_upload_prints_a_file_name_escaped(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file handed to the operator may be named to act on their terminal."""
    _, data = wheel_bytes("my-pkg", "1.0")
    path = tmp_path / f"my_pkg-1.0-py3-none-any{HOSTILE.replace(chr(0), '')}.whl"  # no NUL
    path.write_bytes(data)
    for expected in (0, 1):  # uploaded, then "exists, not replaced"
        assert cli.main(["upload", str(path), "--bucket", BUCKET]) == expected
        out, err = capsys.readouterr()
        assert not raw_controls(out + err) and "any\\x1b]0;owned\\x07" in out + err
