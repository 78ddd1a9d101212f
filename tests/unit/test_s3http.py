"""The api's own S3 client: its signatures must be exactly botocore's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials

from serverless_pypi import s3http
from serverless_pypi.objects import NOT_MODIFIED, Blob, StorageError
from tests.conftest import BUCKET

WHEN = datetime(2026, 11, 25, 10, 11, 12, tzinfo=UTC)
KEYS = [
    "my-pkg/my_pkg-1.0-py3-none-any.whl",
    "Other.Pkg/other_pkg-1.0+local.1-py3-none-any.whl",
    "odd folder/ä file~(1)*!'.tar.gz",
    ".serverless-pypi/metadata/x/y.whl.metadata",
]
CREDENTIALS = [
    s3http.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    s3http.Credentials("ASIAEXAMPLE", "secret/with+chars", "FwoGZXIvYXdz" + "x" * 600 + "=="),
]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: WHEN.replace(tzinfo=None))


def _botocore_client(credentials: s3http.Credentials, region: str, **options: Any) -> Any:
    return boto3.client(
        "s3",
        region_name=region,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
        config=Config(signature_version="s3v4", **options.pop("config", {})),
        **options,
    )


def _parts(url: str) -> tuple[str, str, str, dict[str, list[str]]]:
    split = urlsplit(url)
    return split.scheme, split.netloc, split.path, parse_qs(split.query)


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("credentials", CREDENTIALS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    ("bucket", "region", "endpoint", "style"),
    [
        ("my-index", "eu-west-1", None, "virtual"),
        ("my-index", "us-east-1", None, "virtual"),
        ("my.dotted.index", "eu-central-1", None, "path"),
        ("my-index", "us-east-1", "http://127.0.0.1:5000", "path"),
    ],
)
def test_presigned_urls_are_botocores(
    key: str,
    credentials: s3http.Credentials,
    method: str,
    bucket: str,
    region: str,
    endpoint: str | None,
    style: str,
) -> None:
    client = _botocore_client(
        credentials,
        region,
        endpoint_url=endpoint,
        config={"s3": {"addressing_style": style, "us_east_1_regional_endpoint": "regional"}},
    )
    operation = "head_object" if method == "HEAD" else "get_object"
    expected = client.generate_presigned_url(
        operation, Params={"Bucket": bucket, "Key": key}, ExpiresIn=900
    )
    ours = s3http.Signer(region).presign(
        s3http.Endpoint.for_bucket(bucket, region, endpoint), key, method, 900, credentials, WHEN
    )
    assert _parts(ours) == _parts(expected)


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("credentials", CREDENTIALS)
def test_request_signatures_are_botocores(key: str, credentials: s3http.Credentials) -> None:
    endpoint = s3http.Endpoint.for_bucket("my-index", "eu-west-1")
    ours = s3http.Signer("eu-west-1").headers(endpoint, key, "GET", credentials, WHEN)
    request = AWSRequest(method="GET", url=f"https://{endpoint.host}{endpoint.path(key)}")
    # Like ours, an unsigned payload (botocore hashes the empty body unless told).
    request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    boto = BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token)
    botocore.auth.S3SigV4Auth(boto, "s3", "eu-west-1").add_auth(request)
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours["x-amz-date"] == request.headers["X-Amz-Date"]


def test_reading_objects_from_s3(s3: Any, moto_url: str) -> None:
    s3.put_object(Bucket=BUCKET, Key="a/b c+d.json", Body=b"{}", Metadata={"files": "3"})
    reader = s3http.S3Reader(BUCKET, "us-east-1", moto_url)
    found = reader.get("a/b c+d.json")
    assert isinstance(found, Blob)
    assert found.body == b"{}"
    assert found.metadata == {"files": "3"}
    assert reader.get("a/b c+d.json", if_none_match=found.etag) is NOT_MODIFIED
    assert reader.get("a/missing") is None
    assert reader.requests == 3


def test_a_missing_bucket_is_an_error_not_an_empty_index(s3: Any, moto_url: str) -> None:
    reader = s3http.S3Reader("no-such-bucket", "us-east-1", moto_url)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        reader.get("anything")


def test_an_unreachable_endpoint_is_an_error_after_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3http, "_backoff", lambda attempt: None)
    reader = s3http.S3Reader(BUCKET, "us-east-1", "http://127.0.0.1:9")
    with pytest.raises(StorageError, match="could not be reached"):
        reader.get("x")


def test_credentials_come_from_the_environment() -> None:
    env = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_SESSION_TOKEN": "c"}
    assert s3http.environment_credentials(env) == s3http.Credentials("a", "b", "c")
    assert s3http.environment_credentials({"AWS_ACCESS_KEY_ID": "a"}) is None
