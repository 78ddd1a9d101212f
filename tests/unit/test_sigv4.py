"""The SigV4 core both lean readers share: partitions, region and endpoint
resolution, credentials, the clock, the kept-alive connection and the retry loop."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.config import Config

from serverless_pypi import sigv4
from serverless_pypi.objects import AwsError
from serverless_pypi.retry import Backoff
from serverless_pypi.s3http import S3Reader
from serverless_pypi.sigv4 import Credentials, HttpReply
from serverless_pypi.ssm import SsmReader

KEYS = Credentials("testing", "testing")
S3_VIRTUAL = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"


# -- partitions, regions and endpoints ----------------------------------------


@pytest.mark.parametrize(
    ("region", "suffix"),
    [
        ("eu-west-1", "amazonaws.com"),
        ("us-east-1", "amazonaws.com"),
        ("il-central-1", "amazonaws.com"),
        ("cn-north-1", "amazonaws.com.cn"),
        ("cn-northwest-1", "amazonaws.com.cn"),
        ("us-gov-west-1", "amazonaws.com"),
        ("us-iso-east-1", "c2s.ic.gov"),
        ("us-isob-east-1", "sc2s.sgov.gov"),
        ("us-isof-south-1", "csp.hci.ic.gov"),
        ("eu-isoe-west-1", "cloud.adc-e.uk"),
        ("eusc-de-east-1", "amazonaws.eu"),
        ("xx-unknown-1", "amazonaws.com"),  # botocore's fallback: the aws partition
    ],
)
def test_partition_suffixes(region: str, suffix: str) -> None:
    assert sigv4.dns_suffix(region) == suffix


def _botocore_partitions() -> list[dict[str, Any]]:
    data = Path(botocore.__file__).parent / "data" / "partitions.json"
    partitions: list[dict[str, Any]] = json.loads(data.read_text())["partitions"]
    return partitions


def test_every_region_botocore_knows_has_its_partitions_suffix() -> None:
    for partition in _botocore_partitions():
        for region in partition["regions"]:
            if region.endswith("-global"):  # a pseudo-region, never a Lambda's
                continue
            assert sigv4.dns_suffix(region) == partition["outputs"]["dnsSuffix"], region


@pytest.mark.parametrize(
    "region",
    ["eu-west-1", "cn-north-1", "us-gov-east-1", "us-iso-west-1", "us-isob-east-1"],
)
def test_the_hosts_are_the_ones_botocore_resolves(region: str) -> None:
    ssm = boto3.client("ssm", region_name=region)
    assert ssm.meta.endpoint_url == f"https://{SsmReader(region).host}"
    s3 = boto3.client("s3", region_name=region, config=S3_VIRTUAL)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "my-index", "Key": "k"})
    assert url.startswith(f"https://{S3Reader('my-index', region).endpoint.host}/k?")


def test_the_endpoint_for_a_service_then_for_all(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sigv4.configured_endpoint("ssm") is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert sigv4.configured_endpoint("ssm") == "http://127.0.0.1:5000"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:5001")
    assert sigv4.configured_endpoint("ssm") == "http://127.0.0.1:5001"
    assert sigv4.configured_endpoint("s3") == "http://127.0.0.1:5000"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "")  # empty counts as unset
    assert sigv4.configured_endpoint("ssm") == "http://127.0.0.1:5000"
    env = {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://x"}
    assert sigv4.configured_endpoint("secrets-manager", env) == "http://x"


def test_the_ssm_reader_takes_its_region_and_endpoint_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-isob-east-1")
    reader = SsmReader.from_env()
    assert (reader.scheme, reader.host) == ("https", "ssm.us-isob-east-1.sc2s.sgov.gov")
    assert reader.signer.region == "us-isob-east-1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:5001")
    reader = SsmReader.from_env()
    assert (reader.scheme, reader.host) == ("http", "127.0.0.1:5001")


def test_the_region_comes_from_aws_region_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-south-1")
    assert sigv4.default_region() == "eu-north-1"
    monkeypatch.delenv("AWS_REGION")
    assert sigv4.default_region() == "eu-south-1"


def _no_region(monkeypatch: pytest.MonkeyPatch, config: str, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    (tmp_path / "config").write_text(config)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))


def test_off_lambda_the_region_is_the_profiles(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_region(monkeypatch, "[default]\nregion = ap-south-2\n", tmp_path)
    assert sigv4.default_region() == "ap-south-2"
    _no_region(monkeypatch, "", tmp_path)
    assert sigv4.default_region() == "us-east-1"


def test_on_lambda_boto3_is_never_asked_for_the_region(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_region(monkeypatch, "[default]\nregion = ap-south-2\n", tmp_path)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "pypi-api")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("boto3 on Lambda")

    monkeypatch.setattr(boto3, "Session", refuse)
    assert sigv4.default_region() == "us-east-1"


# -- credentials and the clock ------------------------------------------------


def test_credentials_come_from_the_environment() -> None:
    env = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_SESSION_TOKEN": "c"}
    assert sigv4.environment_credentials(env) == Credentials("a", "b", "c")
    assert sigv4.environment_credentials({**env, "AWS_SESSION_TOKEN": ""}) == Credentials("a", "b")
    assert sigv4.environment_credentials({"AWS_ACCESS_KEY_ID": "a"}) is None


def test_the_clock_gives_whole_seconds_in_utc() -> None:
    when = sigv4.now()
    assert when.microsecond == 0
    assert when.tzinfo is UTC


def test_headers_for_a_body_are_botocores(monkeypatch: pytest.MonkeyPatch) -> None:
    when = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    keys = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token")
    body = '{"Names": ["/a", "/b ä"]}'.encode()
    url = "https://sts.cn-north-1.amazonaws.com.cn/some/path?b=2&a=1%2F"
    headers = {"content-type": "application/x-amz-json-1.1", "host": url.split("/")[2]}
    ours = sigv4.Signer("cn-north-1", "sts").headers(
        keys, when, "POST", "/some/path", headers, sigv4.payload_hash(body), "a=1%2F&b=2"
    )
    request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body)
    request.headers["content-type"] = headers["content-type"]
    frozen = botocore.credentials.Credentials(keys.access_key, keys.secret_key, keys.token)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when.replace(tzinfo=None))
    botocore.auth.SigV4Auth(frozen, "sts", "cn-north-1").add_auth(request)
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours["x-amz-security-token"] == "token"


# -- the retry loop -----------------------------------------------------------


@dataclass
class Script:
    """What ``send`` answers, one item per attempt: a response or an exception."""

    answers: list[HttpReply | Exception]
    sent: int = 0
    dropped: int = 0
    waits: list[float] = field(default_factory=list)

    def send(self) -> HttpReply:
        self.sent += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def drop(self) -> None:
        self.dropped += 1

    def backoff(self, **options: Any) -> Backoff:
        return Backoff(sleep=self.waits.append, **options)


def throttled(response: HttpReply) -> bool:
    return sigv4.server_error(response) or response[0] == 429


def test_throttling_then_success() -> None:
    script = Script([(429, {}, b""), (429, {}, b""), (200, {}, b"ok")])
    answer = sigv4.retrying(script.send, script.backoff(), "SSM", throttled, script.drop)
    assert answer == (200, {}, b"ok")
    assert script.sent == 3
    assert len(script.waits) == 2
    assert script.dropped == 0


def test_server_errors_until_the_attempts_run_out() -> None:
    script = Script([(503, {}, SLOW_DOWN)] * 5)
    answer = sigv4.retrying(script.send, script.backoff(attempts=4), "S3")
    assert answer[0] == 503  # the caller says what it means
    assert script.sent == 4
    assert len(script.waits) == 3  # none after the last attempt


def test_a_connection_error_is_retried_on_a_new_connection() -> None:
    script = Script([ConnectionResetError("reset"), TimeoutError("slow"), (200, {}, b"ok")])
    assert sigv4.retrying(script.send, script.backoff(), "S3", reconnect=script.drop)[0] == 200
    assert (script.sent, script.dropped, len(script.waits)) == (3, 2, 2)


def test_connection_errors_to_the_end_are_a_storage_error() -> None:
    script = Script([ConnectionRefusedError("refused")] * 3)
    with pytest.raises(AwsError, match="SSM could not be reached: refused"):
        sigv4.retrying(script.send, script.backoff(attempts=3), "SSM", reconnect=script.drop)
    assert (script.sent, script.dropped) == (3, 3)


@pytest.mark.parametrize("status", [200, 304, 400, 403, 404, 501])
def test_other_answers_are_not_retried(status: int) -> None:
    script = Script([(status, {}, b"")])
    assert sigv4.retrying(script.send, script.backoff(), "S3")[0] == status
    assert script.waits == []


def test_the_readers_wait_less_than_a_second_in_all() -> None:
    for backoff in (S3Reader.backoff, SsmReader.backoff):
        ceilings = [min(backoff.cap, backoff.base * 2**n) for n in range(backoff.attempts - 1)]
        assert sum(ceilings) <= backoff.budget <= 1.0


# -- the readers on a loopback server -----------------------------------------


@dataclass
class Served:
    url: str
    answers: list[tuple[int, bytes]]
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    clients: set[tuple[str, int]] = field(default_factory=set)


@contextmanager
def serving(answers: list[tuple[int, bytes]]) -> Iterator[Served]:
    """An HTTP/1.1 server on 127.0.0.1 that gives the scripted answers in turn
    (the last one from then on), keeping connections alive."""
    served = Served("", list(answers))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            served.seen.append((self.command, self.path, dict(self.headers), body))
            served.clients.add(self.client_address)
            status, payload = served.answers.pop(0) if len(served.answers) > 1 else answers[-1]
            self.send_response(status)
            if self.close_connection:  # the client asked for it
                self.send_header("connection", "close")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def test_the_s3_reader_retries_5xx_then_fails_loudly() -> None:
    waits: list[float] = []
    with serving([(503, SLOW_DOWN)]) as served:
        reader = S3Reader("my-index", "us-east-1", served.url, credentials=lambda: KEYS)
        reader.backoff = Backoff(attempts=4, sleep=waits.append)
        with pytest.raises(AwsError, match="S3 answered 503 for a GET: SlowDown"):
            reader.get("my-pkg/index.json")
        reader.connections.drop()
    assert reader.requests == 4
    assert len(waits) == 3
    assert {path for _, path, _, _ in served.seen} == {"/my-index/my-pkg/index.json"}


def test_one_connection_is_kept_until_the_server_closes_it() -> None:
    with serving([(200, b"{}")]) as served:
        connections = sigv4.KeptAlive("http", served.url.removeprefix("http://"))
        answers = [
            connections.request("GET", "/a", {"connection": "close"}),
            connections.request("GET", "/b", {}),
            connections.request("GET", "/c", {}),
        ]
        connections.drop()
    assert [(status, body) for status, _, body in answers] == [(200, b"{}")] * 3
    assert answers[0][1]["connection"] == "close"  # lower-case names
    assert len(served.clients) == 2  # a new connection after the close, then kept
