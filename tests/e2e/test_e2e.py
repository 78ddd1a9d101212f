"""End to end: pip, uv and the AWS CLI against the wiring Terraform deployed.

examples/basic is applied to moto's server (the ``stack`` fixture). What it
deployed is read back over the AWS API: which function the HTTP API invokes,
which function the bucket's notifications reach through SNS, their handler
strings, their environment and their code. That code (checked by hash against
the deployed CodeSha256) runs here, since moto cannot run Lambda: the api
handler behind the local server, the reindex handler fed with the S3 -> SNS
notifications that moto emits, captured by an SQS queue subscribed to the
deployed topic. Nothing below restates the wiring by hand.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.builders import sdist_bytes, wheel_bytes, write
from tests.clients import isolated_env, serving, uv_pip
from tests.clients import pip as _pip
from tests.clients import pip_installed as _installed
from tests.clients import venv as _venv
from tests.conftest import ROUTE_KEYS
from tests.e2e.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "package" / "serverless-pypi.zip"
BIN = Path(sys.executable).parent
RUNNER = Path(__file__).with_name("lambda_runner.py")
BASE_PATH = "/pypi"  # an API mapping's base path on a custom domain
FUNCTION_ARN = re.compile(r"arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+")


def _tool(name: str) -> str:
    """A client from this virtualenv (installed by `make` from the dev extra); never skipped."""
    path = BIN / name
    assert path.exists(), f"{name} is missing from {BIN}: run `make venv`"
    return str(path)


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    environment: dict[str, str]
    code_sha256: str


def _function(stack: Stack, arn_or_name: str) -> Function:
    config = stack.client("lambda").get_function(FunctionName=arn_or_name)["Configuration"]
    return Function(
        config["FunctionName"],
        config["Handler"],
        dict(config.get("Environment", {}).get("Variables", {})),
        config["CodeSha256"],
    )


@dataclass
class Deployment:
    stack: Stack
    api: Function
    reindex: Function
    package_dir: Path
    bucket: str
    queue_url: str
    subscription_arn: str
    route_keys: list[str]
    authorizer: Function
    authorizer_ttl: int
    upload: Function
    upload_route_keys: list[str]
    index_url: str = ""  # without credentials
    fallback_url: str = ""
    user: str = ""
    token: str = ""
    uploader_token: str = ""  # the token of "e2e-ci", who may upload

    @property
    def authed_url(self) -> str:
        """The index URL with a reader's credentials, as pip and uv take it."""
        return self.index_url.replace("http://", f"http://{self.user}:{self.token}@")

    @property
    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.user}:{self.token}".encode()).decode()

    def runner_env(self, function: Function, **extra: str) -> dict[str, str]:
        """What Lambda gives the function: its variables and the role's credentials."""
        return {**self.stack.env, **function.environment, **extra}

    def aws(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [_tool("aws"), *args],
            env=self.stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"aws {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result

    def deliver(self, records: int) -> dict[str, Any]:
        """Wait for ``records`` S3 records on the capture queue; hand them to the reindexer."""
        sqs = self.stack.client("sqs")
        envelopes: list[dict[str, Any]] = []
        found = 0
        deadline = time.monotonic() + 30
        while found < records:
            assert time.monotonic() < deadline, f"only {found} of {records} notifications came"
            answer = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            for message in answer.get("Messages", []):
                envelope = json.loads(message["Body"])
                body = json.loads(envelope["Message"])
                found += len(body.get("Records", []))
                envelopes.append(envelope)
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        event = {"Records": [self._as_sns_record(envelope) for envelope in envelopes]}
        result = subprocess.run(
            [sys.executable, str(RUNNER), "invoke", str(self.package_dir), self.reindex.handler],
            input=json.dumps(event),
            env=self.runner_env(self.reindex),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    def _as_sns_record(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """An SQS-delivered SNS envelope, shaped as SNS hands it to a Lambda function."""
        renamed = {"SigningCertURL": "SigningCertUrl", "UnsubscribeURL": "UnsubscribeUrl"}
        sns = {renamed.get(key, key): value for key, value in envelope.items()}
        sns.setdefault("MessageAttributes", {})
        return {
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": self.subscription_arn,
            "Sns": sns,
        }


def _add_user(deployment: Deployment, name: str, *flags: str) -> str:
    """`serverless-pypi user add` under the deployed authorizer's users path, and in
    the users file of the bucket it reads; the token."""
    path = deployment.authorizer.environment["USERS_PATH"]
    bucket = deployment.authorizer.environment["S3_BUCKET"]
    added = subprocess.run(
        [
            *[sys.executable, "-m", "serverless_pypi", "user", "add", name, *flags],
            *["--path", path, "--bucket", bucket],
        ],
        env=deployment.stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return added.stdout.splitlines()[-1]


# -- the distributions ----------------------------------------------------------


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small dependency chain, and what only the fallback index has."""
    out = tmp_path_factory.mktemp("dist")
    built = {
        "a1": wheel_bytes("chain-a", "1.0", requires=["chain-b>=1.0"], requires_python=">=3.8"),
        # A newer release for a Python that does not exist: resolution must skip it.
        "a2": wheel_bytes("chain-a", "2.0", requires=["chain-b>=1.0"], requires_python=">=4"),
        "b1": wheel_bytes("Chain_B", "1.0", requires=["chain-c"]),
        "c1": sdist_bytes("chain-c", "1.0", requires_python=">=3.8"),
    }
    return {label: write(out, item) for label, item in built.items()}


@pytest.fixture(scope="module")
def fallback_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second index on loopback: a public-only project and a squatted private name."""
    root = tmp_path_factory.mktemp("fallback")
    for project, version in (("public-only", "1.0"), ("chain-a", "99.0"), ("retired", "5.0")):
        folder = root / "simple" / project
        folder.mkdir(parents=True)
        name, data = wheel_bytes(project, version)
        (folder / name).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        (folder / "index.html").write_text(f'<a href="{name}#sha256={digest}">{name}</a>\n')
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as origin:
        yield f"{origin}/simple/"


# -- reading the deployment back --------------------------------------------------


@pytest.fixture(scope="module")
def deployment(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    api_id = stack.outputs["api_id"]
    integrations = stack.client("apigatewayv2").get_integrations(ApiId=api_id)["Items"]
    routes = stack.client("apigatewayv2").get_routes(ApiId=api_id)["Items"]
    # Each integration with the route keys that lead to it: the api's and the upload's.
    keys_of = {
        item["IntegrationId"]: sorted(
            route["RouteKey"]
            for route in routes
            if route.get("Target") == f"integrations/{item['IntegrationId']}"
        )
        for item in integrations
    }
    [integration] = [
        item for item in integrations if "GET /simple" in keys_of[item["IntegrationId"]]
    ]
    [upload_integration] = [item for item in integrations if item is not integration]
    route_keys = keys_of[integration["IntegrationId"]]
    upload_route_keys = keys_of[upload_integration["IntegrationId"]]
    api = _function(stack, FUNCTION_ARN.search(integration["IntegrationUri"])[0])  # type: ignore[index]
    upload = _function(stack, FUNCTION_ARN.search(upload_integration["IntegrationUri"])[0])  # type: ignore[index]
    # Every route of the module has the built-in authorizer (examples/basic turns it on).
    authorizer_ids = {item.get("AuthorizerId") for item in routes}
    assert {item.get("AuthorizationType") for item in routes} == {"CUSTOM"}
    [authorizer_id] = authorizer_ids
    found = stack.client("apigatewayv2").get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    assert found["IdentitySource"] == ["$request.header.Authorization", "$context.routeKey"]
    authorizer = _function(stack, FUNCTION_ARN.search(found["AuthorizerUri"])[0])  # type: ignore[index]

    s3 = stack.client("s3")
    bucket = api.environment["S3_BUCKET"]
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    [topic_arn] = {item["TopicArn"] for item in notification["TopicConfigurations"]}
    sns = stack.client("sns")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    [lambda_subscription] = [item for item in subscriptions if item["Protocol"] == "lambda"]
    reindex = _function(stack, lambda_subscription["Endpoint"])

    # The deployed code is this repository's package, byte for byte.
    package = PACKAGE.read_bytes()
    digest = base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert {api.code_sha256, reindex.code_sha256, authorizer.code_sha256, upload.code_sha256} == {
        digest
    }
    package_dir = tmp_path_factory.mktemp("deployed-package")
    with zipfile.ZipFile(PACKAGE) as archive:
        archive.extractall(package_dir)

    sqs = stack.client("sqs")
    queue_url = sqs.create_queue(QueueName="e2e-capture")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    # moto quirk: it cannot evaluate the bucket policy's aws:SecureTransport
    # condition and so applies its Deny to every object request. On AWS that
    # statement refuses only plain-HTTP requests (its own test checks it).
    # The policy is set aside while the clients run and put back afterwards.
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        yield Deployment(
            stack,
            api,
            reindex,
            package_dir,
            bucket,
            queue_url,
            lambda_subscription["SubscriptionArn"],
            route_keys,
            authorizer,
            int(found["AuthorizerResultTtlInSeconds"]),
            upload,
            upload_route_keys,
        )
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)


@pytest.fixture(scope="module")
def index(
    deployment: Deployment, dists: dict[str, Path], fallback_index: str
) -> Iterator[Deployment]:
    """Distributions uploaded with `aws s3 cp`, indexed, served through the local server."""
    folders = {"a1": "chain-a", "a2": "chain-a", "b1": "Chain_B", "c1": "chain-c"}
    for label, folder in folders.items():
        deployment.aws("s3", "cp", str(dists[label]), f"s3://{deployment.bucket}/{folder}/")
    result = deployment.deliver(records=len(folders))
    assert sorted(result["projects"]) == ["chain-a", "chain-b", "chain-c"]

    # A reader and an uploader, made as the README says, under the deployed
    # authorizer's users path, before it serves: it reads the users once per
    # authorizer_user_cache_seconds.
    deployment.user, deployment.token = "e2e", _add_user(deployment, "e2e")
    deployment.uploader_token = _add_user(deployment, "e2e-ci", "--upload")
    # The deployed FALLBACK_INDEX_URL (the api's and the upload function's) points at
    # pypi.org, out of reach here: the loopback index stands in for it. Everything
    # else is the deployed setting; the authorizer and the upload function run in
    # the same process with their own variables beside the api's.
    env = {
        **deployment.runner_env(deployment.api),
        **deployment.authorizer.environment,
        **deployment.upload.environment,
        "FALLBACK_INDEX_URL": fallback_index,
    }
    # The clients go through a stand-in for API Gateway behind a custom domain
    # mapped at BASE_PATH, with the routes Terraform created.
    process = subprocess.Popen(
        [
            sys.executable,
            str(RUNNER),
            "serve",
            str(deployment.package_dir),
            deployment.api.handler,
            json.dumps(deployment.route_keys),
            BASE_PATH,
            deployment.authorizer.handler,
            str(deployment.authorizer_ttl),
            deployment.upload.handler,
            json.dumps(deployment.upload_route_keys),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        deployment.index_url = process.stdout.readline().strip() + BASE_PATH + "/simple/"
        deployment.fallback_url = fallback_index
        yield deployment
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- real clients -----------------------------------------------------------------


def test_pip_installs_the_chain_honouring_requires_python(
    index: Deployment, tmp_path: Path
) -> None:
    python = _venv(tmp_path / "venv")
    _pip(python, "install", "--index-url", index.authed_url, "chain-a")
    installed = _installed(python)
    assert installed["chain-a"] == "1.0"  # 2.0 needs Python >= 4
    assert installed["chain-b"] == "1.0"
    assert installed["chain-c"] == "1.0"  # built from the sdist
    probe = "import chain_a, chain_b, chain_c; print(chain_a.__version__)"
    out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1.0"


def test_pip_download_with_required_hashes(
    index: Deployment, dists: dict[str, Path], tmp_path: Path
) -> None:
    python = _venv(tmp_path / "venv")
    wheel = dists["b1"]
    good = hashlib.sha256(wheel.read_bytes()).hexdigest()
    requirements = tmp_path / "requirements.txt"

    def download(digest: str, destination: Path) -> subprocess.CompletedProcess[str]:
        requirements.write_text(f"chain-b==1.0 --hash=sha256:{digest}\n")
        return _pip(python, "download", "--no-deps", "--require-hashes", "-r",
                    str(requirements), "--index-url", index.authed_url, "-d", str(destination),
                    check=False)  # fmt: skip

    assert download(good, tmp_path / "good").returncode == 0
    assert (tmp_path / "good" / wheel.name).read_bytes() == wheel.read_bytes()
    failed = download("0" * 64, tmp_path / "bad")
    assert failed.returncode != 0
    assert "DO NOT MATCH THE HASHES" in failed.stdout + failed.stderr


def test_the_sdist_and_a_non_normalized_name(
    index: Deployment, dists: dict[str, Path], tmp_path: Path
) -> None:
    python = _venv(tmp_path / "venv")
    out = tmp_path / "downloads"
    _pip(
        python,
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--index-url",
        index.authed_url,
        "-d",
        str(out),
        "Chain.C==1.0",
    )
    assert (out / dists["c1"].name).read_bytes() == dists["c1"].read_bytes()
    _pip(python, "install", "--index-url", index.authed_url, "CHAIN_b")
    assert _installed(python)["chain-b"] == "1.0"


def test_uv_installs_through_the_json_api(index: Deployment, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    result = uv_pip(_tool("uv"), python, "install", "--index-url", index.authed_url, "chain-a")
    assert result.returncode == 0, result.stderr
    installed = _installed(python)
    assert (installed["chain-a"], installed["chain-b"], installed["chain-c"]) == ("1.0",) * 3


def test_the_deployed_routes_behind_a_base_path(index: Deployment) -> None:
    """Every request the clients make matched one of the routes Terraform created
    (the tests above); these are the ones around them."""
    assert index.route_keys == sorted(ROUTE_KEYS)
    origin = index.index_url.removesuffix(BASE_PATH + "/simple/")

    def fetch(path: str, method: str = "GET", auth: bool = True) -> tuple[int, str, str]:
        headers = {"Authorization": index.authorization} if auth else {}
        request = urllib.request.Request(origin + path, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode()

    for start in (BASE_PATH, BASE_PATH + "/", BASE_PATH + "/simple"):
        status, url, body = fetch(start)
        assert (status, url) == (200, index.index_url), start
        assert 'href="chain-a/"' in body
    assert fetch(BASE_PATH + "/simple/", "HEAD")[0] == 200
    assert fetch("/simple/")[:2] == (404, origin + "/simple/")  # outside the mapping
    status, _, body = fetch(BASE_PATH + "/other")  # no such route: API Gateway's 404
    assert (status, body) == (404, '{"message":"Not Found"}')


def test_the_deployed_authorizer_guards_every_route(index: Deployment, tmp_path: Path) -> None:
    """No credentials: 401; wrong ones: 403; pip with a netrc file gets in."""
    origin = index.index_url.removesuffix(BASE_PATH + "/simple/")

    def status(path: str, header: str | None) -> int:
        headers = {"Authorization": header} if header else {}
        request = urllib.request.Request(origin + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    wrong = "Basic " + base64.b64encode(f"{index.user}:not-it".encode()).decode()
    for path in (BASE_PATH + "/simple/", BASE_PATH + "/simple/chain-a/", BASE_PATH + "/"):
        assert status(path, None) == 401, path
        assert status(path, wrong) == 403, path
        assert status(path, index.authorization) in (200, 301), path
    python = _venv(tmp_path / "venv")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin {index.user}\npassword {index.token}\n")
    out = tmp_path / "out"
    result = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-d",
            str(out),
            "--index-url",
            index.index_url,
            "chain-c",
        ],
        env=isolated_env({"NETRC": str(netrc)}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert [path.name for path in out.iterdir()] == ["chain_c-1.0.tar.gz"]


def test_a_project_only_the_fallback_has(index: Deployment, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    _pip(python, "install", "--index-url", index.authed_url, "public-only")
    assert _installed(python)["public-only"] == "1.0"


def test_the_private_project_wins_over_a_higher_public_version(
    index: Deployment, tmp_path: Path
) -> None:
    python = _venv(tmp_path / "venv")
    out = tmp_path / "downloads"
    _pip(
        python, "download", "--no-deps", "--index-url", index.authed_url, "-d", str(out), "chain-a"
    )
    assert [path.name for path in out.iterdir()] == ["chain_a-1.0-py3-none-any.whl"]
    result = uv_pip(_tool("uv"), python, "install", "--index-url", index.authed_url, "chain-a>=3")
    assert result.returncode != 0  # 99.0 exists only on the public index: never offered


def test_yanking_with_a_marker_object(
    index: Deployment, dists: dict[str, Path], tmp_path: Path
) -> None:
    reason = tmp_path / "reason.txt"
    reason.write_text("broken build")
    marker = f"s3://{index.bucket}/chain-a/{dists['a1'].name}.yanked"
    index.aws("s3", "cp", str(reason), marker)
    index.deliver(records=1)
    python = _venv(tmp_path / "venv")
    # pip passes over a yanked release unless it is pinned, and then says why (PEP 592).
    unpinned = _pip(
        python, "install", "--no-deps", "--index-url", index.authed_url, "chain-a", check=False
    )
    assert unpinned.returncode != 0
    pinned = _pip(python, "install", "--no-deps", "--index-url", index.authed_url, "chain-a==1.0")
    assert "Reason for being yanked: broken build" in pinned.stdout + pinned.stderr
    index.aws("s3", "rm", marker)
    index.deliver(records=1)
    result = _pip(
        python,
        "install",
        "--force-reinstall",
        "--no-deps",
        "--index-url",
        index.authed_url,
        "chain-a",
    )
    assert "yanked" not in (result.stdout + result.stderr).lower()


def test_aws_s3_rm_removes_a_file_from_the_index(
    index: Deployment, dists: dict[str, Path], tmp_path: Path
) -> None:
    index.aws("s3", "rm", f"s3://{index.bucket}/chain-a/{dists['a2'].name}")
    index.deliver(records=1)
    python = _venv(tmp_path / "venv")
    result = _pip(
        python,
        "download",
        "--no-deps",
        "--ignore-requires-python",
        "--index-url",
        index.authed_url,
        "-d",
        str(tmp_path / "out"),
        "chain-a==2.0",
        check=False,
    )
    assert result.returncode != 0
    assert "No matching distribution found for chain-a==2.0" in result.stderr
    with contextlib.suppress(FileNotFoundError):
        assert not list((tmp_path / "out").iterdir())


def test_a_project_emptied_with_aws_s3_rm_keeps_its_name(index: Deployment, tmp_path: Path) -> None:
    """The fallback index has a "retired" 5.0; the private one is removed file by file."""
    python = _venv(tmp_path / "venv")
    wheel = write(tmp_path, wheel_bytes("retired", "1.0"))
    index.aws("s3", "cp", str(wheel), f"s3://{index.bucket}/retired/")
    index.deliver(records=1)

    def download(destination: Path) -> subprocess.CompletedProcess[str]:
        return _pip(python, "download", "--no-deps", "--index-url", index.authed_url,
                    "-d", str(destination), "retired", check=False)  # fmt: skip

    assert download(tmp_path / "private").returncode == 0
    assert [path.name for path in (tmp_path / "private").iterdir()] == [wheel.name]

    index.aws("s3", "rm", f"s3://{index.bucket}/retired/{wheel.name}")
    index.deliver(records=1)
    emptied = download(tmp_path / "emptied")
    assert emptied.returncode != 0
    assert "No matching distribution found for retired" in emptied.stderr
    assert not (tmp_path / "emptied").exists() or not list((tmp_path / "emptied").iterdir())

    # Handing the name over on purpose, as the README says.
    index.aws("s3", "rm", f"s3://{index.bucket}/.serverless-pypi/projects/retired.json")
    assert download(tmp_path / "public").returncode == 0
    assert [path.name for path in (tmp_path / "public").iterdir()] == [
        "retired-5.0-py3-none-any.whl"
    ]


def test_twine_publishes_through_the_deployed_upload_route(
    index: Deployment, tmp_path: Path
) -> None:
    """A user with the upload right, made as the README says; twine through the
    deployed routes and authorizer; the notification indexes it; pip installs it."""
    token = index.uploader_token
    built = write(tmp_path, wheel_bytes("published", "1.0"))
    upload_url = index.index_url.removesuffix("simple/") + "legacy/"
    twine = [
        str(BIN / "twine"),
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
        upload_url,
        str(built),
    ]
    refused = subprocess.run(
        [*twine, "-u", index.user, "-p", index.token],
        env=isolated_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "403" in refused.stdout + refused.stderr  # a reader
    result = subprocess.run(
        [*twine, "-u", "e2e-ci", "-p", token],
        env=isolated_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert index.deliver(records=1)["projects"] == ["published"]
    python = _venv(tmp_path / "venv")
    _pip(python, "install", "--index-url", index.authed_url, "published")
    assert _installed(python)["published"] == "1.0"
