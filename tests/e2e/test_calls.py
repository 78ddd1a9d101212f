"""Every AWS call each function's code makes is one its deployed role allows.

moto answers any request its credentials make, whatever IAM says: an upload
function that lists the bucket works on moto and fails on AWS if its role may not
list. So the handlers run here, in-process, against the applied stack (examples/basic
on moto), doing what they do in Lambda (an upload, its reindex by event and by
listing, a yank, a removal, the pages, a fallback, a decision); every S3 and SSM
request they send, and each PutEvents of the reindexer's events, is recorded, and
each is evaluated against the policy Terraform deployed for that function, with the
evaluator of test_policies.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from serverless_pypi.api import App
from serverless_pypi.authorizer import Authorizer
from serverless_pypi.cli.userstore import UserStore
from serverless_pypi.config import ApiSettings, AuthSettings, ReindexSettings, UploadSettings
from serverless_pypi.eventbus import EventBus
from serverless_pypi.layout import USERS_FILE
from serverless_pypi.local.apigw_events import authorizer_event, build_event, multipart_form
from serverless_pypi.reindex import Reindexer
from serverless_pypi.s3http import S3Reader
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import SsmReader
from serverless_pypi.storage import Storage
from serverless_pypi.upload import Uploader
from tests.builders import wheel_bytes
from tests.conftest import s3_event
from tests.e2e.stack import ACCOUNT_ID, REGION, Stack
from tests.iam import allowed

KEYS = Credentials("testing", "testing")
Call = tuple[str, str, tuple[tuple[str, str], ...]]  # action, resource, condition keys


@dataclass
class Calls:
    """The IAM actions a function's requests need: (action, resource, context)."""

    bucket: str
    seen: list[Call] = field(default_factory=list)

    def s3(self, action: str, key: str | None = None, **context: str) -> None:
        resource = f"arn:aws:s3:::{self.bucket}" + (f"/{key}" if key is not None else "")
        self.seen.append((action, resource, tuple(sorted(context.items()))))

    def from_events(self, params: Mapping[str, Any], **_: Any) -> None:
        """A PutEvents call, as IAM authorizes it: once for each bus it names."""
        for bus in dict.fromkeys(entry["EventBusName"] for entry in params["Entries"]):
            self.seen.append(("events:PutEvents", bus, ()))

    def from_boto3(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        """A botocore operation, as IAM authorizes it."""
        name, key = model.name, params.get("Key")
        if name in ("GetObject", "HeadObject"):
            self.s3("s3:GetObject", key)
        elif name == "PutObject":
            condition = {"s3:if-none-match": "*"} if params.get("IfNoneMatch") else {}
            self.s3("s3:PutObject", key, **condition)
        elif name == "DeleteObject":
            self.s3("s3:DeleteObject", key)
        elif name == "ListObjectsV2":
            self.s3("s3:ListBucket", None, **{"s3:prefix": params.get("Prefix", "")})
        else:
            raise AssertionError(f"a call this test does not map to IAM: {name}")


def _storage(stack: Stack, calls: Calls) -> Storage:
    client = boto3.client("s3", endpoint_url=stack.endpoint_url, region_name=REGION)
    client.meta.events.register("before-parameter-build.s3", calls.from_boto3)
    return Storage(client, stack.bucket)


class RecordingReader(S3Reader):
    """The api's own S3 client, its requests recorded."""

    def __init__(self, stack: Stack, calls: Calls) -> None:
        super().__init__(stack.bucket, REGION, stack.endpoint_url, credentials=lambda: KEYS)
        self.calls = calls

    def _request(
        self, key: str | None, query: str, extra: Mapping[str, str], method: str = "GET"
    ) -> Any:
        if key is None:
            prefix = dict(urllib.parse.parse_qsl(query)).get("prefix", "")
            self.calls.s3("s3:ListBucket", None, **{"s3:prefix": prefix})
        else:
            self.calls.s3("s3:GetObject", key)  # S3 authorizes a HEAD as GetObject
        return super()._request(key, query, extra, method)


class RecordingSsm(SsmReader):
    """The authorizer's own SSM client, its requests recorded."""

    def __init__(self, stack: Stack, seen: list[Call]) -> None:
        super().__init__(REGION, stack.endpoint_url, credentials=lambda: KEYS)
        self.seen = seen

    def _call(self, target: str, request: dict[str, object]) -> tuple[int, bytes]:
        action = "ssm:" + target.rpartition(".")[2]
        name = str(request.get("Path") or request.get("Name"))
        self.seen.append((action, f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter{name}", ()))
        return super()._call(target, request)


def _function_arn(stack: Stack, output: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{stack.outputs[output]}"


def _refused(policy: Mapping[str, Any], calls: list[Call], function_arn: str) -> list[Call]:
    context = {"lambda:SourceFunctionArn": function_arn}
    return [
        call
        for call in dict.fromkeys(calls)
        if not allowed(policy, call[0], call[1], {**context, **dict(call[2])})
    ]


@pytest.fixture
def without_the_tls_policy(stack: Stack) -> Iterator[None]:
    """moto cannot evaluate the bucket policy's aws:SecureTransport and refuses every
    object request over plain HTTP: the policy is set aside while the handlers run."""
    s3 = stack.client("s3")
    policy = s3.get_bucket_policy(Bucket=stack.bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=stack.bucket)
    try:
        yield
    finally:
        stack.empty_bucket()  # (which sets the policy aside as well)
        s3.put_bucket_policy(Bucket=stack.bucket, Policy=policy)


def _upload(stack: Stack, calls: Calls, name: str, version: str) -> tuple[str, bytes]:
    filename, data = wheel_bytes(name, version)
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version,
        "filetype": "bdist_wheel",
        "sha256_digest": hashlib.sha256(data).hexdigest(),
    }
    body, content_type = multipart_form(fields, {"content": (filename, data)})
    event = build_event("POST", "/legacy/", [("Content-Type", content_type)], body)
    rights = {"user": "ci", "rights": "read,upload", "projects": "*"}
    event["requestContext"]["authorizer"] = {"lambda": rights}
    settings = UploadSettings(stack.bucket, fallback_index_url=None)
    answer = Uploader(settings, _storage(stack, calls))(event)
    assert answer["statusCode"] == 200, answer
    return filename, data


def test_the_upload_function_s_calls_are_all_allowed(
    stack: Stack, upload_policy: Mapping[str, Any], without_the_tls_policy: None
) -> None:
    calls = Calls(stack.bucket)
    with stack.environ():
        _upload(stack, calls, "calls-pkg", "1.0")
        # A second file of the project, now that it has a folder (and a manifest
        # once indexed): the checks look at every spelling of it.
        _upload(stack, calls, "calls-pkg", "1.1")
    assert {call[0] for call in calls.seen} >= {"s3:ListBucket", "s3:PutObject"}
    assert not _refused(upload_policy, calls.seen, _function_arn(stack, "upload_function_name"))


def test_the_reindex_function_s_calls_are_all_allowed(
    stack: Stack, role_policy: Mapping[str, Any], without_the_tls_policy: None
) -> None:
    setup, calls = Calls(stack.bucket), Calls(stack.bucket)
    with stack.environ():
        # Built from the deployed function's settings: its bus, too.
        environment = stack.function_environment(stack.outputs["reindex_function_name"])
        settings = ReindexSettings.from_env(environment)
        assert settings.event_bus is not None
        client = stack.client("events")
        client.meta.events.register("before-parameter-build.events.PutEvents", calls.from_events)
        bus = EventBus(client, settings.event_bus, stack.bucket)
        reindexer = Reindexer(settings, _storage(stack, calls), bus)
        first, _ = _upload(stack, setup, "calls-pkg", "1.0")
        reindexer(s3_event(("ObjectCreated:Put", f"calls-pkg/{first}"), bucket=stack.bucket))
        second, _ = _upload(stack, setup, "calls-pkg", "1.1")  # the incremental path
        head = stack.client("s3").head_object(Bucket=stack.bucket, Key=f"calls-pkg/{second}")
        event = s3_event(("ObjectCreated:Put", f"calls-pkg/{second}"), bucket=stack.bucket)
        message = json.loads(event["Records"][0]["Sns"]["Message"])
        message["Records"][0]["s3"]["object"].update(
            {"eTag": head["ETag"].strip('"'), "size": head["ContentLength"]}
        )
        event["Records"][0]["Sns"]["Message"] = json.dumps(message)
        reindexer(event)
        marker = f"calls-pkg/{first}.yanked"
        stack.client("s3").put_object(Bucket=stack.bucket, Key=marker, Body=b"broken")
        reindexer(s3_event(("ObjectCreated:Put", marker), bucket=stack.bucket))
        stack.client("s3").delete_object(Bucket=stack.bucket, Key=f"calls-pkg/{second}")
        reindexer(s3_event(("ObjectRemoved:Delete", f"calls-pkg/{second}"), bucket=stack.bucket))
    actions = {call[0] for call in calls.seen}
    assert actions >= {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "events:PutEvents"}
    refused = _refused(role_policy, calls.seen, _function_arn(stack, "reindex_function_name"))
    assert not refused


def test_the_api_function_s_calls_are_all_allowed(
    stack: Stack, role_policy: Mapping[str, Any], without_the_tls_policy: None
) -> None:
    setup, calls = Calls(stack.bucket), Calls(stack.bucket)
    with stack.environ():
        first, _ = _upload(stack, setup, "calls-pkg", "1.0")
        reindexer = Reindexer(ReindexSettings(stack.bucket), _storage(stack, setup))
        reindexer(s3_event(("ObjectCreated:Put", f"calls-pkg/{first}"), bucket=stack.bucket))
        settings = ApiSettings(bucket=stack.bucket, fallback_index_url="https://pypi.org/simple/")
        app = App(settings, RecordingReader(stack, calls))
        for path, status in [
            ("/simple/", 200),
            ("/simple/calls-pkg/", 200),
            (f"/simple/calls-pkg/{first}", 302),
            (f"/simple/calls-pkg/{first}.metadata", 200),
            ("/simple/never-held/", 302),  # the folders of every spelling, then the fallback
        ]:
            assert app(build_event("GET", path), None)["statusCode"] == status, path
    assert {call[0] for call in calls.seen} == {"s3:GetObject", "s3:ListBucket"}
    assert not _refused(role_policy, calls.seen, _function_arn(stack, "api_function_name"))


def test_the_authorizer_s_calls_are_all_allowed(
    stack: Stack, authorizer_policy: Mapping[str, Any], without_the_tls_policy: None
) -> None:
    """Before the users file exists (a deployment upgraded, no `user` command run
    since), and after `user sync` wrote it."""
    path = stack.outputs["users_ssm_path"]
    calls = Calls(stack.bucket)
    parameters_only = UserStore(stack.client("ssm"), path)
    token = parameters_only.add("calls", frozenset({"read"}))
    header = "Basic " + base64.b64encode(f"calls:{token}".encode()).decode()
    request = build_event("GET", "/simple/x/", [("Authorization", header)])
    event = authorizer_event(request, [header, "GET /simple/{proxy+}"])
    settings = AuthSettings(path, 0, stack.bucket)
    try:
        with stack.environ():
            before = RecordingSsm(stack, calls.seen), RecordingReader(stack, calls)
            assert Authorizer(settings, before[0], objects=before[1])(event)["isAuthorized"]
            assert {call[0] for call in calls.seen} == {"s3:GetObject", "ssm:GetParametersByPath"}
            bucket = Storage(stack.client("s3"), stack.bucket)
            UserStore(stack.client("ssm"), path, bucket=bucket).sync()
            after = Calls(stack.bucket)
            decide = Authorizer(
                settings, RecordingSsm(stack, after.seen), objects=RecordingReader(stack, after)
            )
            assert decide(event)["isAuthorized"]
    finally:
        parameters_only.remove("calls")
    users_file = f"arn:aws:s3:::{stack.bucket}/{USERS_FILE}"
    assert after.seen == [("s3:GetObject", users_file, ())]
    function = _function_arn(stack, "authorizer_function_name")
    assert not _refused(authorizer_policy, [*calls.seen, *after.seen], function)
