"""main.tf and layout.py agree on the bucket layout and the routes.

Each value has one source per language: a local of the module (main.tf) and a
constant of src/serverless_pypi/layout.py, which the Lambda code and the Python
tests use. The .tftest.hcl files assert against the module's locals, and this
test ties those locals to layout.py:

    local.notify_suffixes   layout.NOTIFY_SUFFIXES   (one bucket notification each)
    local.route_keys        layout.ROUTE_KEYS        (the routes on the HTTP API)
    local.root_route_keys   layout.ROOT_ROUTE_KEYS   (those of index_at_api_root)
    local.upload_route_keys layout.UPLOAD_ROUTE_KEYS (the upload routes)
    local.ui_route_keys     layout.UI_ROUTE_KEYS     (the pages for people)
    local.derived_prefix    layout.DERIVED_PREFIX    (what only the reindexer writes)
    local.root_index        layout.ROOT_HTML         (the PEP 503 root page)
    local.users_file        layout.USERS_FILE        (the authorizer's users file)
    local.oidc_route_keys   layout.OIDC_ROUTE_KEYS   (trusted publishing's routes)
    local.trust_file        publishers.TRUST_FILE    (publishers and signing keys)
    local.oidc_markers_prefix uploadtoken.MARKERS_PREFIX (used jti's, burned tokens)

The locals are read with ``terraform console`` (what Terraform itself evaluates,
not a parse of the HCL text) in a copy of the module's *.tf files: ``terraform
init`` from the provider mirror, then one expression. It needs no AWS
credentials and no network (console reads no data source; these locals do not
depend on any) and takes a few seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from serverless_pypi import layout, publishers, uploadtoken
from tests.e2e.stack import (
    COMMAND_TIMEOUT,
    INIT_TIMEOUT,
    ROOT,
    run_terraform,
    terraform_binary,
    terraform_env,
)

LOCALS = (
    "notify_suffixes",
    "route_keys",
    "root_route_keys",
    "upload_route_keys",
    "ui_route_keys",
    "derived_prefix",
    "root_index",
    "users_file",
    "oidc_route_keys",
    "trust_file",
    "oidc_markers_prefix",
)
# The module's required variables; console checks their validation rules.
VARIABLES = {
    "api_id": "a1b2c3d4e5",
    "api_execution_arn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5",
    "s3_bucket_name": "my-pypi-bucket",
}


@pytest.fixture(scope="module")
def module_locals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The LOCALS of the module, as ``terraform console`` evaluates them."""
    workdir = tmp_path_factory.mktemp("module")
    for path in ROOT.glob("*.tf"):
        shutil.copy2(path, workdir / path.name)
    # The module reads its release (package/release.json) into the bucket's tags.
    (workdir / "package").mkdir()
    shutil.copy2(ROOT / "package" / "release.json", workdir / "package" / "release.json")
    lock = ROOT / ".terraform.lock.hcl"
    if lock.is_file():
        shutil.copy2(lock, workdir / lock.name)
    env = terraform_env()
    run_terraform(
        ["init", "-backend=false", "-input=false", "-no-color"],
        workdir,
        env,
        timeout=INIT_TIMEOUT,
    )
    # One expression, one line: console prints the JSON text as an HCL string.
    expression = "jsonencode({" + ", ".join(f"{name} = local.{name}" for name in LOCALS) + "})"
    variables = [f"-var={name}={value}" for name, value in VARIABLES.items()]
    result = _console(workdir, env, expression, variables)
    text = json.loads(result)
    assert isinstance(text, str), result
    values = json.loads(text)
    assert isinstance(values, dict), values
    assert set(values) == set(LOCALS), values
    return values


def _console(workdir: Path, env: dict[str, str], expression: str, variables: list[str]) -> str:
    """``terraform console`` (which reads its expression from stdin); its output."""
    try:
        completed = subprocess.run(
            [terraform_binary(), "console", "-no-color", *variables],
            cwd=workdir,
            env=env,
            input=expression + "\n",
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"`terraform console` timed out after {COMMAND_TIMEOUT} s") from error
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed.stdout.strip()


def test_the_notified_suffixes_are_layouts(module_locals: dict[str, Any]) -> None:
    assert sorted(module_locals["notify_suffixes"]) == sorted(layout.NOTIFY_SUFFIXES)


def test_the_routes_are_layouts(module_locals: dict[str, Any]) -> None:
    assert sorted(module_locals["route_keys"]) == sorted(layout.ROUTE_KEYS)
    assert sorted(module_locals["root_route_keys"]) == sorted(layout.ROOT_ROUTE_KEYS)


def test_the_upload_routes_are_layouts(module_locals: dict[str, Any]) -> None:
    assert sorted(module_locals["upload_route_keys"]) == sorted(layout.UPLOAD_ROUTE_KEYS)
    # Two route sets on one API: no key in both.
    assert not set(layout.UPLOAD_ROUTE_KEYS) & set(layout.ROUTE_KEYS)


def test_the_pages_routes_are_layouts(module_locals: dict[str, Any]) -> None:
    assert sorted(module_locals["ui_route_keys"]) == sorted(layout.UI_ROUTE_KEYS)
    assert not set(layout.UI_ROUTE_KEYS) & {*layout.ROUTE_KEYS, *layout.UPLOAD_ROUTE_KEYS}


def test_the_derived_prefix_and_root_page_are_layouts(module_locals: dict[str, Any]) -> None:
    assert module_locals["derived_prefix"] == layout.DERIVED_PREFIX
    assert module_locals["root_index"] == layout.ROOT_HTML


def test_the_users_file_is_layouts_and_at_the_root(module_locals: dict[str, Any]) -> None:
    assert module_locals["users_file"] == layout.USERS_FILE
    # At the root: the shared role reads keys with a slash only, the upload role too.
    assert "/" not in layout.USERS_FILE and layout.split_key(layout.USERS_FILE) is None


def test_the_trusted_publishing_routes_and_trust_file_are_the_codes(
    module_locals: dict[str, Any],
) -> None:
    assert sorted(module_locals["oidc_route_keys"]) == sorted(layout.OIDC_ROUTE_KEYS)
    assert module_locals["trust_file"] == publishers.TRUST_FILE
    assert module_locals["oidc_markers_prefix"] == uploadtoken.MARKERS_PREFIX
    assert "/" not in publishers.TRUST_FILE and layout.split_key(publishers.TRUST_FILE) is None
