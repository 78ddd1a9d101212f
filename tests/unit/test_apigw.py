"""Reading API Gateway's events once: a request's (payload 2.0) and an authorizer's."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from serverless_pypi.apigw import BadRequest, Request
from serverless_pypi.headers import Headers
from serverless_pypi.local.apigw_events import build_event, multipart_form
from tests.conftest import ROUTE_KEYS


def test_headers_are_found_in_any_case_and_oversized_ones_are_missing() -> None:
    headers = Headers({"Content-Type": "text/plain", "x-long": "v" * 9000, "n": 1, 2: "x"})
    assert headers.get("content-type") == headers.get("CONTENT-TYPE") == "text/plain"
    assert headers.get("x-long") is None and headers.get("n") is None
    assert Headers(None).get("anything") is None


def test_a_request_carries_its_decoded_body_and_the_authorizer_s_context() -> None:
    body, content_type = multipart_form({"name": "x"}, {"content": ("f.whl", b"\x00\xff")})
    event = build_event(
        "POST", "/legacy/", [("Content-Type", content_type)], body, route_keys=["POST /legacy/"]
    )
    event["requestContext"]["authorizer"] = {"lambda": {"user": "ci", "rights": "read,upload"}}
    request = Request.from_event(event)
    assert request.body == body and request.header("content-type") == content_type
    assert request.user == "ci" and request.rights == {"read", "upload"}
    anonymous = Request.from_event(build_event("GET", "/simple/", route_keys=ROUTE_KEYS))
    assert anonymous.body == b"" and anonymous.user is None and anonymous.rights == frozenset()


@pytest.mark.parametrize(
    "change",
    [
        {"body": "not base64!", "isBase64Encoded": True},
        {"headers": ["not", "a", "mapping"]},
        {"rawPath": None},
    ],
)
def test_events_no_client_could_send_are_bad_requests(change: dict[str, Any]) -> None:
    event = {**build_event("GET", "/simple/", route_keys=ROUTE_KEYS), **change}
    with pytest.raises(BadRequest):
        Request.from_event(event)
    with pytest.raises(BadRequest):
        Request.from_event(["not", "an", "event"])


def test_a_plain_text_body_is_taken_as_utf8() -> None:
    event = {**build_event("POST", "/legacy/"), "body": "caf\u00e9", "isBase64Encoded": False}
    assert Request.from_event(event).body == "caf\u00e9".encode()


def test_the_form_builder_writes_what_twine_sends() -> None:
    body, content_type = multipart_form({":action": "file_upload"}, {"content": ("a.whl", b"x")})
    boundary = content_type.partition("boundary=")[2]
    assert body.startswith(f"--{boundary}\r\n".encode()) and body.endswith(
        f"--{boundary}--\r\n".encode()
    )
    assert b'name="content"; filename="a.whl"' in body
    # API Gateway hands a binary body to the function base64-encoded; it reads back whole.
    event = build_event("POST", "/legacy/", [("content-type", content_type)], body)
    assert event["body"] == base64.b64encode(body).decode() and event["isBase64Encoded"] is True
    assert Request.from_event(event).body == body
