from __future__ import annotations

import base64
import json
import logging
import os
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from serverless_pypi import api, layout, reindex, release
from serverless_pypi.config import ApiSettings
from serverless_pypi.local.apigw_events import build_event, routes_prefix
from serverless_pypi.s3http import S3Reader
from serverless_pypi.storage import Storage, make_client

# The applied example module (`stack`), for the end-to-end tests.
pytest_plugins = ["tests.e2e.stack"]

BUCKET = "test-pypi-bucket"
EVENTS = Path(__file__).parent / "events"
# The routes the module creates (main.tf's route_keys, tied to layout.ROUTE_KEYS by
# tests/e2e/test_terraform_layout.py); the e2e tests read them back from AWS.
ROUTE_KEYS = list(layout.ROUTE_KEYS)

# Never reach a real AWS endpoint: fake credentials, a fixed region.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "FALLBACK_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's server on loopback: the api's own HTTP client and boto3 both talk to it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, moto_url: str) -> Iterator[Any]:
    """A fresh moto S3 with the index bucket, and handlers configured for it."""
    reset = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("S3_BUCKET", BUCKET)
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    # Tagged with this release, as the module tags its bucket (release.py).
    tags = release.THIS.tags().items()
    client.put_bucket_tagging(
        Bucket=BUCKET, Tagging={"TagSet": [{"Key": key, "Value": value} for key, value in tags]}
    )
    # The Lambda entry points build their handler from the environment once per
    # container; each test is a new container.
    api.default_app.cache_clear()
    reindex.default_reindexer.cache_clear()
    yield client
    api.default_app.cache_clear()
    reindex.default_reindexer.cache_clear()


@pytest.fixture
def storage(s3: Any) -> Storage:
    return Storage(make_client(), BUCKET)


def s3_event(*records: tuple[str, str], bucket: str = BUCKET) -> dict[str, Any]:
    """An SNS-wrapped S3 notification, shaped as AWS delivers it."""
    template = json.loads((EVENTS / "sns-s3-put.json").read_text())
    message = json.loads(template["Records"][0]["Sns"]["Message"])
    s3_records = []
    for event_name, key in records:
        record = json.loads(json.dumps(message["Records"][0]))
        record["eventName"] = event_name
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
        record["s3"]["object"]["key"] = key
        s3_records.append(record)
    template["Records"][0]["Sns"]["Message"] = json.dumps({"Records": s3_records})
    return dict(template)


def http_event(
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    stage: str = "$default",
    base: str = "",
    route_keys: Sequence[str] = ROUTE_KEYS,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event, as AWS sends it for the module's
    routes: on the execute-api URL (with ``stage`` in the path when it is not
    ``$default``) or behind a custom domain's API mapping ``base`` (``/pypi``).
    A path that no route matches gets ``$default``, as a catch-all route would."""
    sent = {"host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    return build_event(
        method,
        routes_prefix(stage, base) + path,
        sent.items(),
        source_ip="203.0.113.10",
        route_keys=route_keys,
        stage=stage,
        base=base,
    )


class Reply:
    """An api handler result, decoded."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.raw = result
        self.status: int = result["statusCode"]
        self.headers: dict[str, str] = result.get("headers", {})
        body = result.get("body", "")
        self.body: bytes = (
            base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        )

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class Get:
    """Sends API Gateway events to an api App made for the test bucket on moto."""

    def __init__(self, moto_url: str) -> None:
        self.moto_url = moto_url
        self.app = self.make()

    def make(self, bucket: str = BUCKET, **options: Any) -> api.App:
        """An App with these handler settings (as ``ApiSettings.from_options`` takes them)."""
        settings = ApiSettings.from_options(bucket, **options)
        return api.App(settings, S3Reader(bucket, "us-east-1", self.moto_url))

    def configure(self, **options: Any) -> None:
        self.app = self.make(**options)

    def __call__(self, path: str, method: str = "GET", **kwargs: Any) -> Reply:
        return Reply(self.app(http_event(path, method, **kwargs), None))

    @property
    def reader(self) -> S3Reader:
        assert isinstance(self.app.storage, S3Reader)
        return self.app.storage


@pytest.fixture
def get(s3: Any, moto_url: str) -> Get:
    return Get(moto_url)
