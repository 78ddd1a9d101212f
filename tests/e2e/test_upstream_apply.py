"""The proxy mode applied with Terraform on moto (examples/basic with upstream_mode =
"proxy"): the api is told its mode and its keeper, the keeper function runs the
package's code, and the deployed policies, evaluated request by request
(tests/iam.py), let the api write the upstream pages only and the keeper the kept
files only: neither can write a project folder."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest

from serverless_pypi import keeper
from serverless_pypi.config import ApiSettings
from serverless_pypi.layout import (
    ROOT_JSON,
    UPSTREAM_POLICY,
    manifest_key,
    upstream_file_key,
    upstream_page_key,
)
from tests.builders import wheel_bytes
from tests.e2e.conftest import function_policy
from tests.e2e.stack import ACCOUNT_ID, REGION, Stack, applied_stack
from tests.iam import allowed
from tests.upstream_stub import StubFile, Upstream, days_ago, upstream_index

PROXY_OVERRIDE_TF = """# Written by tests/e2e/test_upstream_apply.py: the proxy mode.
module "pypi" {
  upstream_mode     = "proxy"
  upstream_cooldown = "3d"
  upstream_page_ttl = 120
}
"""
WHEEL = "six-1.0-py3-none-any.whl"
PROJECT_KEYS = [
    f"six/{WHEEL}",
    f"Six/{WHEEL}",
    f"six/{WHEEL}.yanked",
    manifest_key("six"),
    ROOT_JSON,
]


@pytest.fixture(scope="module")
def proxy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with applied_stack(
        tmp_path_factory.mktemp("proxy"), {"proxy_override.tf": PROXY_OVERRIDE_TF}
    ) as applied:
        yield applied


def _function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


def _keeper_name(stack: Stack) -> str:
    return stack.function_environment(stack.outputs["api_function_name"])["KEEPER_FUNCTION"]


def test_the_api_is_told_its_mode_and_the_keeper_runs_the_package(proxy_stack: Stack) -> None:
    env = proxy_stack.function_environment(proxy_stack.outputs["api_function_name"])
    settings = ApiSettings.from_env(env)
    assert settings.proxy and settings.upstream_cooldown == 3 * 86_400
    assert settings.upstream_page_ttl == 120 and settings.keeper_function == _keeper_name(
        proxy_stack
    )
    config = proxy_stack.client("lambda").get_function_configuration(
        FunctionName=_keeper_name(proxy_stack)
    )
    assert config["Handler"] == "serverless_pypi.keeper.handler"
    assert config["Timeout"] == 900
    package = (proxy_stack.module_dir / "package" / "serverless-pypi.zip").read_bytes()
    digest = base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert config["CodeSha256"] == digest


def _object(stack: Stack, key: str) -> str:
    return f"arn:aws:s3:::{stack.bucket}/{key}"


def test_the_api_writes_the_upstream_pages_and_nothing_else(proxy_stack: Stack) -> None:
    policy = function_policy(proxy_stack, proxy_stack.outputs["api_function_name"])
    api = {"lambda:SourceFunctionArn": _function_arn(proxy_stack.outputs["api_function_name"])}
    assert allowed(policy, "s3:PutObject", _object(proxy_stack, upstream_page_key("six")), api)
    for key in [*PROJECT_KEYS, upstream_file_key("six", WHEEL), UPSTREAM_POLICY]:
        assert not allowed(policy, "s3:PutObject", _object(proxy_stack, key), api), key
        assert not allowed(policy, "s3:DeleteObject", _object(proxy_stack, key), api), key
    keeper_arn = _function_arn(_keeper_name(proxy_stack))
    assert allowed(policy, "lambda:InvokeFunction", keeper_arn, api)
    # The reindexer, which shares the role, is not given the api's new rights.
    reindex = {
        "lambda:SourceFunctionArn": _function_arn(proxy_stack.outputs["reindex_function_name"])
    }
    assert not allowed(policy, "lambda:InvokeFunction", keeper_arn, reindex)


def test_the_keeper_writes_the_kept_files_and_nothing_else(proxy_stack: Stack) -> None:
    policy = function_policy(proxy_stack, _keeper_name(proxy_stack))
    kept = _object(proxy_stack, upstream_file_key("six", WHEEL))
    for action in ("s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"):
        assert allowed(policy, action, kept, {})
    for key in [*PROJECT_KEYS, upstream_page_key("six"), UPSTREAM_POLICY, "secret.pem"]:
        for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"):
            assert not allowed(policy, action, _object(proxy_stack, key), {}), (action, key)


def test_the_deployed_keeper_keeps_a_verified_copy(proxy_stack: Stack) -> None:
    """The deployed function's handler and environment, run here (moto cannot run code).
    moto refuses every object request over plain HTTP under the bucket's TLS-only policy
    (it does not evaluate aws:SecureTransport): the policy is set aside, as in test_calls."""
    env = proxy_stack.function_environment(_keeper_name(proxy_stack))
    proxy_stack.client("s3").delete_bucket_policy(Bucket=proxy_stack.bucket)
    data = wheel_bytes("six", "1.0")[1]
    up = Upstream()
    up.add("six", StubFile(WHEEL, data, days_ago(30)))
    with upstream_index(up), proxy_stack.environ(**env):
        keeper._client.cache_clear()
        event = {
            "project": "six",
            "filename": WHEEL,
            "url": f"{up.origin}/files/{WHEEL}",
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        assert keeper.handler(event) == {"kept": True}
        assert keeper.handler({**event, "project": "../six"})["kept"] is False
        keeper._client.cache_clear()
    s3 = proxy_stack.client("s3")
    body = s3.get_object(Bucket=proxy_stack.bucket, Key=upstream_file_key("six", WHEEL))["Body"]
    assert body.read() == data
