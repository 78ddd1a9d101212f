"""The authorizer's SSM reader: the GetParametersByPath requests it sends, as
botocore sends and signs them, its pages, and its retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.auth
import pytest

from serverless_pypi.objects import AwsError
from serverless_pypi.retry import Backoff
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import PAGE_SIZE, SsmReader
from tests.unit.test_sigv4 import KEYS, Served, serving

PATH = "/p/users/"
THROTTLED = (400, b'{"__type": "ThrottlingException", "message": "Rate exceeded"}')
LAST_PAGE = (200, b'{"Parameters": [{"Name": "/p/users/alice", "Value": "v"}]}')
# What the signed requests compare: every header the signature covers, and the signature.
SIGNED = ("content-type", "x-amz-target", "x-amz-date", "x-amz-security-token", "authorization")


def _page(names: list[str], token: str | None) -> bytes:
    page: dict[str, Any] = {"Parameters": [{"Name": PATH + name, "Value": name} for name in names]}
    if token:
        page["NextToken"] = token
    return json.dumps(page).encode()


class Connection:
    """The reader's connection, answering pages in turn and keeping what was sent."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        self.sent.append({"method": method, "path": path, "body": body, "headers": headers})

    def getresponse(self) -> Any:
        body = self.answers.pop(0)

        class Answer:
            status = 200

            def read(self) -> bytes:
                return body

            def getheaders(self) -> list[tuple[str, str]]:
                return [("Content-Type", "application/x-amz-json-1.1")]

        return Answer()


def _botocore_request(
    keys: Credentials, when: datetime, monkeypatch: pytest.MonkeyPatch, **params: Any
) -> Any:
    """What boto3's SSM client sends for ``get_parameters_by_path(**params)``,
    signed at ``when``: stopped just before it leaves."""
    client = boto3.client(
        "ssm",
        region_name="eu-west-1",
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        aws_session_token=keys.token,
    )
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when.replace(tzinfo=None))
    seen: list[Any] = []

    class Stop(Exception):
        pass

    def capture(request: Any, **_: Any) -> None:
        seen.append(request)
        raise Stop

    client.meta.events.register("before-send.ssm.GetParametersByPath", capture)
    with pytest.raises(Stop):
        client.get_parameters_by_path(**params)
    return seen[0]


def test_the_requests_are_botocores_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both pages of a listing: the body boto3 would send for the same call, and the
    headers and signature botocore puts on it."""
    when = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    keys = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token")
    reader = SsmReader("eu-west-1", credentials=lambda: keys, clock=lambda: when)
    connection = Connection([_page(["alice"], "page-2"), _page(["bob"], None)])
    reader.connections._local.connection = connection
    assert reader.list(PATH, 1000) == ({"alice": "alice", "bob": "bob"}, True)
    # The parameters in the reader's order: boto3 serializes them as given.
    first: dict[str, Any] = {"Path": PATH, "Recursive": False, "MaxResults": PAGE_SIZE}
    second = {**first, "NextToken": "page-2", "WithDecryption": True}
    first["WithDecryption"] = True
    assert len(connection.sent) == 2
    for sent, params in zip(connection.sent, [first, second], strict=True):
        expected = _botocore_request(keys, when, monkeypatch, **params)
        assert (sent["method"], sent["path"]) == (expected.method, "/")
        assert expected.url == "https://ssm.eu-west-1.amazonaws.com/"
        assert sent["body"] == expected.body
        theirs = {name.lower(): value for name, value in expected.headers.items()}
        for name in SIGNED:
            assert sent["headers"][name].encode() == theirs[name], name
        assert sent["headers"]["host"] == "ssm.eu-west-1.amazonaws.com"


def test_the_reader_lists_pages_on_moto(moto_url: str, s3: Any) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    for number in range(25):
        ssm.put_parameter(Name=f"{PATH}user-{number}", Value=f"v{number}", Type="SecureString")
    ssm.put_parameter(Name=PATH + "deeper/x", Value="not a user", Type="String")
    reader = SsmReader("us-east-1", moto_url, credentials=lambda: KEYS)
    users, complete = reader.list(PATH, 1000)
    assert complete and reader.requests == 3  # pages of ten
    assert users == {f"user-{number}": f"v{number}" for number in range(25)}  # decrypted
    some, complete = reader.list(PATH, 15)
    assert not complete and len(some) == 20  # two pages: 15 reached


# -- retries ------------------------------------------------------------------


def _reader(served: Served, waits: list[float]) -> SsmReader:
    reader = SsmReader("us-east-1", served.url, credentials=lambda: KEYS)
    reader.backoff = Backoff(attempts=4, base=0.1, sleep=waits.append)
    return reader


def _targets(served: Served) -> set[tuple[str, str, str]]:
    return {(method, path, headers["x-amz-target"]) for method, path, headers, _ in served.seen}


def test_throttling_is_retried_on_one_kept_alive_connection() -> None:
    waits: list[float] = []
    with serving([THROTTLED, THROTTLED, LAST_PAGE]) as served:
        reader = _reader(served, waits)
        assert reader.list(PATH, 1000) == ({"alice": "v"}, True)
        reader.connections.drop()
    assert reader.requests == 3
    assert len(waits) == 2
    assert _targets(served) == {("POST", "/", "AmazonSSM.GetParametersByPath")}
    assert len(served.clients) == 1


def test_a_throttled_second_page_is_retried_and_the_listing_goes_on() -> None:
    waits: list[float] = []
    first = (200, _page([f"u{n}" for n in range(PAGE_SIZE)], "2"))
    with serving([first, THROTTLED, LAST_PAGE]) as served:
        reader = _reader(served, waits)
        users, complete = reader.list(PATH, 1000)
        reader.connections.drop()
    assert complete and len(users) == PAGE_SIZE + 1
    assert [json.loads(body).get("NextToken") for _, _, _, body in served.seen] == [None, "2", "2"]
    assert len(waits) == 1


def test_persistent_throttling_is_a_storage_error_within_a_second() -> None:
    waits: list[float] = []
    with serving([THROTTLED]) as served:
        reader = _reader(served, waits)
        with pytest.raises(AwsError, match="SSM answered 400: ThrottlingException"):
            reader.list(PATH, 1000)
        reader.connections.drop()
    assert reader.requests == 4
    assert sum(waits) <= 1.0


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((400, b'{"__type": "com.amazon#AccessDeniedException"}'), "AccessDeniedException"),
        ((400, b'{"__type": "ValidationException"}'), "ValidationException"),
        ((400, b"not json"), "no error type"),
    ],
)
def test_another_400_is_never_retried(answer: tuple[int, bytes], reason: str) -> None:
    waits: list[float] = []
    with serving([answer]) as served:
        reader = _reader(served, waits)
        with pytest.raises(AwsError, match=reason):
            reader.list(PATH, 1000)
        reader.connections.drop()
    assert reader.requests == 1
    assert waits == []


def test_a_server_error_is_retried() -> None:
    waits: list[float] = []
    with serving([(500, b'{"__type": "InternalServerError"}'), LAST_PAGE]) as served:
        reader = _reader(served, waits)
        assert reader.list(PATH, 1000) == ({"alice": "v"}, True)
        reader.connections.drop()
    assert reader.requests == 2
