"""The module's wiring, read back over the AWS API after `terraform apply` on moto.

The ``stack`` fixture (tests/e2e/stack.py) applies examples/basic once per session and
destroys it at the end; these tests only read.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from typing import Any

from serverless_pypi import layout, release
from serverless_pypi.cli import version
from serverless_pypi.names import DISTRIBUTION_SUFFIXES
from tests.e2e.stack import ACCOUNT_ID, ALARM_TOPIC, EVENT_BUS, Stack
from tests.package import build_script

NAME = "serverless-pypi"
API_FUNCTION = f"{NAME}-api"
REINDEX_FUNCTION = f"{NAME}-reindex"
# examples/basic turns on the module's HTTP Basic authorizer (api_basic_auth).
AUTHORIZER_FUNCTION = f"{NAME}-authorizer"
AUTHORIZER_ROLE = AUTHORIZER_FUNCTION
USERS_PATH = f"/{NAME}/users/"
# Behind that authorizer, the upload route (api_upload_route, true by default).
UPLOAD_FUNCTION = f"{NAME}-upload"
UPLOAD_ROLE = UPLOAD_FUNCTION
# main.tf's notify_suffixes, route_keys and upload_route_keys
# (tests/e2e/test_terraform_layout.py ties them).
SUFFIXES = set(layout.NOTIFY_SUFFIXES)
ROUTE_KEYS = set(layout.ROUTE_KEYS)
UPLOAD_ROUTE_KEYS = set(layout.UPLOAD_ROUTE_KEYS)


def _function_arn(stack: Stack, name: str) -> str:
    return f"arn:aws:lambda:{stack.region}:{ACCOUNT_ID}:function:{name}"


def _statements(policy: str | dict[str, Any]) -> list[dict[str, Any]]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- the bucket ------------------------------------------------------------------


def test_bucket_blocks_public_access(stack: Stack) -> None:
    s3 = stack.client("s3")
    block = s3.get_public_access_block(Bucket=stack.bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    rules = s3.get_bucket_ownership_controls(Bucket=stack.bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_bucket_is_encrypted_and_expires_what_is_no_longer_current(stack: Stack) -> None:
    s3 = stack.client("s3")
    rules = s3.get_bucket_encryption(Bucket=stack.bucket)["ServerSideEncryptionConfiguration"]
    [rule] = rules["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # Unversioned by the stack's override (see stack.py); examples/basic turns it on.
    assert s3.get_bucket_versioning(Bucket=stack.bucket).get("Status") is None
    [lifecycle] = s3.get_bucket_lifecycle_configuration(Bucket=stack.bucket)["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert lifecycle["Expiration"] == {"ExpiredObjectDeleteMarker": True}


def test_bucket_is_tagged_with_the_release_deployed(stack: Stack) -> None:
    """package/release.json, as main.tf reads it, is this code's release; the command
    line finds it and has nothing to say."""
    s3 = stack.client("s3")
    tags = {
        tag["Key"]: tag["Value"] for tag in s3.get_bucket_tagging(Bucket=stack.bucket)["TagSet"]
    }
    # The stack sends the index's events: the tags name the bus for the command line.
    bus = f"arn:aws:events:{stack.region}:{ACCOUNT_ID}:event-bus/{EVENT_BUS}"
    assert tags == {**release.THIS.tags(), "serverless-pypi:event-bus": bus}
    said = io.StringIO()
    version.check_bucket(stack.bucket, client=s3, stream=said)
    assert said.getvalue() == ""


def test_bucket_policy_denies_requests_without_tls(stack: Stack) -> None:
    policy = stack.client("s3").get_bucket_policy(Bucket=stack.bucket)["Policy"]
    [statement] = _statements(policy)
    arn = f"arn:aws:s3:::{stack.bucket}"
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert set(_as_list(statement["Resource"])) == {arn, f"{arn}/*"}
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# -- bucket -> topic -> reindex function ---------------------------------------------


def test_bucket_notifies_the_topic_for_distributions_and_markers(stack: Stack) -> None:
    config = stack.client("s3").get_bucket_notification_configuration(Bucket=stack.bucket)
    assert not config.get("LambdaFunctionConfigurations")
    assert not config.get("QueueConfigurations")
    topics = config["TopicConfigurations"]
    assert len(topics) == len(SUFFIXES)
    suffixes = set()
    for topic in topics:
        assert topic["TopicArn"] == stack.outputs["sns_topic_arn"]
        assert set(topic["Events"]) == {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}
        [rule] = topic["Filter"]["Key"]["FilterRules"]
        assert rule["Name"].lower() == "suffix"
        suffixes.add(rule["Value"])
    assert suffixes == SUFFIXES
    # Nothing the reindexer writes ever notifies (it would reindex for ever).
    derived = [
        layout.ROOT_HTML,
        layout.ROOT_JSON,
        layout.manifest_key("my-pkg"),
        layout.metadata_key("my-pkg", "my_pkg-1.0-py3-none-any.whl"),
    ]
    assert not [key for key in derived if key.endswith(tuple(suffixes))]


def test_only_the_bucket_may_publish_to_the_topic(stack: Stack) -> None:
    attributes = stack.client("sns").get_topic_attributes(TopicArn=stack.outputs["sns_topic_arn"])
    [statement] = _statements(attributes["Attributes"]["Policy"])
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == stack.outputs["sns_topic_arn"]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{stack.bucket}"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
    }


def test_topic_invokes_the_reindex_function(stack: Stack) -> None:
    topic = stack.outputs["sns_topic_arn"]
    subscriptions = stack.client("sns").list_subscriptions_by_topic(TopicArn=topic)
    # Only the lambda one is the module's (other tests may subscribe queues to listen in).
    endpoints = [
        item["Endpoint"] for item in subscriptions["Subscriptions"] if item["Protocol"] == "lambda"
    ]
    assert endpoints == [_function_arn(stack, REINDEX_FUNCTION)]
    policy = stack.client("lambda").get_policy(FunctionName=REINDEX_FUNCTION)["Policy"]
    [statement] = _statements(policy)
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": topic}}


def test_failed_reindex_events_go_to_the_dead_letter_queue(stack: Stack) -> None:
    config = stack.client("lambda").get_function_event_invoke_config(FunctionName=REINDEX_FUNCTION)
    queue_arn = stack.outputs["dead_letter_queue_arn"]
    assert queue_arn.endswith(f":{REINDEX_FUNCTION}-dlq")
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "1209600"
    assert attributes["SqsManagedSseEnabled"] == "true"


# -- the HTTP API ----------------------------------------------------------------


def _authorizer(stack: Stack) -> dict[str, Any]:
    """The one authorizer of the module's routes (moto has GetAuthorizer, not GetAuthorizers)."""
    apigw = stack.client("apigatewayv2")
    api_id = stack.outputs["api_id"]
    ids = {route.get("AuthorizerId") for route in apigw.get_routes(ApiId=api_id)["Items"]}
    assert len(ids) == 1, ids
    [authorizer_id] = ids
    authorizer: dict[str, Any] = apigw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    assert authorizer["AuthorizerId"] == authorizer_id
    return authorizer


def _integrations(stack: Stack) -> dict[str, dict[str, Any]]:
    """The module's two integrations, by the function they invoke: api and upload."""
    apigw = stack.client("apigatewayv2")
    items = apigw.get_integrations(ApiId=stack.outputs["api_id"])["Items"]
    found = {}
    for function in (API_FUNCTION, UPLOAD_FUNCTION):
        [integration] = [
            item for item in items if f"{_function_arn(stack, function)}/" in item["IntegrationUri"]
        ]
        found[function] = integration
    assert len(items) == len(found), items
    return found


def test_routes_lead_to_the_api_function_through_the_authorizer(stack: Stack) -> None:
    apigw = stack.client("apigatewayv2")
    api_id = stack.outputs["api_id"]
    integration = _integrations(stack)[API_FUNCTION]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["TimeoutInMillis"] == 11_000
    authorizer_id = _authorizer(stack)["AuthorizerId"]
    routes = apigw.get_routes(ApiId=api_id)["Items"]
    assert {route["RouteKey"] for route in routes} == ROUTE_KEYS | UPLOAD_ROUTE_KEYS
    for route in routes:
        if route["RouteKey"] in ROUTE_KEYS:
            assert route["Target"] == f"integrations/{integration['IntegrationId']}"
        assert route["AuthorizationType"] == "CUSTOM", route["RouteKey"]
        assert route["AuthorizerId"] == authorizer_id, route["RouteKey"]


def test_upload_routes_lead_to_the_upload_function_through_the_authorizer(stack: Stack) -> None:
    apigw = stack.client("apigatewayv2")
    integration = _integrations(stack)[UPLOAD_FUNCTION]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    # The function's 29 s and one: the HTTP API's limit.
    assert integration["TimeoutInMillis"] == 30_000
    authorizer_id = _authorizer(stack)["AuthorizerId"]
    routes = [
        route
        for route in apigw.get_routes(ApiId=stack.outputs["api_id"])["Items"]
        if route["RouteKey"] in UPLOAD_ROUTE_KEYS
    ]
    assert {route["RouteKey"] for route in routes} == UPLOAD_ROUTE_KEYS
    for route in routes:
        assert route["Target"] == f"integrations/{integration['IntegrationId']}"
        # Never anonymous: the module's authorizer, which asks for the upload right.
        assert route["AuthorizationType"] == "CUSTOM", route["RouteKey"]
        assert route["AuthorizerId"] == authorizer_id, route["RouteKey"]
    # What `twine upload --repository-url` takes: the index's base URL and legacy/.
    assert stack.outputs["upload_url"] == stack.index_url.removesuffix("simple/") + "legacy/"
    assert stack.outputs["upload_function_name"] == UPLOAD_FUNCTION


def test_the_authorizer_checks_basic_credentials_per_route(stack: Stack) -> None:
    authorizer = _authorizer(stack)
    assert authorizer["Name"] == f"{NAME}-basic"
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
    assert authorizer["EnableSimpleResponses"] is True
    # The route key in the cache key: a reader's cached "allow" opens no other route.
    assert set(authorizer["IdentitySource"]) == {
        "$request.header.Authorization",
        "$context.routeKey",
    }
    assert authorizer["AuthorizerResultTtlInSeconds"] == 300
    assert _function_arn(stack, AUTHORIZER_FUNCTION) in authorizer["AuthorizerUri"]
    assert not authorizer.get("AuthorizerCredentialsArn")
    assert stack.outputs["users_ssm_path"] == USERS_PATH
    assert stack.outputs["authorizer_function_name"] == AUTHORIZER_FUNCTION


def test_only_the_authorizer_may_invoke_the_authorizer_function(stack: Stack) -> None:
    api = stack.client("apigatewayv2").get_api(ApiId=stack.outputs["api_id"])
    policy = stack.client("lambda").get_policy(FunctionName=AUTHORIZER_FUNCTION)["Policy"]
    [statement] = _statements(policy)
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    execution_arn = f"arn:aws:execute-api:{stack.region}:{ACCOUNT_ID}:{api['ApiId']}"
    assert statement["Condition"] == {
        "ArnLike": {
            "AWS:SourceArn": f"{execution_arn}/authorizers/{_authorizer(stack)['AuthorizerId']}"
        }
    }


def test_only_the_api_may_invoke_the_api_function(stack: Stack) -> None:
    api = stack.client("apigatewayv2").get_api(ApiId=stack.outputs["api_id"])
    policy = stack.client("lambda").get_policy(FunctionName=API_FUNCTION)["Policy"]
    [statement] = _statements(policy)
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert source.startswith(f"arn:aws:execute-api:{stack.region}:{ACCOUNT_ID}:{api['ApiId']}/")


def test_only_the_api_may_invoke_the_upload_function(stack: Stack) -> None:
    api = stack.client("apigatewayv2").get_api(ApiId=stack.outputs["api_id"])
    policy = stack.client("lambda").get_policy(FunctionName=UPLOAD_FUNCTION)["Policy"]
    [statement] = _statements(policy)
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert source.startswith(f"arn:aws:execute-api:{stack.region}:{ACCOUNT_ID}:{api['ApiId']}/")


def test_index_url_is_the_api_endpoint(stack: Stack) -> None:
    api = stack.client("apigatewayv2").get_api(ApiId=stack.outputs["api_id"])
    assert stack.index_url == f"{api['ApiEndpoint']}/simple/"


# -- the functions ----------------------------------------------------------------


def test_functions_run_the_handlers_with_their_settings(stack: Stack) -> None:
    awslambda = stack.client("lambda")
    api = awslambda.get_function_configuration(FunctionName=API_FUNCTION)
    reindex = awslambda.get_function_configuration(FunctionName=REINDEX_FUNCTION)
    authorizer = awslambda.get_function_configuration(FunctionName=AUTHORIZER_FUNCTION)
    upload = awslambda.get_function_configuration(FunctionName=UPLOAD_FUNCTION)
    assert api["Handler"] == "serverless_pypi.api.handler"
    assert reindex["Handler"] == "serverless_pypi.reindex.handler"
    assert authorizer["Handler"] == "serverless_pypi.authorizer.handler"
    assert upload["Handler"] == "serverless_pypi.upload.handler"
    for config in (api, reindex, authorizer, upload):
        assert config["Runtime"] == "python3.13"
        assert config["Architectures"] == ["arm64"]
    for config in (api, reindex):
        assert config["Role"].endswith(f":role/{NAME}")
    # The authorizer's own role: the only one that may read the users.
    assert authorizer["Role"].endswith(f":role/{AUTHORIZER_ROLE}")
    # The upload function's own role: the only one that may add distributions.
    assert upload["Role"].endswith(f":role/{UPLOAD_ROLE}")
    assert (api["MemorySize"], api["Timeout"]) == (256, 10)
    assert (reindex["MemorySize"], reindex["Timeout"]) == (512, 300)
    assert (authorizer["MemorySize"], authorizer["Timeout"]) == (256, 5)
    assert (upload["MemorySize"], upload["Timeout"]) == (1024, 29)
    assert stack.function_environment(API_FUNCTION) == {
        "S3_BUCKET": stack.bucket,
        "FALLBACK_INDEX_URL": "https://pypi.org/simple/",
        "S3_PRESIGNED_URL_TTL": "900",
        "LINK_MODE": "redirect",
        "PAGE_MAX_AGE": "60",
        "LOG_LEVEL": "INFO",
    }
    assert stack.function_environment(REINDEX_FUNCTION) == {
        "S3_BUCKET": stack.bucket,
        "LOG_LEVEL": "INFO",
        "EVENT_BUS": f"arn:aws:events:{stack.region}:{ACCOUNT_ID}:event-bus/{EVENT_BUS}",
    }
    assert stack.function_environment(AUTHORIZER_FUNCTION) == {
        "S3_BUCKET": stack.bucket,
        "USERS_PATH": USERS_PATH,
        "USER_CACHE_SECONDS": "60",
        "LOG_LEVEL": "INFO",
    }
    # Behind the module's authorizer the handler also checks the upload right; it
    # asks the api's fallback index whether a name new to the bucket is public.
    assert stack.function_environment(UPLOAD_FUNCTION) == {
        "S3_BUCKET": stack.bucket,
        "LOG_LEVEL": "INFO",
        "UPLOAD_RIGHT": "required",
        "FALLBACK_INDEX_URL": "https://pypi.org/simple/",
    }


def test_deployed_code_is_the_freshly_built_package(stack: Stack) -> None:
    def sha256(data: bytes) -> str:
        return base64.b64encode(hashlib.sha256(data).digest()).decode()

    committed = sha256((stack.module_dir / "package" / "serverless-pypi.zip").read_bytes())
    awslambda = stack.client("lambda")
    handlers = []
    for name in (API_FUNCTION, REINDEX_FUNCTION, AUTHORIZER_FUNCTION, UPLOAD_FUNCTION):
        config = awslambda.get_function_configuration(FunctionName=name)
        assert config["CodeSha256"] == committed
        handlers.append(config["Handler"])
    package = (stack.module_dir / "package" / "serverless-pypi.zip").read_bytes()
    assert build_script().problems(package) == [], "package/ is stale: run `make package`"
    # Every function's handler is in the package.
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        for handler in handlers:
            module, function = handler.rsplit(".", 1)
            source = archive.read(module.replace(".", "/") + ".py").decode()
            assert f"\ndef {function}(event" in source, handler


def test_log_groups_exist_with_retention(stack: Stack) -> None:
    logs = stack.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{NAME}-")["logGroups"]
    retention = {group["logGroupName"]: group.get("retentionInDays") for group in groups}
    assert retention == {
        f"/aws/lambda/{API_FUNCTION}": 30,
        f"/aws/lambda/{REINDEX_FUNCTION}": 30,
        f"/aws/lambda/{AUTHORIZER_FUNCTION}": 30,
        f"/aws/lambda/{UPLOAD_FUNCTION}": 30,
    }


def test_role_lets_only_the_reindexer_write(stack: Stack) -> None:
    iam = stack.client("iam")
    [policy_name] = iam.list_role_policies(RoleName=NAME)["PolicyNames"]
    document = iam.get_role_policy(RoleName=NAME, PolicyName=policy_name)["PolicyDocument"]
    statements = _statements(document)
    assert all(statement.get("Sid") for statement in statements)
    assert not [s for s in statements if "*" in _as_list(s["Resource"])]
    reindex_only = {
        "ArnEquals": {"lambda:SourceFunctionArn": _function_arn(stack, REINDEX_FUNCTION)}
    }
    actions = set()
    for statement in statements:
        actions.update(_as_list(statement["Action"]))
        if "s3:PutObject" in _as_list(statement["Action"]):
            assert statement["Condition"] == reindex_only
    assert not [action for action in actions if "Delete" in action or action.endswith("*")]
    reads = [
        s for s in statements if "s3:GetObject" in _as_list(s["Action"]) and "Condition" not in s
    ]
    assert [s["Resource"] for s in reads] == [f"arn:aws:s3:::{stack.bucket}/*/*"]
    # Nothing of the users: only the authorizer's own role reads them.
    assert not [action for action in actions if action.startswith(("ssm:", "kms:"))]


def test_the_authorizers_role_reads_the_users_and_writes_its_logs_only(stack: Stack) -> None:
    iam = stack.client("iam")
    assert not iam.list_attached_role_policies(RoleName=AUTHORIZER_ROLE)["AttachedPolicies"]
    [policy_name] = iam.list_role_policies(RoleName=AUTHORIZER_ROLE)["PolicyNames"]
    document = iam.get_role_policy(RoleName=AUTHORIZER_ROLE, PolicyName=policy_name)
    trust = iam.get_role(RoleName=AUTHORIZER_ROLE)["Role"]["AssumeRolePolicyDocument"]
    [assume] = _statements(trust)
    assert assume["Principal"] == {"Service": "lambda.amazonaws.com"}
    log_group = (
        f"arn:aws:logs:{stack.region}:{ACCOUNT_ID}:log-group:/aws/lambda/{AUTHORIZER_FUNCTION}"
    )
    # No ssm_kms_key_arn in the example: the aws/ssm key needs no statement.
    assert _statements(document["PolicyDocument"]) == [
        {
            "Sid": "ReadUsersFile",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{stack.bucket}/.serverless-pypi-users.json",
        },
        {
            "Sid": "ReadUsers",
            "Effect": "Allow",
            "Action": "ssm:GetParametersByPath",
            "Resource": [
                f"arn:aws:ssm:{stack.region}:{ACCOUNT_ID}:parameter{USERS_PATH.rstrip('/')}",
                f"arn:aws:ssm:{stack.region}:{ACCOUNT_ID}:parameter{USERS_PATH}*",
            ],
        },
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group}:*",
        },
    ]


def test_the_upload_role_adds_new_distributions_and_writes_its_logs_only(stack: Stack) -> None:
    iam = stack.client("iam")
    assert not iam.list_attached_role_policies(RoleName=UPLOAD_ROLE)["AttachedPolicies"]
    [policy_name] = iam.list_role_policies(RoleName=UPLOAD_ROLE)["PolicyNames"]
    document = iam.get_role_policy(RoleName=UPLOAD_ROLE, PolicyName=policy_name)
    trust = iam.get_role(RoleName=UPLOAD_ROLE)["Role"]["AssumeRolePolicyDocument"]
    [assume] = _statements(trust)
    assert assume["Principal"] == {"Service": "lambda.amazonaws.com"}
    bucket = f"arn:aws:s3:::{stack.bucket}"
    log_group = f"arn:aws:logs:{stack.region}:{ACCOUNT_ID}:log-group:/aws/lambda/{UPLOAD_FUNCTION}"
    # tests/e2e/test_policies.py evaluates what these allow, request by request.
    assert _statements(document["PolicyDocument"]) == [
        {
            "Sid": "AddDistributions",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": [f"{bucket}/*/*{suffix}" for suffix in DISTRIBUTION_SUFFIXES],
            "Condition": {"Null": {"s3:if-none-match": "false"}},
        },
        {
            "Sid": "DenyDeeperKeys",
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": f"{bucket}/*/*/*",
        },
        {
            "Sid": "DenyWriteIndexData",
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": f"{bucket}/{layout.DERIVED_PREFIX}*",
        },
        {
            "Sid": "ListFolders",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
        },
        {
            "Sid": "ReadDistributionsAndManifests",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [
                *(f"{bucket}/*/*{suffix}" for suffix in DISTRIBUTION_SUFFIXES),
                f"{bucket}/{layout.MANIFEST_PREFIX}*.json",
            ],
        },
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group}:*",
        },
    ]


# -- alarms (alarm_topic_arn, which the stack sets) ----------------------------------


def test_alarms_watch_every_function_and_the_dead_letter_queue(stack: Stack) -> None:
    topic = f"arn:aws:sns:{stack.region}:{ACCOUNT_ID}:{ALARM_TOPIC}"
    alarms = {
        alarm["AlarmName"]: alarm
        for alarm in stack.client("cloudwatch").describe_alarms(AlarmNamePrefix=NAME)[
            "MetricAlarms"
        ]
    }
    functions = (API_FUNCTION, REINDEX_FUNCTION, AUTHORIZER_FUNCTION, UPLOAD_FUNCTION)
    expected = {
        *(f"{function}-errors" for function in functions),
        *(f"{function}-throttles" for function in functions if function != REINDEX_FUNCTION),
        f"{REINDEX_FUNCTION}-dlq-messages",
    }
    assert set(alarms) == expected
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    queue = alarms[f"{REINDEX_FUNCTION}-dlq-messages"]
    assert queue["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert queue["Dimensions"] == [{"Name": "QueueName", "Value": f"{REINDEX_FUNCTION}-dlq"}]
    errors = alarms[f"{API_FUNCTION}-errors"]["Metrics"]
    assert [query["Expression"] for query in errors if query.get("ReturnData")] == [
        "invocations + logged"
    ]
    logs = stack.client("logs")
    for function in functions:
        filters = logs.describe_metric_filters(logGroupName=f"/aws/lambda/{function}")
        (found,) = filters["metricFilters"]
        assert found["filterPattern"] == '"[ERROR]"'
        transformation = found["metricTransformations"][0]
        assert transformation["metricName"] == f"{function}-logged-errors"


# -- events (event_bus_name, which the stack sets) ----------------------------------


def test_only_the_reindex_function_may_put_events_and_on_the_index_bus_only(
    stack: Stack, role_policy: Any
) -> None:
    bus = f"arn:aws:events:{stack.region}:{ACCOUNT_ID}:event-bus/{EVENT_BUS}"
    events = [
        statement
        for statement in role_policy["Statement"]
        if any(action.startswith("events:") for action in _as_list(statement["Action"]))
    ]
    reindex = f"arn:aws:lambda:{stack.region}:{ACCOUNT_ID}:function:{REINDEX_FUNCTION}"
    assert events == [
        {
            "Sid": "ReindexPutEvents",
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": bus,
            "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": reindex}},
        }
    ]
    assert stack.client("events").describe_event_bus(Name=EVENT_BUS)["Arn"] == bus


# -- Terraform's view --------------------------------------------------------------


def test_second_plan_shows_no_changes(stack: Stack) -> None:
    result = stack.terraform("plan", "-detailed-exitcode", "-no-color", check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    # The example's routes are behind the authorizer: no public_routes warning.
    assert "public_routes" not in result.stdout + result.stderr
