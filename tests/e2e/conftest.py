"""A private index on this machine, as the module deploys it with api_basic_auth:
users in (moto's) SSM, the authorizer and the upload function behind the stand-in
for API Gateway (``serverless_pypi.local.stand_in``), on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from serverless_pypi.authorizer import Authorizer
from serverless_pypi.config import AuthSettings, ReindexSettings, UploadSettings
from serverless_pypi.local import stand_in
from serverless_pypi.reindex import Reindexer
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import SsmReader
from serverless_pypi.storage import Storage
from serverless_pypi.upload import Uploader
from serverless_pypi.users import UserStore
from tests.clients import serving
from tests.conftest import BUCKET, Get, s3_event

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
    store = UserStore(boto3.client("ssm", region_name="us-east-1"), USERS_PATH)
    reader = store.add("dev", frozenset({"read"}))
    uploader = store.add("ci", frozenset({"read", "upload"}))
    parameters = SsmReader("us-east-1", moto_url, credentials=lambda: Credentials("t", "t"))
    clock = Clock()  # API Gateway's result cache and the authorizer's list of users
    server = stand_in(
        get.app,
        upload=Uploader(UploadSettings(BUCKET), storage),
        authorizer=Authorizer(AuthSettings(USERS_PATH, 0), parameters, clock),
        ttl=300,
        clock=clock,
    )
    with serving(server) as origin:
        yield PrivateIndex(origin, reader, uploader, store, s3, clock)
