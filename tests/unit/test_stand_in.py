"""What stands in for API Gateway (``serverless_pypi.local``): its events, anchored
to one AWS captured, and its routing."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_pypi.layout import ROOT_ROUTE_KEYS
from serverless_pypi.local import stand_in
from serverless_pypi.local.apigw_events import build_event, match
from tests.clients import serving
from tests.conftest import EVENTS, ROUTE_KEYS, http_event

CAPTURED = json.loads((EVENTS / "http-api-get.json").read_text())
AWS_TIME = re.compile(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\Z")


def shape(value: Any) -> Any:
    """The keys and value types of an event, without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value).__name__


def test_the_builder_writes_what_api_gateway_sent() -> None:
    context = CAPTURED["requestContext"]
    event = build_event(
        "GET",
        CAPTURED["rawPath"],
        CAPTURED["headers"].items(),
        source_ip=context["http"]["sourceIp"],
        route_keys=ROUTE_KEYS,
    )
    assert shape(event) == shape(CAPTURED)
    for name in ("version", "routeKey", "rawPath", "rawQueryString", "headers"):
        assert event[name] == CAPTURED[name], name
    assert event["pathParameters"] == CAPTURED["pathParameters"]
    assert event["isBase64Encoded"] is CAPTURED["isBase64Encoded"]
    for name in ("routeKey", "stage"):
        assert event["requestContext"][name] == context[name], name
    for name in ("method", "path", "protocol", "sourceIp"):
        assert event["requestContext"]["http"][name] == context["http"][name], name
    assert AWS_TIME.match(context["time"])
    assert AWS_TIME.match(event["requestContext"]["time"])


@pytest.mark.parametrize(
    ("path", "stage", "base"),
    [("/simple/my-pkg/", "$default", ""), ("/", "prod", ""), ("/simple/", "live", "/pypi")],
)
def test_the_tests_events_have_the_captured_shape(path: str, stage: str, base: str) -> None:
    event = http_event(path, stage=stage, base=base)
    expected = shape(CAPTURED)
    if "pathParameters" not in event:
        del expected["pathParameters"]
    assert {key: shape(item) for key, item in event.items() if key != "headers"} == {
        key: item for key, item in expected.items() if key != "headers"
    }
    assert all(isinstance(value, str) for value in event["headers"].values())


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("GET", "/", ("GET /", {})),
        ("HEAD", "/simple", ("HEAD /simple", {})),
        ("GET", "/simple/", ("GET /simple/{proxy+}", {})),
        ("GET", "/simple/my%2Dpkg/", ("GET /simple/{proxy+}", {"proxy": "my-pkg/"})),
        ("POST", "/simple/", None),
        ("GET", "/other", None),
    ],
)
def test_routes_are_matched_as_http_apis_match_them(
    method: str, path: str, route: tuple[str, dict[str, str]] | None
) -> None:
    assert match(ROUTE_KEYS, method, path) == route


@pytest.mark.parametrize(
    ("target", "stage", "base", "route_key", "proxy"),
    [
        ("/simple/x/?a=1", "$default", "", "GET /simple/{proxy+}", "x/"),
        ("/prod/simple/x/", "prod", "", "GET /simple/{proxy+}", "x/"),
        ("/prod", "prod", "", "GET /", None),
        ("/simple/x/", "prod", "", "$default", None),  # outside the stage
        ("/pypi/simple/x/", "live", "/pypi", "GET /simple/{proxy+}", "x/"),
        ("/pypi", "live", "/pypi", "GET /", None),
        ("/pypix/simple/", "$default", "/pypi", "$default", None),  # outside the base path
        ("/pypi/nothing", "$default", "/pypi", "$default", None),  # no route
    ],
)
def test_the_route_follows_the_stage_or_base_path(
    target: str, stage: str, base: str, route_key: str, proxy: str | None
) -> None:
    event = build_event("GET", target, route_keys=ROUTE_KEYS, stage=stage, base=base)
    assert event["routeKey"] == event["requestContext"]["routeKey"] == route_key
    assert event["requestContext"]["stage"] == stage
    assert event["rawPath"] == target.partition("?")[0]  # the stage and base path left in
    assert event.get("pathParameters", {}).get("proxy") == proxy


@pytest.fixture
def routed_server() -> Iterator[str]:
    """The stand-in as tests/e2e/lambda_runner.py serves a deployed handler behind
    a custom domain's base path: the handler answers with the route it saw."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen = {"routeKey": event["routeKey"], "proxy": event.get("pathParameters")}
        return {"statusCode": 200, "body": json.dumps(seen), "isBase64Encoded": False}

    server = stand_in(handler, route_keys=ROUTE_KEYS, base="/pypi")
    with serving(server) as origin:
        yield origin


def test_the_stand_in_answers_404_for_what_no_route_takes(routed_server: str) -> None:
    with urllib.request.urlopen(f"{routed_server}/pypi/simple/my-pkg/", timeout=10) as answer:
        assert json.load(answer) == {
            "routeKey": "GET /simple/{proxy+}",
            "proxy": {"proxy": "my-pkg/"},
        }
    for path in ("/simple/my-pkg/", "/pypi/other/"):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{routed_server}{path}", timeout=10)
        assert error.value.code == 404
        error.value.close()


def test_the_older_modules_greedy_variable_matches_too() -> None:
    assert match(ROOT_ROUTE_KEYS, "GET", "/my-pkg/") == ("GET /{package+}", {"package": "my-pkg/"})
    assert match(ROOT_ROUTE_KEYS, "GET", "/") == ("GET /", {})
    assert match(ROOT_ROUTE_KEYS, "POST", "/") is None
