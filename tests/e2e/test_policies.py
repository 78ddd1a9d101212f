"""What the deployed policies allow, evaluated request by request.

The documents are read back from the applied stack (the role_policy,
authorizer_policy and upload_policy fixtures of tests/e2e/conftest.py) and evaluated
with IAM's rules (tests/iam.py) for requests as each function, a leaked credential,
S3 or a stranger would make them, with the request's condition keys (If-None-Match
for an upload). moto does not evaluate these conditions, so the evaluator does, for
the operators the module uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from serverless_pypi.layout import ROOT_HTML, ROOT_JSON, USERS_FILE, manifest_key
from tests.e2e.stack import ACCOUNT_ID, REGION, Stack
from tests.iam import allowed, denied_explicitly


def _function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


def _parameter(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter{name}"


def _object(stack: Stack, key: str) -> str:
    return f"arn:aws:s3:::{stack.bucket}/{key}"


DISTRIBUTIONS = ["my-pkg/my_pkg-1.0-py3-none-any.whl", "My.Pkg/my_pkg-1.0.tar.gz"]
MARKER = "my-pkg/my_pkg-1.0-py3-none-any.whl.yanked"
# Where the reindexer writes (layout.py, which tests/e2e/test_terraform_layout.py ties to main.tf).
DERIVED = [manifest_key("my-pkg"), ROOT_JSON]
ROOT_OBJECTS = ["secret.pem", ROOT_HTML]
# A conditional PutObject's If-None-Match, as S3 reports it in the s3:if-none-match
# condition key (PutObject takes "*" only).
IF_NONE_MATCH = {"s3:if-none-match": "*"}
WRITES = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectAcl",
    "s3:PutObjectTagging",
    "s3:RestoreObject",
]


def test_the_api_function_cannot_write_or_delete_anything(
    stack: Stack, role_policy: Mapping[str, Any]
) -> None:
    api = {"lambda:SourceFunctionArn": _function_arn(stack.outputs["api_function_name"])}
    for key in [*DISTRIBUTIONS, MARKER, *DERIVED, *ROOT_OBJECTS]:
        for action in WRITES:
            assert not allowed(role_policy, action, _object(stack, key), api), (action, key)
    for action in ("s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutBucketNotification"):
        assert not allowed(role_policy, action, f"arn:aws:s3:::{stack.bucket}", api)


def test_the_api_function_reads_the_index_and_the_distributions_only(
    stack: Stack, role_policy: Mapping[str, Any]
) -> None:
    api = {"lambda:SourceFunctionArn": _function_arn(stack.outputs["api_function_name"])}
    for key in [*DISTRIBUTIONS, *DERIVED]:
        assert allowed(role_policy, "s3:GetObject", _object(stack, key), api), key
    # An object at the root (a stray private key) is out of reach, presigned or not.
    for key in ROOT_OBJECTS:
        assert not allowed(role_policy, "s3:GetObject", _object(stack, key), api), key
    # Listing lets S3 answer 404 (not 403) for a missing file.
    assert allowed(role_policy, "s3:ListBucket", f"arn:aws:s3:::{stack.bucket}", api)


def test_the_reindexer_writes_derived_data_only_and_deletes_nothing(
    stack: Stack, role_policy: Mapping[str, Any]
) -> None:
    reindex = {"lambda:SourceFunctionArn": _function_arn(stack.outputs["reindex_function_name"])}
    for key in [*DERIVED, ROOT_HTML]:
        assert allowed(role_policy, "s3:PutObject", _object(stack, key), reindex), key
    for key in [*DISTRIBUTIONS, MARKER, "secret.pem", f"my-pkg/{ROOT_HTML}"]:
        assert not allowed(role_policy, "s3:PutObject", _object(stack, key), reindex), key
    for key in [*DISTRIBUTIONS, MARKER, *DERIVED, *ROOT_OBJECTS]:
        for action in WRITES[1:]:
            assert not allowed(role_policy, action, _object(stack, key), reindex), (action, key)
    assert allowed(role_policy, "s3:GetObject", _object(stack, ROOT_HTML), reindex)
    assert not allowed(role_policy, "s3:GetObject", _object(stack, "secret.pem"), reindex)


def test_credentials_used_outside_the_functions_cannot_write(
    stack: Stack, role_policy: Mapping[str, Any]
) -> None:
    # Leaked role credentials carry no source function ARN (or another one).
    for context in ({}, {"lambda:SourceFunctionArn": _function_arn("someone-else")}):
        for key in [*DERIVED, ROOT_HTML]:
            assert not allowed(role_policy, "s3:PutObject", _object(stack, key), context)


def test_logs_go_to_the_modules_own_log_groups(
    stack: Stack, role_policy: Mapping[str, Any]
) -> None:
    for function in (stack.outputs["api_function_name"], stack.outputs["reindex_function_name"]):
        context = {"lambda:SourceFunctionArn": _function_arn(function)}
        own = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/{function}:log-stream:x"
        other = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/other:log-stream:x"
        assert allowed(role_policy, "logs:PutLogEvents", own, context)
        assert not allowed(role_policy, "logs:PutLogEvents", other, context)
        assert not allowed(role_policy, "logs:CreateLogGroup", own, context)


def test_the_authorizer_reads_the_users_by_their_path_and_nothing_else(
    stack: Stack, authorizer_policy: Mapping[str, Any]
) -> None:
    users = stack.outputs["users_ssm_path"]
    authorizer = {
        "lambda:SourceFunctionArn": _function_arn(stack.outputs["authorizer_function_name"])
    }
    # GetParametersByPath is authorized against the path asked for, with its last
    # slash or without.
    for path in (users, users.rstrip("/")):
        assert allowed(
            authorizer_policy, "ssm:GetParametersByPath", _parameter(path), authorizer
        ), path
    # Other paths: a sibling sharing its prefix, its parent, other apps'.
    for path in (users.rstrip("/") + "-admin/", users.rsplit("/", 2)[0] + "/", "/other-app/"):
        assert not allowed(
            authorizer_policy, "ssm:GetParametersByPath", _parameter(path), authorizer
        ), path
    # No reads by name (a name per request is what an unknown name must not cost),
    # no writes, no deletes.
    for action in (
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:DescribeParameters",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
        "ssm:LabelParameterVersion",
    ):
        assert not allowed(authorizer_policy, action, _parameter(users + "alice"), authorizer), (
            action
        )
    # No bucket, no key (the example uses the aws/ssm key, which needs none).
    for key in [*DISTRIBUTIONS, *DERIVED, *ROOT_OBJECTS]:
        for action in ("s3:GetObject", *WRITES):
            assert not allowed(authorizer_policy, action, _object(stack, key), authorizer)
    assert not allowed(
        authorizer_policy, "s3:ListBucket", f"arn:aws:s3:::{stack.bucket}", authorizer
    )
    key = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert not allowed(authorizer_policy, "kms:Decrypt", key, authorizer)


def test_the_authorizer_logs_to_its_own_log_group(
    stack: Stack, authorizer_policy: Mapping[str, Any]
) -> None:
    function = stack.outputs["authorizer_function_name"]
    context = {"lambda:SourceFunctionArn": _function_arn(function)}
    group = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda"
    assert allowed(
        authorizer_policy, "logs:PutLogEvents", f"{group}/{function}:log-stream:x", context
    )
    for other in (stack.outputs["api_function_name"], stack.outputs["reindex_function_name"]):
        assert not allowed(
            authorizer_policy, "logs:PutLogEvents", f"{group}/{other}:log-stream:x", context
        )
    assert not allowed(authorizer_policy, "logs:CreateLogGroup", f"{group}/{function}", context)


def test_the_other_functions_cannot_read_the_users(
    stack: Stack, role_policy: Mapping[str, Any]
) -> None:
    user = _parameter(stack.outputs["users_ssm_path"] + "alice")
    for function in (stack.outputs["api_function_name"], stack.outputs["reindex_function_name"]):
        context = {"lambda:SourceFunctionArn": _function_arn(function)}
        for action in ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"):
            assert not allowed(role_policy, action, user, context), (function, action)


def test_only_the_authorizer_reads_the_users_file(
    stack: Stack,
    role_policy: Mapping[str, Any],
    authorizer_policy: Mapping[str, Any],
    upload_policy: Mapping[str, Any],
) -> None:
    """Every user's hash is in one object at the bucket's root: the authorizer may read
    it, and neither the api, the reindexer nor the upload function may read, write or
    delete it; nor does the bucket policy let anyone."""
    users_file = _object(stack, USERS_FILE)
    outputs = stack.outputs
    authorizer = {"lambda:SourceFunctionArn": _function_arn(outputs["authorizer_function_name"])}
    assert allowed(authorizer_policy, "s3:GetObject", users_file, authorizer)
    for action in WRITES:
        assert not allowed(authorizer_policy, action, users_file, authorizer), action
    others = [
        (role_policy, outputs["api_function_name"]),
        (role_policy, outputs["reindex_function_name"]),
        (upload_policy, outputs["upload_function_name"]),
    ]
    bucket_policy = json.loads(stack.client("s3").get_bucket_policy(Bucket=stack.bucket)["Policy"])
    for policy, function in others:
        context = {
            "lambda:SourceFunctionArn": _function_arn(function),
            "aws:SecureTransport": "true",
        }
        for action in ("s3:GetObject", *WRITES):
            assert not allowed(policy, action, users_file, context), (function, action)
            assert not allowed(bucket_policy, action, users_file, context, principal=function)


def _upload_context(stack: Stack, **request: str) -> dict[str, str]:
    """A request as the upload function makes it, plus request condition keys."""
    return {
        "lambda:SourceFunctionArn": _function_arn(stack.outputs["upload_function_name"]),
        **request,
    }


def test_the_upload_function_adds_new_files_only(
    stack: Stack, upload_policy: Mapping[str, Any]
) -> None:
    conditional = _upload_context(stack, **IF_NONE_MATCH)
    unconditional = _upload_context(stack)
    for key in ["my-pkg/my_pkg-1.0.whl", "my-pkg/my_pkg-1.0.zip", *DISTRIBUTIONS]:
        assert allowed(upload_policy, "s3:PutObject", _object(stack, key), conditional), key
        # Without If-None-Match the write could replace a file that is there.
        assert not allowed(upload_policy, "s3:PutObject", _object(stack, key), unconditional), key
        assert not allowed(
            upload_policy, "s3:PutObject", _object(stack, key), {"s3:if-match": '"etag"'}
        ), key


def test_the_upload_function_writes_distributions_one_level_deep_only(
    stack: Stack, upload_policy: Mapping[str, Any]
) -> None:
    """`*` in an ARN matches "/": keys deeper than a folder are denied explicitly;
    nothing but wheels and sdists (no yank marker) is allowed."""
    conditional = _upload_context(stack, **IF_NONE_MATCH)
    for key in ["a/b/my_pkg-1.0.whl", "my-pkg/x/my_pkg-1.0.tar.gz", "a/b/c/d.zip"]:
        assert denied_explicitly(
            json.dumps(upload_policy), "s3:PutObject", _object(stack, key), conditional
        ), key
    for key in [MARKER, "my-pkg/index.html", "my-pkg/my_pkg-1.0.egg", "my-pkg/.whl.txt"]:
        assert not allowed(upload_policy, "s3:PutObject", _object(stack, key), conditional), key


def test_the_upload_function_cannot_touch_the_index_or_the_root(
    stack: Stack, upload_policy: Mapping[str, Any]
) -> None:
    conditional = _upload_context(stack, **IF_NONE_MATCH)
    # The derived data is the reindexer's alone: an explicit Deny, whatever the request.
    for key in [".serverless-pypi/projects/x.json", *DERIVED]:
        assert not allowed(upload_policy, "s3:PutObject", _object(stack, key), conditional), key
        assert denied_explicitly(
            json.dumps(upload_policy), "s3:PutObject", _object(stack, key), conditional
        ), key
    for key in ROOT_OBJECTS:  # index.html and any other key at the root
        assert not allowed(upload_policy, "s3:PutObject", _object(stack, key), conditional), key


def test_the_upload_function_reads_what_its_checks_need_and_deletes_nothing(
    stack: Stack, upload_policy: Mapping[str, Any]
) -> None:
    """Its checks: the folders spelled like the project (a listing), a file in
    another spelling of its folder and the project's manifest (HEAD, which S3
    authorizes as GetObject)."""
    conditional = _upload_context(stack, **IF_NONE_MATCH)
    bucket = f"arn:aws:s3:::{stack.bucket}"
    assert allowed(upload_policy, "s3:ListBucket", bucket, conditional)
    for key in [*DISTRIBUTIONS, manifest_key("my-pkg")]:
        assert allowed(upload_policy, "s3:GetObject", _object(stack, key), conditional), key
    for key in [MARKER, ROOT_JSON, *ROOT_OBJECTS, ".serverless-pypi/metadata/my-pkg/x.metadata"]:
        assert not allowed(upload_policy, "s3:GetObject", _object(stack, key), conditional), key
    for key in [*DISTRIBUTIONS, MARKER, *DERIVED, *ROOT_OBJECTS]:
        for action in WRITES[1:]:
            assert not allowed(upload_policy, action, _object(stack, key), conditional), (
                action,
                key,
            )
    for action in ("s3:DeleteBucket", "s3:PutBucketPolicy"):
        assert not allowed(upload_policy, action, bucket, conditional), action
    # Nor the users, nor a key (the example's bucket uses SSE-S3).
    user = _parameter(stack.outputs["users_ssm_path"] + "alice")
    assert not allowed(upload_policy, "ssm:GetParameter", user, conditional)
    key = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert not allowed(upload_policy, action, key, conditional), action


def test_the_upload_function_logs_to_its_own_log_group(
    stack: Stack, upload_policy: Mapping[str, Any]
) -> None:
    function = stack.outputs["upload_function_name"]
    context = _upload_context(stack)
    group = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda"
    assert allowed(upload_policy, "logs:PutLogEvents", f"{group}/{function}:log-stream:x", context)
    for other in (stack.outputs["api_function_name"], stack.outputs["authorizer_function_name"]):
        assert not allowed(
            upload_policy, "logs:PutLogEvents", f"{group}/{other}:log-stream:x", context
        )
    assert not allowed(upload_policy, "logs:CreateLogGroup", f"{group}/{function}", context)


def test_the_other_roles_gain_nothing_from_the_upload_route(
    stack: Stack, role_policy: Mapping[str, Any], authorizer_policy: Mapping[str, Any]
) -> None:
    # The shared role writes distributions for no one, If-None-Match or not.
    for function in (stack.outputs["api_function_name"], stack.outputs["reindex_function_name"]):
        context = {"lambda:SourceFunctionArn": _function_arn(function), **IF_NONE_MATCH}
        for key in DISTRIBUTIONS:
            assert not allowed(role_policy, "s3:PutObject", _object(stack, key), context)
    authorizer = {
        "lambda:SourceFunctionArn": _function_arn(stack.outputs["authorizer_function_name"]),
        **IF_NONE_MATCH,
    }
    for key in DISTRIBUTIONS:
        assert not allowed(authorizer_policy, "s3:PutObject", _object(stack, key), authorizer)


def test_only_this_bucket_can_publish_to_the_topic(stack: Stack) -> None:
    topic = stack.outputs["sns_topic_arn"]
    attributes = stack.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    policy = attributes["Policy"]
    s3 = "s3.amazonaws.com"
    bucket = f"arn:aws:s3:::{stack.bucket}"
    ours = {"aws:SourceArn": bucket, "aws:SourceAccount": ACCOUNT_ID}
    assert allowed(policy, "sns:Publish", topic, ours, principal=s3)
    for context in (
        {"aws:SourceArn": "arn:aws:s3:::somebody-elses-bucket", "aws:SourceAccount": ACCOUNT_ID},
        {"aws:SourceArn": bucket, "aws:SourceAccount": "999999999999"},
        {"aws:SourceArn": bucket},
        {},
    ):
        assert not allowed(policy, "sns:Publish", topic, context, principal=s3), context
    assert not allowed(policy, "sns:Publish", topic, ours, principal="sns.amazonaws.com")


def test_the_bucket_refuses_requests_without_tls(stack: Stack) -> None:
    # The e2e tests set the bucket policy aside while they run and put it back.
    policy = stack.client("s3").get_bucket_policy(Bucket=stack.bucket)["Policy"]
    key = _object(stack, DISTRIBUTIONS[0])
    for action in ("s3:GetObject", "s3:PutObject", "s3:ListBucket"):
        assert denied_explicitly(policy, action, key, {"aws:SecureTransport": "false"})
        assert not denied_explicitly(policy, action, key, {"aws:SecureTransport": "true"})


def test_the_evaluator_follows_iam_rules() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:writer"
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/derived/*",
                "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": arn}},
            },
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*/*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/derived/locked"},
        ]
    }
    writer = {"lambda:SourceFunctionArn": arn}
    assert allowed(policy, "s3:PutObject", "arn:aws:s3:::b/derived/x", writer)
    assert not allowed(policy, "s3:PutObject", "arn:aws:s3:::b/derived/x", {})
    assert not allowed(policy, "s3:PutObject", "arn:aws:s3:::b/other/x", writer)
    assert not allowed(policy, "s3:PutObject", "arn:aws:s3:::b/derived/locked", writer)
    assert allowed(policy, "s3:GetObject", "arn:aws:s3:::b/p/f.whl", {})
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::b/root.pem", {})
    assert not allowed(policy, "s3:DeleteObject", "arn:aws:s3:::b/p/f.whl", writer)
    # Action names are not case-sensitive; resource ARNs (S3 keys) are.
    assert allowed(policy, "S3:getobject", "arn:aws:s3:::b/p/f.whl", {})
    assert not allowed(policy, "s3:PutObject", "arn:aws:s3:::b/Derived/x", writer)
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::B/p/f.whl", {})
    upper = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*.whl"}]}
    assert not allowed(upper, "s3:GetObject", "arn:aws:s3:::b/p/F.WHL", {})
    # Null: "false" wants the key in the request, "true" wants it absent.
    present = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*/*"}
    conditional = {"Statement": [present | {"Condition": {"Null": {"s3:if-none-match": "false"}}}]}
    assert allowed(conditional, "s3:PutObject", "arn:aws:s3:::b/p/f.whl", {"s3:if-none-match": "*"})
    assert not allowed(conditional, "s3:PutObject", "arn:aws:s3:::b/p/f.whl", {})
    absent = {"Statement": [present | {"Condition": {"Null": {"s3:if-none-match": "true"}}}]}
    assert allowed(absent, "s3:PutObject", "arn:aws:s3:::b/p/f.whl", {})
    assert not allowed(absent, "s3:PutObject", "arn:aws:s3:::b/p/f.whl", {"s3:if-none-match": "*"})
