"""Switching from the older serverless PyPI module by changing `source`.

tests/e2e/older/ holds a root module written for the older module (v4.x) and a
stand-in with that module's shape: its resource addresses, names and wiring (not
its code). It is applied to moto's server in a temporary copy, a wheel is put in
the bucket, then `source` is pointed at a copy of this module (the same inputs,
plus `index_at_api_root = true`). The plan must keep the bucket, the topic, the
role, the log groups and the functions (moved.tf), and update the older routes in
place; after the apply and one `serverless-pypi reindex`, pip installs from the
old URL (the API's root) through the deployed function and routes, and a second
plan is empty.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.builders import wheel_bytes
from tests.clients import pip, venv
from tests.e2e.stack import (
    APPLY_TIMEOUT,
    FAKE_CREDENTIALS,
    INIT_TIMEOUT,
    REGION,
    Stack,
    copy_module,
    moto_server,
    provider_override,
    terraform_env,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).with_name("older")
PACKAGE = ROOT / "package" / "serverless-pypi.zip"
RUNNER = Path(__file__).with_name("lambda_runner.py")
FUNCTION_ARN = re.compile(r"arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+")
PROJECT = "switch-demo"


OLDER_SOURCE = 'source = "../module"'
# The root module lives at <base>/older/root, this module's copy at <base>/repo.
NEW_SOURCE = 'source = "../../repo"\n\n  index_at_api_root = true'

# What holds data or a name that clients and IAM know: never deleted nor replaced.
KEPT = (
    "aws_s3_bucket.this",
    "aws_sns_topic.this",
    "aws_iam_role.this",
    "aws_cloudwatch_log_group.api",
    "aws_cloudwatch_log_group.reindex",
    "aws_lambda_function.api",
    "aws_lambda_function.reindex",
)
OLDER_ROUTE_KEYS = ("GET /", "HEAD /", "GET /{package+}", "HEAD /{package+}")


def _changes(plan: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each resource of the module (its address inside it) -> the plan's actions."""
    prefix = "module.serverless_pypi."
    return {
        item["address"].removeprefix(prefix): tuple(item["change"]["actions"])
        for item in plan.get("resource_changes", [])
        if item["address"].startswith(prefix) and item.get("mode") == "managed"
    }


@contextlib.contextmanager
def _serving(stack: Stack, package_dir: Path, api_id: str) -> Iterator[str]:
    """The deployed api function behind the deployed route keys (no base path); its URL."""
    apigw = stack.client("apigatewayv2")
    integrations = apigw.get_integrations(ApiId=api_id)["Items"]
    routes = apigw.get_routes(ApiId=api_id)["Items"]
    [integration] = integrations
    route_keys = sorted(
        route["RouteKey"]
        for route in routes
        if route.get("Target") == f"integrations/{integration['IntegrationId']}"
    )
    assert set(OLDER_ROUTE_KEYS) <= set(route_keys), route_keys
    match = FUNCTION_ARN.search(integration["IntegrationUri"])
    assert match, integration["IntegrationUri"]
    config = stack.client("lambda").get_function(FunctionName=match[0])["Configuration"]
    package = PACKAGE.read_bytes()
    assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    environment = dict(config.get("Environment", {}).get("Variables", {}))
    process = subprocess.Popen(
        [
            sys.executable,
            str(RUNNER),
            "serve",
            str(package_dir),
            config["Handler"],
            json.dumps(route_keys),
            "",
        ],
        env={**stack.env, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_switching_source_from_the_older_module(tmp_path: Path) -> None:
    started = time.monotonic()
    shutil.copytree(FIXTURE, tmp_path / "older")
    shutil.copytree(ROOT / "package", tmp_path / "older" / "module" / "package")
    (tmp_path / "repo").mkdir()
    copy_module(tmp_path / "repo")
    workdir = tmp_path / "older" / "root"
    bucket = f"serverless-pypi-switch-{uuid.uuid4().hex[:12]}"
    (workdir / "terraform.tfvars").write_text(f's3_bucket_name = "{bucket}"\n')

    with moto_server(tmp_path / "moto.log") as endpoint_url:
        (workdir / "moto_override.tf").write_text(provider_override(endpoint_url))
        env = terraform_env({**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint_url})
        stack = Stack(endpoint_url, REGION, workdir, tmp_path, env)
        s3 = stack.client("s3")
        timings: dict[str, float] = {}

        def terraform(
            label: str, *args: str, timeout: float = APPLY_TIMEOUT, check: bool = True
        ) -> subprocess.CompletedProcess[str]:
            began = time.monotonic()
            try:
                return stack.terraform(*args, "-no-color", timeout=timeout, check=check)
            finally:
                timings[label] = round(time.monotonic() - began, 1)

        terraform("init older", "init", timeout=INIT_TIMEOUT)
        try:
            # 1. The older module, with a wheel in a project folder.
            terraform("apply older", "apply", "-auto-approve")
            outputs = json.loads(terraform("output", "output", "-json").stdout)
            api_id = outputs["api_id"]["value"]
            assert outputs["bucket_name"]["value"] == bucket
            name, body = wheel_bytes(PROJECT, "1.0")
            s3.put_object(Bucket=bucket, Key=f"{PROJECT}/{name}", Body=body)

            # 2. `source` switched to this module: what the plan does.
            main = workdir / "main.tf"
            text = main.read_text()
            assert OLDER_SOURCE in text
            main.write_text(text.replace(OLDER_SOURCE, NEW_SOURCE))
            terraform("init new", "init", timeout=INIT_TIMEOUT)
            terraform("plan", "plan", "-out", "switch.tfplan")
            shown = terraform("show", "show", "-json", "switch.tfplan")
            plan = json.loads(shown.stdout)
            changes = _changes(plan)
            moved = {
                item["address"].removeprefix("module.serverless_pypi."): item["previous_address"]
                for item in plan.get("resource_changes", [])
                if item.get("previous_address")
            }
            print(f"\nplan actions: {json.dumps(changes, indent=1)}", file=sys.stderr)
            print(f"moved: {json.dumps(moved, indent=1)}", file=sys.stderr)
            for address in KEPT:
                assert address in changes, f"{address} is not in the plan"
                assert "delete" not in changes[address], f"{address}: {changes[address]}"
                assert "create" not in changes[address], f"{address}: {changes[address]}"
            for key in OLDER_ROUTE_KEYS:
                address = f'aws_apigatewayv2_route.api["{key}"]'
                assert changes.get(address) in {("update",), ("no-op",)}, (address, changes)
            destroyed = sorted(a for a, actions in changes.items() if "delete" in actions)
            print(f"destroyed or replaced: {destroyed}", file=sys.stderr)

            # 3. Applied; reindexed once; pip at the old URL (the API's root).
            terraform("apply new", "apply", "switch.tfplan")
            # moto applies the bucket policy's TLS-only Deny to every object request
            # (it does not evaluate aws:SecureTransport): set aside while clients run.
            policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
            s3.delete_bucket_policy(Bucket=bucket)
            try:
                reindexed = subprocess.run(
                    [sys.executable, "-m", "serverless_pypi", "reindex", "--bucket", bucket],
                    env=stack.env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert reindexed.returncode == 0, reindexed.stdout + reindexed.stderr
                package_dir = tmp_path / "deployed-package"
                with zipfile.ZipFile(PACKAGE) as archive:
                    archive.extractall(package_dir)
                python = venv(tmp_path / "venv")
                with _serving(stack, package_dir, api_id) as origin:
                    pip(python, "install", "--index-url", f"{origin}/", PROJECT)
                    listed = pip(python, "show", PROJECT).stdout
                    assert "Version: 1.0" in listed
            finally:
                s3.put_bucket_policy(Bucket=bucket, Policy=policy)

            # 4. Nothing left to do.
            second = terraform("plan again", "plan", "-detailed-exitcode", check=False)
            assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
        finally:
            with contextlib.suppress(Exception):
                stack.empty_bucket(bucket)
            terraform("destroy", "destroy", "-auto-approve")
            state = stack.terraform("state", "list", check=False)
            timings["total"] = round(time.monotonic() - started, 1)
            print(f"switch timings (s): {timings}", file=sys.stderr)
            assert state.returncode == 0 and not state.stdout.strip(), state.stdout
