"""The Terraform module applied for real, to moto's server: the session fixture ``stack``.

``examples/basic`` is applied (``terraform init`` + ``apply``) once per test session
against a moto server on 127.0.0.1, in a copy of the module under a temporary
directory; the repository is never written to. At the end of the session the bucket
is emptied (every object version) and the stack destroyed; a failed destroy fails
the run (an error in the fixture's teardown). A test under tests/e2e (``make e2e``):

    def test_something(stack: Stack) -> None:
        s3 = stack.client("s3")
        s3.put_object(Bucket=stack.bucket, Key="my-pkg/my_pkg-1.0.tar.gz", Body=b"...")
        with stack.environ(S3_BUCKET=stack.bucket):   # boto3 in this process -> moto
            ...
        subprocess.run(["aws", "s3", "ls"], env=stack.env, check=True)  # any AWS CLI/SDK

moto runs in its own process: the in-process ``mock_aws`` of the unit tests resets
moto's (process-global) backends, which would wipe a server in this process. moto
cannot run the Lambda code (no Docker): run the handlers in-process, configured as
the deployed functions are (``stack.function_environment(name)``).

Terraform reads its providers from this machine's mirror (scripts/terraform-cli-config.sh,
as the Makefile does). There is no skip: without terraform the tests fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path("examples") / "basic"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account

# Seconds. Terraform spends ~4 s loading the AWS provider's schema per command.
INIT_TIMEOUT = 120
APPLY_TIMEOUT = 300
COMMAND_TIMEOUT = 120
SERVER_TIMEOUT = 30

# Every service the module and the example use (the provider's endpoint names).
SERVICES = (
    "apigatewayv2",
    "cloudwatch",
    "cloudwatchlogs",
    "events",
    "iam",
    "kms",
    "lambda",
    "s3",
    "sns",
    "sqs",
    "sts",
)
# The module's alarms on (alarm_topic_arn), to a topic the test adds beside the
# example: an override file sets the module's input (examples/basic shows it as
# a comment), a file of its own declares the topic (overrides cannot add blocks).
ALARM_TOPIC = "serverless-pypi-test-alarms"
ALARMS_TOPIC_TF = f"""# Written by tests/e2e/stack.py: a topic for the module's alarms.
resource "aws_sns_topic" "alarms" {{
  name = "{ALARM_TOPIC}"
}}
"""
ALARMS_OVERRIDE_TF = """# Written by tests/e2e/stack.py: the module's alarms on, to the test's topic
# (created in the same configuration: create_alarms says so at plan time).
module "pypi" {
  alarm_topic_arn = aws_sns_topic.alarms.arn
  create_alarms   = true
}
"""
# The index's events on (event_bus_name), to a bus the test adds beside the
# example, in the same way.
EVENT_BUS = "serverless-pypi-test-events"
EVENT_BUS_TF = f"""# Written by tests/e2e/stack.py: a bus for the index's events.
resource "aws_cloudwatch_event_bus" "index" {{
  name = "{EVENT_BUS}"
}}
"""
EVENT_BUS_OVERRIDE_TF = """# Written by tests/e2e/stack.py: the index's events, to the test's bus.
module "pypi" {
  event_bus_name = aws_cloudwatch_event_bus.index.name
}
"""

# moto sends no notification for a delete on a versioned bucket, and the tests'
# deletions need theirs: the stack's bucket stays unversioned (its lifecycle rule,
# which examples/basic sets with versioning, is applied all the same).
UNVERSIONED_OVERRIDE_TF = """# Written by tests/e2e/stack.py: versioning off, for moto.
module "pypi" {
  s3_versioning = false
}
"""

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # No profile, config or credentials file of this machine's.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
# Settings that would send a client elsewhere than moto.
_CLEARED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def _clean_environ() -> dict[str, str]:
    """os.environ without what could send an AWS client elsewhere than moto."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in _CLEARED and not key.startswith("AWS_ENDPOINT_URL")
    }


class TerraformError(RuntimeError):
    """A terraform command failed or timed out."""


def terraform_binary() -> str:
    """The terraform executable; its absence is an error, never a skip."""
    found = shutil.which("terraform")
    if not found:
        raise TerraformError("terraform is not installed; the module tests need it")
    return found


def terraform_cli_config() -> str | None:
    """The CLI config naming this machine's provider mirror, as the Makefile exports it."""
    current = os.environ.get("TF_CLI_CONFIG_FILE", "")
    if current and Path(current).is_file():
        return current
    result = subprocess.run(
        [str(ROOT / "scripts" / "terraform-cli-config.sh"), str(ROOT / ".tfcli")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    path = result.stdout.strip()
    return path if path and Path(path).is_file() else None


def terraform_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ for a terraform command: non-interactive, with the provider mirror."""
    env = _clean_environ()
    env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
    env.pop("TF_CLI_CONFIG_FILE", None)
    config = terraform_cli_config()
    if config:
        env["TF_CLI_CONFIG_FILE"] = config
    env.update(extra or {})
    return env


def run_terraform(
    args: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = COMMAND_TIMEOUT,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform <args>`` in ``cwd``; raise TerraformError on failure when ``check``."""
    command = [terraform_binary(), *args]
    try:
        result = subprocess.run(
            command, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise TerraformError(f"`terraform {' '.join(args)}` timed out after {timeout} s") from error
    if check and result.returncode != 0:
        raise TerraformError(
            f"`terraform {' '.join(args)}` exited {result.returncode}\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """moto's server in a child process on a free loopback port; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = _clean_environ()
    env.update(FAKE_CREDENTIALS)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto's server did not start; see {log}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def provider_override(endpoint_url: str) -> str:
    """A Terraform override file pointing the example's provider at moto."""
    endpoints = "\n".join(f'    {service} = "{endpoint_url}"' for service in SERVICES)
    return f"""# Written by tests/e2e/stack.py: the example's provider, pointed at moto's server.
provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "{FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]}"
  secret_key                  = "{FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {{
{endpoints}
  }}
}}
"""


def copy_module(destination: Path) -> Path:
    """Copy the module (root *.tf, package/, examples/basic/) keeping its layout."""
    for path in ROOT.glob("*.tf"):
        shutil.copy2(path, destination / path.name)
    shutil.copytree(ROOT / "package", destination / "package")
    ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")
    shutil.copytree(ROOT / EXAMPLE, destination / EXAMPLE, ignore=ignore)
    return destination / EXAMPLE


@dataclass
class Stack:
    """examples/basic, applied to moto's server.

    Fields:
      endpoint_url  moto's server (http://127.0.0.1:<port>), every service on one URL
      region        the region everything lives in (us-east-1)
      workdir       the copied examples/basic: Terraform's working directory and state
      module_dir    the copied module root (workdir's ``source = "../../"``)
      outputs       ``terraform output -json`` of the example, name -> value (index_url,
                    bucket_name, api_id, sns_topic_arn, api_function_name,
                    reindex_function_name, dead_letter_queue_arn)
      env           environment for subprocesses (terraform, the AWS CLI, pip, uv ...):
                    fake credentials, AWS_ENDPOINT_URL = moto, the provider mirror
      timings       seconds each phase took (init, apply, destroy, ...)
      moto_log      moto's server log (requests and errors), for debugging
    """

    endpoint_url: str
    region: str
    workdir: Path
    module_dir: Path
    env: dict[str, str]
    outputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def moto_log(self) -> Path:
        return self.module_dir / "moto.log"

    @property
    def bucket(self) -> str:
        return str(self.outputs["bucket_name"])

    @property
    def index_url(self) -> str:
        """The URL the index would have on AWS (moto does not serve HTTP APIs)."""
        return str(self.outputs["index_url"])

    def terraform(
        self, *args: str, timeout: float = COMMAND_TIMEOUT, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``terraform <args>`` in the example's directory against moto."""
        started = time.monotonic()
        try:
            return run_terraform(args, self.workdir, self.env, timeout=timeout, check=check)
        finally:
            self.timings[args[0]] = round(time.monotonic() - started, 1)

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on moto's server, whatever the environment says."""
        session: Any = boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=self.region,
        )
        return session.client(service, endpoint_url=self.endpoint_url)

    def function_environment(self, function_name: str) -> dict[str, str]:
        """The environment variables of a deployed function, as Lambda would set them."""
        config = self.client("lambda").get_function_configuration(FunctionName=function_name)
        return dict(config.get("Environment", {}).get("Variables", {}))

    @contextlib.contextmanager
    def environ(self, **extra: str) -> Iterator[None]:
        """Point boto3 in this process at moto (plus ``extra`` variables); restore after."""
        wanted = {key: value for key, value in self.env.items() if key.startswith("AWS_")} | extra
        cleared = set(os.environ) - set(_clean_environ())
        saved = {key: os.environ.get(key) for key in {*wanted, *cleared}}
        try:
            for key in cleared:
                os.environ.pop(key, None)
            os.environ.update(wanted)
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def empty_bucket(self, bucket: str | None = None) -> None:
        """Delete every object version and delete marker, so that destroy can delete the bucket.

        Terraform would retry for ever on a versioned bucket that moto fails to delete.
        moto applies the bucket policy's TLS-only Deny to every object request (it does
        not evaluate aws:SecureTransport), so the policy goes first: destroy removes it
        anyway.
        """
        bucket = bucket or self.bucket
        s3 = self.client("s3")
        s3.delete_bucket_policy(Bucket=bucket)
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
            ]
            if doomed:
                result = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
                if result.get("Errors"):
                    raise RuntimeError(f"could not empty {bucket}: {result['Errors'][:3]}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """examples/basic applied to a fresh moto server, destroyed after the session."""
    with applied_stack(tmp_path_factory.mktemp("stack")) as applied:
        yield applied


# What the session's stack adds to examples/basic: an alarms topic, an event bus, an
# unversioned bucket (file name -> .tf text).
SESSION_FILES = {
    "alarms_topic.tf": ALARMS_TOPIC_TF,
    "alarms_override.tf": ALARMS_OVERRIDE_TF,
    "versioning_override.tf": UNVERSIONED_OVERRIDE_TF,
    "event_bus.tf": EVENT_BUS_TF,
    "event_bus_override.tf": EVENT_BUS_OVERRIDE_TF,
}


@contextlib.contextmanager
def applied_stack(
    base: Path,
    overrides: Mapping[str, str] | None = None,
    *,
    files: Mapping[str, str] = SESSION_FILES,
) -> Iterator[Stack]:
    """examples/basic, with ``files`` and ``overrides`` (file name -> .tf text)
    beside it, applied in ``base`` to a fresh moto server; destroyed at the end."""
    terraform_binary()
    workdir = copy_module(base)
    for name, text in {**files, **(overrides or {})}.items():
        (workdir / name).write_text(text)
    with moto_server(base / "moto.log") as endpoint_url:
        (workdir / "moto_override.tf").write_text(provider_override(endpoint_url))
        env = terraform_env({**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint_url})
        stack = Stack(endpoint_url, REGION, workdir, base, env)
        bucket = f"serverless-pypi-test-{uuid.uuid4().hex[:12]}"
        # In a tfvars file, so that every later command (plan, destroy, ...) has it.
        (workdir / "terraform.tfvars").write_text(f's3_bucket_name = "{bucket}"\n')
        stack.terraform("init", "-no-color", timeout=INIT_TIMEOUT)
        try:
            stack.terraform("apply", "-auto-approve", "-no-color", timeout=APPLY_TIMEOUT)
            output = stack.terraform("output", "-json", "-no-color")
            stack.outputs = {
                name: item["value"] for name, item in json.loads(output.stdout).items()
            }
            yield stack
        finally:
            # Tear down even after a failed apply, and fail loudly if it does not work.
            with contextlib.suppress(Exception):
                stack.empty_bucket(bucket)
            stack.terraform("destroy", "-auto-approve", "-no-color", timeout=APPLY_TIMEOUT)
            state = stack.terraform("state", "list", check=False)
            print(f"stack timings (s): {stack.timings}", file=sys.stderr)
            if state.returncode != 0 or state.stdout.strip():
                raise TerraformError(
                    f"destroy left resources behind:\n{state.stdout}{state.stderr}"
                )
