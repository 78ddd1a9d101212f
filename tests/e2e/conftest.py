"""A private index on this machine, as the module deploys it with api_basic_auth:
users in (moto's) SSM and the users file, the authorizer and the upload function behind the stand-in
for API Gateway (``serverless_pypi.local.stand_in``), on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from serverless_pypi.authorizer import Authorizer
from serverless_pypi.cli.userstore import UserStore
from serverless_pypi.config import AuthSettings, ReindexSettings, UploadSettings
from serverless_pypi.local import stand_in
from serverless_pypi.reindex import Reindexer
from serverless_pypi.s3http import S3Reader
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import SsmReader
from serverless_pypi.storage import Storage
from serverless_pypi.upload import Uploader
from tests.clients import serving
from tests.conftest import BUCKET, Get, s3_event
from tests.e2e.stack import Stack

USERS_PATH = "/serverless-pypi/users/"


@dataclass
class Clock:
    """The clock of the authorizer's result cache and list of users, moved on by the tests."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class PrivateIndex:
    origin: str  # http://127.0.0.1:<port>
    reader: str  # the token of "dev", who may read
    uploader: str  # the token of "ci", who may read and upload
    store: UserStore
    s3: Any
    clock: Clock = field(default_factory=Clock)

    @property
    def url(self) -> str:
        """The index URL without credentials."""
        return self.origin + "/simple/"

    @property
    def legacy(self) -> str:
        """The upload URL (PyPI's legacy API)."""
        return self.origin + "/legacy/"

    def with_user(self, user: str, secret: str) -> str:
        """The index URL with these credentials in it, as pip and uv take them."""
        return self.url.replace("http://", f"http://{user}:{secret}@")

    def reindex(self, *keys: str) -> None:
        """What the bucket notification does after an upload (moto runs no Lambda)."""
        reindexer = Reindexer(ReindexSettings(BUCKET), Storage(self.s3, BUCKET))
        reindexer(s3_event(*[("ObjectCreated:Put", key) for key in keys]), None)


@pytest.fixture
def private_index(s3: Any, storage: Storage, get: Get, moto_url: str) -> Iterator[PrivateIndex]:
    store = UserStore(boto3.client("ssm", region_name="us-east-1"), USERS_PATH, bucket=storage)
    reader = store.add("dev", frozenset({"read"}))
    uploader = store.add("ci", frozenset({"read", "upload"}))
    keys = Credentials("t", "t")
    parameters = SsmReader("us-east-1", moto_url, credentials=lambda: keys)
    objects = S3Reader(BUCKET, "us-east-1", moto_url, credentials=lambda: keys)
    clock = Clock()  # API Gateway's result cache and the authorizer's list of users
    settings = AuthSettings(USERS_PATH, 0, BUCKET)
    server = stand_in(
        get.app,
        upload=Uploader(UploadSettings(BUCKET), storage),
        authorizer=Authorizer(settings, parameters, clock, objects=objects),
        ttl=300,
        clock=clock,
    )
    with serving(server) as origin:
        yield PrivateIndex(origin, reader, uploader, store, s3, clock)


# -- the deployed roles' policies (examples/basic, applied on moto) ---------------


def _inline_policy(stack: Stack, function_output: str) -> Mapping[str, Any]:
    """The one inline policy of the role of the function the output names."""
    return function_policy(stack, stack.outputs[function_output])


def function_policy(stack: Stack, function: str) -> Mapping[str, Any]:
    """The one inline policy of the role of ``function``."""
    config = stack.client("lambda").get_function(FunctionName=function)["Configuration"]
    role = config["Role"].rsplit("/", 1)[-1]
    iam = stack.client("iam")
    [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def role_policy(stack: Stack) -> Mapping[str, Any]:
    """The permissions of the role the api and reindex functions share."""
    return _inline_policy(stack, "api_function_name")


@pytest.fixture(scope="module")
def authorizer_policy(stack: Stack) -> Mapping[str, Any]:
    """The permissions of the authorizer function's own role (examples/basic has api_basic_auth)."""
    return _inline_policy(stack, "authorizer_function_name")


@pytest.fixture(scope="module")
def upload_policy(stack: Stack) -> Mapping[str, Any]:
    """The permissions of the upload function's own role (examples/basic has the upload route)."""
    return _inline_policy(stack, "upload_function_name")
