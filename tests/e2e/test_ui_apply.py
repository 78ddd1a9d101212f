"""The pages for people as the module deploys them (``api_ui``): examples/basic
with the pages on, applied to moto's server in a copy of its own (the session's
``stack`` keeps its routes as they are), read back over the AWS API, and the
deployed handler run in-process with the deployed environment: a browser's first
request gets the login challenge, a user of the index gets the page."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_pypi import layout
from serverless_pypi.cli.userstore import UserStore
from tests.builders import wheel_bytes
from tests.conftest import http_event
from tests.e2e.stack import UNVERSIONED_OVERRIDE_TF, Stack, applied_stack

UI_FUNCTION = "serverless-pypi-ui"
UI_OVERRIDE_TF = """# Written by tests/e2e/test_ui_apply.py: the pages for people on.
module "pypi" {
  api_ui = true
}
"""


@pytest.fixture(scope="module")
def ui_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with applied_stack(
        tmp_path_factory.mktemp("ui-stack"),
        {"ui_override.tf": UI_OVERRIDE_TF},
        files={"versioning_override.tf": UNVERSIONED_OVERRIDE_TF},
    ) as applied:
        yield applied


def test_the_pages_routes_lead_to_their_function_without_an_authorizer(ui_stack: Stack) -> None:
    apigw = ui_stack.client("apigatewayv2")
    api_id = ui_stack.outputs["api_id"]
    routes = {route["RouteKey"]: route for route in apigw.get_routes(ApiId=api_id)["Items"]}
    assert set(layout.UI_ROUTE_KEYS) <= set(routes)
    [integration] = [
        item
        for item in apigw.get_integrations(ApiId=api_id)["Items"]
        if f":function:{UI_FUNCTION}/" in item["IntegrationUri"]
    ]
    for key in layout.UI_ROUTE_KEYS:
        assert routes[key]["Target"] == f"integrations/{integration['IntegrationId']}"
        assert routes[key]["AuthorizationType"] == "NONE"
        assert not routes[key].get("AuthorizerId")
    # The index's own routes keep the authorizer.
    assert routes["GET /simple/{proxy+}"]["AuthorizationType"] == "CUSTOM"


def test_the_pages_role_reads_and_never_writes(ui_stack: Stack) -> None:
    iam = ui_stack.client("iam")
    policy = iam.get_role_policy(RoleName=UI_FUNCTION, PolicyName=UI_FUNCTION)["PolicyDocument"]
    document = json.loads(policy) if isinstance(policy, str) else policy
    actions = {
        action
        for statement in document["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert actions == {
        "s3:GetObject",
        "ssm:GetParametersByPath",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def test_a_second_plan_has_no_changes(ui_stack: Stack) -> None:
    plan = ui_stack.terraform("plan", "-detailed-exitcode", "-no-color", check=False)
    assert plan.returncode == 0, plan.stdout[-3000:]


def _handler(ui_stack: Stack) -> Any:
    config = ui_stack.client("lambda").get_function_configuration(FunctionName=UI_FUNCTION)
    module, _, name = config["Handler"].rpartition(".")
    assert config["Handler"] == "serverless_pypi.ui.handler"
    loaded = importlib.import_module(module)
    loaded.default_app.cache_clear()
    return getattr(loaded, name)


def test_the_deployed_handler_challenges_then_shows_the_page(ui_stack: Stack) -> None:
    environment = ui_stack.function_environment(UI_FUNCTION)
    assert environment["UI_LOGIN"] == "basic"
    bucket = ui_stack.bucket
    s3 = ui_stack.client("s3")
    # moto cannot evaluate the bucket policy's aws:SecureTransport and denies every
    # object request with it: set aside while the handlers run (as test_e2e.py does).
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        _challenge_then_page(ui_stack, environment, bucket)
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)


def _challenge_then_page(ui_stack: Stack, environment: dict[str, str], bucket: str) -> None:
    name, data = wheel_bytes("ui-demo", "1.0", summary="Shown to people")
    ui_stack.client("s3").put_object(Bucket=bucket, Key=f"ui-demo/{name}", Body=data)
    with ui_stack.environ(S3_BUCKET=bucket):
        from serverless_pypi.batch import rebuild
        from serverless_pypi.storage import Storage, make_client

        rebuild(Storage(make_client(), bucket))
    store = UserStore(ui_stack.client("ssm"), environment["USERS_PATH"])
    token = store.add("reader", frozenset({"read"}))
    login = "Basic " + base64.b64encode(f"reader:{token}".encode()).decode()
    handler = _handler(ui_stack)
    try:
        with ui_stack.environ(**environment):
            asked = handler(http_event("/ui/ui-demo/", route_keys=layout.UI_ROUTE_KEYS), None)
            assert asked["statusCode"] == 401
            assert asked["headers"]["WWW-Authenticate"].startswith('Basic realm="')
            shown = handler(
                http_event(
                    "/ui/ui-demo/",
                    headers={"Authorization": login},
                    route_keys=layout.UI_ROUTE_KEYS,
                ),
                None,
            )
    finally:
        importlib.import_module("serverless_pypi.ui").default_app.cache_clear()
    assert shown["statusCode"] == 200, shown
    assert "Shown to people" in shown["body"]
    assert "frame-ancestors 'none'" in shown["headers"]["Content-Security-Policy"]
