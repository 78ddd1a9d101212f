"""Hostile and broken requests: a clean 3xx/4xx, never a 5xx, never a stray object.

These go through ``api.handler``, the Lambda entry point, on purpose: a hostile
request is a hostile API Gateway event, and reading the event is part of what is
under attack (the App the entry point builds is the one the other tests build from
``ApiSettings``)."""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serverless_pypi import api
from tests.builders import wheel_bytes
from tests.conftest import BUCKET, Reply, http_event
from tests.moto_bucket import notify, put

SECRET = b"-----BEGIN PRIVATE KEY----- do not serve"
WHEEL = "my_pkg-1.0-py3-none-any.whl"


@pytest.fixture
def hostile_bucket(s3: Any) -> Any:
    """An index with secrets beside it: at the root, in a project folder, in derived data."""
    put(s3, f"my-pkg/{WHEEL}", wheel_bytes("my-pkg", "1.0")[1])
    notify(("ObjectCreated:Put", f"my-pkg/{WHEEL}"))
    for key in ("secret.pem", "my-pkg/secret.pem", "my-pkg/.env", ".serverless-pypi/secret.pem"):
        put(s3, key, SECRET)
    return s3


def _presigned_key(location: str) -> str | None:
    """The object key a redirect to S3 points at (path style on moto)."""
    parts = urlsplit(location)
    if "X-Amz-Signature" not in parts.query:
        return None
    path = unquote(parts.path)
    prefix = f"/{BUCKET}/"
    assert path.startswith(prefix), location
    return path[len(prefix) :]


def _assert_safe(result: dict[str, Any]) -> Reply:
    reply = Reply(result)
    assert 200 <= reply.status < 500, (reply.status, reply.body[:200])
    assert SECRET not in reply.body
    location = reply.headers.get("Location")
    if location:
        key = _presigned_key(location)
        if key is not None:
            folder, _, filename = key.partition("/")
            assert folder and "/" not in filename
            assert filename.endswith((".whl", ".tar.gz", ".zip")), key
            assert "secret" not in key and ".serverless-pypi" not in key
    return reply


TRAVERSALS = [
    "/simple/../secret.pem",
    "/simple/my-pkg/../../secret.pem",
    "/simple/my-pkg/%2e%2e/%2e%2e/secret.pem",
    "/simple/my-pkg/%2E%2E%2F%2E%2E%2Fsecret.pem",
    "/simple/my-pkg/..%2fsecret.pem",
    "/simple/my-pkg/..%5csecret.pem",
    "/simple/my-pkg/..\\..\\secret.pem",
    "/simple/my-pkg//secret.pem",
    "//simple/my-pkg/secret.pem",
    "/simple/my-pkg/secret.pem",
    "/simple/my-pkg/.env",
    "/simple/my-pkg/%00.whl",
    "/simple/my-pkg/my_pkg-1.0-py3-none-any.whl%00.pem",
    "/simple/my-pkg/%ff%fe.whl",
    "/simple/%2e%2e/",
    "/simple/.serverless-pypi/secret.pem",
    "/simple/my-pkg/.serverless-pypi/secret.pem",
    "/simple/my-pkg/my-pkg/../secret.pem",
    "/simple/my-pkg/My.Pkg/..%2F..%2Fsecret.pem",
    "/simple/my-pkg/%2e%2e%2f%2e%2e%2fsecret.pem.metadata",
    "/simple/my-pkg/../../.serverless-pypi/projects/my-pkg.json",
    "/simple/my-pkg/" + "a" * 5000,
    "/" + "simple/" * 300,
    "/simple/my-pkg/secret.pem.metadata",
    "/simple/secret/secret-1.0.tar.gz/../../secret.pem",
    "/simple/my-pkg/%C0%AE%C0%AE/secret.pem",
    "/simple/my-pkg/\u2025/secret.pem",
    "/simple/my-pkg/%E2%80%A5/secret.pem",
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_path_traversal_in_every_spelling(hostile_bucket: Any, path: str, method: str) -> None:
    reply = _assert_safe(api.handler(http_event(path, method), None))
    assert reply.status in (301, 302, 400, 404, 414), (path, reply.status)


@pytest.mark.parametrize(
    "headers",
    [
        {"accept": "x" * 100_000},
        {"accept": ",".join(["text/html;q=0.5"] * 10_000)},
        {"accept": ";;;,,,;q=;q==;"},
        {"accept": "text/html;q=1e999"},
        {"accept": "*/*;q=-1"},
        {"accept-encoding": "gzip;q=nan, br;q=inf"},
        {"accept-encoding": "\x00\x01"},
        {"if-none-match": "W/" * 10_000},
        {"if-none-match": '"' + "a" * 10_000 + '"'},
        {"if-none-match": "*"},
        {"if-none-match": 'W/"../../secret.pem.h1"'},
        {"authorization": "Basic " + "A" * 10_000},
        {"x-" + "a" * 1000: "b" * 1000},
    ],
)
def test_odd_headers(hostile_bucket: Any, headers: dict[str, str]) -> None:
    for path in ("/simple/", "/simple/my-pkg/", f"/simple/my-pkg/{WHEEL}.metadata"):
        _assert_safe(api.handler(http_event(path, headers=headers), None))


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"rawPath": "/simple/"},
        {"requestContext": {"http": {"method": "GET"}}},
        {"rawPath": 7, "requestContext": {"http": {"method": "GET"}}},
        {"rawPath": "/simple/", "requestContext": {"http": {"method": None}}},
        {"rawPath": "/simple/", "requestContext": "x"},
        {"rawPath": "/simple/", "requestContext": {"http": {"method": "GET"}}, "headers": []},
        {"rawPath": "/simple/", "requestContext": {"http": {"method": "GET"}}, "headers": None},
        {"rawPath": "simple/", "requestContext": {"http": {"method": "GET"}}},
        {"rawPath": "", "requestContext": {"http": {"method": "GET"}}},
    ],
)
def test_malformed_events(hostile_bucket: Any, event: dict[str, Any]) -> None:
    reply = _assert_safe(api.handler(event, None))
    assert reply.status in (200, 301, 400, 404)


def test_bodies_on_get_are_ignored_and_bad_base64_is_400(hostile_bucket: Any) -> None:
    event = http_event("/simple/my-pkg/")
    event["body"] = base64.b64encode(b"payload").decode()
    event["isBase64Encoded"] = True
    assert _assert_safe(api.handler(event, None)).status == 200
    event["body"] = "%%%not base64"
    assert _assert_safe(api.handler(event, None)).status == 400


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "CONNECT", "BREW", "get "])
def test_unknown_methods(hostile_bucket: Any, method: str) -> None:
    reply = _assert_safe(api.handler(http_event("/simple/my-pkg/", method), None))
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"


SEGMENTS = st.sampled_from(
    [
        "",
        ".",
        "..",
        "%2e%2e",
        "%2E%2e",
        "%2f",
        "%5c",
        "\\",
        "%00",
        "%ff",
        "%c0%ae",
        "simple",
        "my-pkg",
        "My.Pkg",
        "my_pkg",
        "secret.pem",
        ".env",
        ".serverless-pypi",
        "projects",
        "my-pkg.json",
        WHEEL,
        WHEEL + ".metadata",
        "secret.pem.metadata",
        "index.html",
        "x-1.0.tar.gz",
        "%",
        "%%",
        "?",
        "#",
        "~",
        "é",
        "\u202e",
    ]
) | st.text(min_size=0, max_size=12)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    segments=st.lists(SEGMENTS, min_size=0, max_size=6),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]) | st.text(max_size=8),
    headers=st.dictionaries(
        st.sampled_from(["accept", "accept-encoding", "if-none-match", "host", "x-forwarded-for"])
        | st.text(max_size=10),
        st.text(max_size=60),
        max_size=5,
    ),
)
def test_any_request_is_answered_safely(
    hostile_bucket: Any, segments: list[str], method: str, headers: dict[str, str]
) -> None:
    path = "/" + "/".join(segments)
    _assert_safe(api.handler(http_event(path, method, headers=headers), None))


def test_a_hostile_object_key_cannot_inject_markup(s3: Any) -> None:
    # A filename that is a valid sdist name of the project yet full of markup.
    key = 'evil/evil-1.0"><img src=x onerror=alert(1)>.tar.gz'
    put(s3, key, b"not really an sdist")
    notify(("ObjectCreated:Put", key))
    page = Reply(api.handler(http_event("/simple/evil/"), None))
    assert page.status == 200
    assert "<img" not in page.text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.tar.gz</a>" in page.text


def test_logs_never_carry_secrets(
    hostile_bucket: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)  # read on every request, as on Lambda
    with caplog.at_level(logging.INFO):
        for path in ("/simple/", "/simple/my-pkg/", f"/simple/my-pkg/{WHEEL}", "/simple/nope/"):
            for method in ("GET", "HEAD"):
                headers = {"authorization": "Bearer sekrit-bearer", "cookie": "session=sekrit"}
                api.handler(http_event(path, method, headers=headers), None)
    text = caplog.text
    for secret in (token, "X-Amz-Signature", "X-Amz-Credential", "sekrit", "testing"):
        assert secret not in text
