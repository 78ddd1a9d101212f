"""The api's own S3 client: its signatures must be exactly botocore's."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials

from serverless_pypi import s3http
from serverless_pypi.objects import NOT_MODIFIED, AccessDenied, AwsError, Blob
from serverless_pypi.retry import Backoff
from serverless_pypi.sigv4 import Credentials
from tests.conftest import BUCKET
from tests.unit.test_sigv4 import serving

WHEN = datetime(2026, 11, 25, 10, 11, 12, tzinfo=UTC)
KEYS = [
    "my-pkg/my_pkg-1.0-py3-none-any.whl",
    "Other.Pkg/other_pkg-1.0+local.1-py3-none-any.whl",
    "odd folder/ä file~(1)*!'.tar.gz",
    ".serverless-pypi/metadata/x/y.whl.metadata",
]
CREDENTIALS = [
    Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    Credentials("ASIAEXAMPLE", "secret/with+chars", "FwoGZXIvYXdz" + "x" * 600 + "=="),
]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: WHEN.replace(tzinfo=None))


def _botocore_client(credentials: Credentials, region: str, **options: Any) -> Any:
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
        ("my-index", "cn-north-1", None, "virtual"),
        ("my-index", "us-gov-west-1", None, "virtual"),
        ("my.dotted.index", "us-iso-east-1", None, "path"),
    ],
)
def test_presigned_urls_are_botocores(
    key: str,
    credentials: Credentials,
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
    reader = s3http.S3Reader(bucket, region, endpoint, lambda: credentials, lambda: WHEN)
    assert _parts(reader.presign(key, method, 900)) == _parts(expected)


class _Recorded:
    """A connection that records what it is asked and answers 200 with an empty body."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str, target: str, body: bytes | None, headers: Any) -> None:
        self.sent.append((method, target, headers))

    def getresponse(self) -> Any:
        return SimpleNamespace(status=200, read=lambda: b"", getheaders=list)


def _sent_by(reader: s3http.S3Reader) -> _Recorded:
    connection = _Recorded()
    reader.connections._local.connection = connection
    return connection


def _botocore_authorization(credentials: Credentials, url: str) -> dict[str, str]:
    request = AWSRequest(method="GET", url=url)
    # Like ours, an unsigned payload (botocore hashes the empty body unless told).
    request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    boto = BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token)
    botocore.auth.S3SigV4Auth(boto, "s3", "eu-west-1").add_auth(request)
    return dict(request.headers)


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("credentials", CREDENTIALS)
def test_request_signatures_are_botocores(key: str, credentials: Credentials) -> None:
    reader = s3http.S3Reader("my-index", "eu-west-1", None, lambda: credentials, lambda: WHEN)
    connection = _sent_by(reader)
    reader.get(key)
    [(method, target, ours)] = connection.sent
    assert (method, target) == ("GET", reader.endpoint.path(key))
    expected = _botocore_authorization(credentials, f"https://{reader.endpoint.host}{target}")
    assert ours["authorization"] == expected["Authorization"]
    assert ours["x-amz-date"] == expected["X-Amz-Date"]


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("credentials", CREDENTIALS)
@pytest.mark.parametrize("prefix", ["my-pkg/", "odd folder/ä", ""])
def test_listing_signatures_are_botocores(prefix: str, credentials: Credentials) -> None:
    reader = s3http.S3Reader("my-index", "eu-west-1", None, lambda: credentials, lambda: WHEN)
    connection = _sent_by(reader)
    reader.folders(prefix)
    reader.has_objects(prefix)
    assert len(connection.sent) == 2
    for _, target, ours in connection.sent:
        expected = _botocore_authorization(credentials, f"https://{reader.endpoint.host}{target}")
        assert ours["authorization"] == expected["Authorization"]


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
    with pytest.raises(AwsError, match="NoSuchBucket"):
        reader.get("anything")


def test_a_refused_get_is_access_denied_and_not_retried() -> None:
    """S3 answers 403 for a key the caller may not read, and for a missing one to a
    caller that may not list the bucket: the authorizer reads that as no users file."""
    refused = (403, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
    with serving([refused]) as served:
        keys = Credentials("testing", "testing")
        reader = s3http.S3Reader(BUCKET, "us-east-1", served.url, credentials=lambda: keys)
        with pytest.raises(AccessDenied, match="S3 answered 403 for a GET: AccessDenied"):
            reader.get(".serverless-pypi-users.json")
        reader.connections.drop()
    assert reader.requests == 1


def test_an_unreachable_endpoint_is_an_error_after_retries() -> None:
    reader = s3http.S3Reader(BUCKET, "us-east-1", "http://127.0.0.1:9")
    waits: list[float] = []
    reader.backoff = Backoff(attempts=3, sleep=waits.append)
    with pytest.raises(AwsError, match="S3 could not be reached"):
        reader.get("x")
    assert reader.requests == 3
    assert len(waits) == 2


def test_the_reader_reads_its_region_and_endpoint_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "cn-northwest-1")
    assert s3http.S3Reader.from_env("my-index").endpoint == s3http.Endpoint(
        "https", "my-index.s3.cn-northwest-1.amazonaws.com.cn", ""
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://localhost:5000/base/")
    reader = s3http.S3Reader.from_env("my-index")
    assert reader.endpoint == s3http.Endpoint("http", "localhost:5000", "/base/my-index")
    assert reader.signer.region == "cn-northwest-1"
