"""The module with trusted_publishing = true, applied to moto: its routes at the
root without an authorizer, the mint function's environment and role (evaluated
request by request), and the deployed handlers run in-process with the
environment Terraform gave them: the audience, a refusal, and the authorizer
reading the trust file's key to let a minted token upload."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from serverless_pypi import authorizer, mint, publishers, uploadtoken
from serverless_pypi.layout import OIDC_ROUTE_KEYS, UPLOAD_ROUTE_KEYS, USERS_FILE
from serverless_pypi.local.apigw_events import authorizer_event, build_event
from tests.e2e.stack import Stack, applied_stack
from tests.iam import allowed

OVERRIDE_TF = """# Written by tests/e2e/test_trusted_publishing_module.py.
module "pypi" {
  s3_versioning              = false
  trusted_publishing         = true
  trusted_publishing_issuers = ["https://forgejo.example.com"]
}
"""


@pytest.fixture(scope="module")
def oidc_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with applied_stack(
        tmp_path_factory.mktemp("oidc-stack"), {"oidc_override.tf": OVERRIDE_TF}, files={}
    ) as applied:
        # moto applies the bucket policy's TLS-only Deny to every object request
        # (it does not evaluate aws:SecureTransport): see Stack.empty_bucket.
        applied.client("s3").delete_bucket_policy(Bucket=applied.bucket)
        yield applied


def mint_function(stack: Stack) -> str:
    names = [
        f["FunctionName"]
        for f in stack.client("lambda").list_functions()["Functions"]
        if f["FunctionName"].endswith("-oidc")
    ]
    assert len(names) == 1, names
    return str(names[0])


def role_policy(stack: Stack, function: str) -> Mapping[str, Any]:
    config = stack.client("lambda").get_function(FunctionName=function)["Configuration"]
    role = config["Role"].rsplit("/", 1)[-1]
    iam = stack.client("iam")
    [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document  # type: ignore[no-any-return]


def test_the_routes_are_at_the_root_without_an_authorizer(oidc_stack: Stack) -> None:
    api = oidc_stack.client("apigatewayv2")
    routes = api.get_routes(ApiId=oidc_stack.outputs["api_id"])["Items"]
    by_key = {route["RouteKey"]: route for route in routes}
    for key in OIDC_ROUTE_KEYS:
        assert by_key[key].get("AuthorizationType", "NONE") == "NONE", key
        assert not by_key[key].get("AuthorizerId"), key
    for key in UPLOAD_ROUTE_KEYS:
        assert by_key[key]["AuthorizationType"] == "CUSTOM"
    integration = by_key["POST /_/oidc/mint-token"]["Target"].partition("/")[2]
    uri = api.get_integration(ApiId=oidc_stack.outputs["api_id"], IntegrationId=integration)
    assert mint_function(oidc_stack) in uri["IntegrationUri"]


def test_the_mint_role_reads_the_trust_file_and_writes_its_markers_only(oidc_stack: Stack) -> None:
    function = mint_function(oidc_stack)
    policy = role_policy(oidc_stack, function)
    bucket = f"arn:aws:s3:::{oidc_stack.bucket}"
    context = {"lambda:SourceFunctionArn": function}
    with_condition = {**context, "s3:if-none-match": "*"}
    jti = f"{bucket}/{uploadtoken.jti_key('https://i', 'j')}"
    burned = f"{bucket}/{uploadtoken.burn_key('j')}"
    assert allowed(policy, "s3:GetObject", f"{bucket}/{publishers.TRUST_FILE}", context)
    assert allowed(policy, "s3:PutObject", jti, with_condition)
    assert not allowed(policy, "s3:PutObject", jti, context)  # a jti only with If-None-Match
    assert allowed(policy, "s3:PutObject", burned, context)
    for action, key in [
        ("s3:GetObject", USERS_FILE),
        ("s3:GetObject", "widgets/widgets-1.0-py3-none-any.whl"),
        ("s3:PutObject", "widgets/widgets-1.0-py3-none-any.whl"),
        ("s3:PutObject", publishers.TRUST_FILE),
        ("s3:PutObject", ".serverless-pypi/projects/widgets.json"),
        ("s3:DeleteObject", uploadtoken.jti_key("https://i", "j")),
    ]:
        assert not allowed(policy, action, f"{bucket}/{key}", with_condition), (action, key)
    assert not allowed(policy, "s3:ListBucket", bucket, context)
    assert not allowed(policy, "ssm:GetParametersByPath", "arn:aws:ssm:*", context)
    # Who else reads the trust file: the authorizer, not the upload or api functions.
    for output, reads in [
        ("authorizer_function_name", True),
        ("upload_function_name", False),
        ("api_function_name", False),
    ]:
        other = role_policy(oidc_stack, oidc_stack.outputs[output])
        trust = f"{bucket}/{publishers.TRUST_FILE}"
        assert allowed(other, "s3:GetObject", trust, {}) is reads, output
    upload = role_policy(oidc_stack, oidc_stack.outputs["upload_function_name"])
    assert allowed(upload, "s3:GetObject", burned, {})


def test_the_deployed_handlers_mint_refuse_and_authorize(oidc_stack: Stack) -> None:
    env = oidc_stack.function_environment(mint_function(oidc_stack))
    assert env["TRUSTED_PUBLISHING_AUDIENCE"] == f"serverless-pypi-{oidc_stack.bucket}"
    assert env["TRUSTED_PUBLISHING_ISSUERS"] == "https://forgejo.example.com"
    cli_env = {**oidc_stack.env, "AWS_ENDPOINT_URL": oidc_stack.endpoint_url}
    bucket = oidc_stack.bucket
    rotated = subprocess.run(
        [sys.executable, "-m", "serverless_pypi", "publisher", "rotate", "--bucket", bucket],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    with oidc_stack.environ(**env):
        minter = mint.Minter.from_env()
        event = build_event("GET", "/_/oidc/audience", route_keys=list(OIDC_ROUTE_KEYS))
        answer = minter(event)
        assert json.loads(answer["body"]) == {"audience": env["TRUSTED_PUBLISHING_AUDIENCE"]}
        refused = minter(
            build_event(
                "POST",
                "/_/oidc/mint-token",
                body=b'{"token": "a.b.c"}',
                route_keys=list(OIDC_ROUTE_KEYS),
            )
        )
        assert refused["statusCode"] == 422
        trust = minter.trust.current()
        assert len(trust.keys) == 1
    token = uploadtoken.mint(
        trust.keys[0],
        uploadtoken.Minted(trust.keys[0].kid, "j-1", int(time.time()) + 60, ("widgets",), "oidc"),
    )
    header = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
    authorizer_env = oidc_stack.function_environment(oidc_stack.outputs["authorizer_function_name"])
    assert authorizer_env["TRUSTED_PUBLISHING"] == "true"
    with oidc_stack.environ(**authorizer_env):
        deployed = authorizer.Authorizer.from_env()
        keys = [*UPLOAD_ROUTE_KEYS, "GET /simple/{proxy+}"]
        upload = build_event("POST", "/legacy/", [("Authorization", header)], route_keys=keys)
        verdict = deployed(authorizer_event(upload, [header, "POST /legacy/"]))
        assert verdict["isAuthorized"] is True
        assert verdict["context"]["projects"] == "widgets"
        page = build_event("GET", "/simple/widgets/", [("Authorization", header)], route_keys=keys)
        read = deployed(authorizer_event(page, [header, "GET /simple/{proxy+}"]))
        assert read == {"isAuthorized": False}
