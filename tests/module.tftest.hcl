# Plan-level tests of the module: `terraform test` (make tf-test).
# The provider is mocked: nothing reaches AWS. Mocked providers still run the
# real provider's validation, hence realistic values for what the module reads.
# The bucket layout and the route keys are asserted against the module's own
# locals (main.tf), not a copy: tests/e2e/test_terraform_layout.py checks those
# against src/serverless_pypi/layout.py.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
}

run "defaults" {
  command = plan

  # Routes without authorization: every plan warns that the index is public (in
  # a test, a failed check is an error unless expected). The runs that set
  # api_basic_auth or api_authorization_type show that it then says nothing.
  expect_failures = [check.public_routes]

  # Names
  assert {
    condition     = aws_lambda_function.api.function_name == "serverless-pypi-api" && aws_lambda_function.reindex.function_name == "serverless-pypi-reindex"
    error_message = "The functions are named <name>-api and <name>-reindex."
  }
  assert {
    condition     = aws_iam_role.this.name == "serverless-pypi" && aws_sns_topic.this.name == "serverless-pypi"
    error_message = "The role and the topic are named <name>."
  }
  assert {
    condition     = aws_cloudwatch_log_group.api.name == "/aws/lambda/serverless-pypi-api" && aws_cloudwatch_log_group.reindex.name == "/aws/lambda/serverless-pypi-reindex"
    error_message = "The log groups are the functions' own, /aws/lambda/<function name>."
  }
  assert {
    condition     = aws_cloudwatch_log_group.api.retention_in_days == 30 && aws_cloudwatch_log_group.reindex.retention_in_days == 30
    error_message = "Logs are kept 30 days by default."
  }

  # Functions
  assert {
    condition     = aws_lambda_function.api.handler == "serverless_pypi.api.handler" && aws_lambda_function.reindex.handler == "serverless_pypi.reindex.handler"
    error_message = "The handlers are serverless_pypi.api.handler and serverless_pypi.reindex.handler."
  }
  assert {
    condition     = aws_lambda_function.api.runtime == "python3.13" && aws_lambda_function.reindex.runtime == "python3.13"
    error_message = "The default runtime is python3.13."
  }
  assert {
    condition     = aws_lambda_function.api.architectures == tolist(["arm64"]) && aws_lambda_function.reindex.architectures == tolist(["arm64"])
    error_message = "The default architecture is arm64."
  }
  assert {
    condition     = aws_lambda_function.api.memory_size == 256 && aws_lambda_function.api.timeout == 10
    error_message = "The api function has 256 MB and 10 s by default."
  }
  assert {
    condition     = aws_lambda_function.reindex.memory_size == 512 && aws_lambda_function.reindex.timeout == 300
    error_message = "The reindex function has 512 MB and 300 s by default."
  }
  assert {
    condition     = coalesce(aws_lambda_function.api.reserved_concurrent_executions, -1) == -1 && coalesce(aws_lambda_function.reindex.reserved_concurrent_executions, -1) == -1
    error_message = "The functions are unreserved by default."
  }
  assert {
    condition     = endswith(aws_lambda_function.api.filename, "package/serverless-pypi.zip") && aws_lambda_function.api.source_code_hash == filebase64sha256("${path.module}/package/serverless-pypi.zip")
    error_message = "The api function deploys the committed package, hashed."
  }
  assert {
    condition     = aws_lambda_function.reindex.filename == aws_lambda_function.api.filename && aws_lambda_function.reindex.source_code_hash == aws_lambda_function.api.source_code_hash
    error_message = "Both functions deploy the same package."
  }
  assert {
    condition = aws_lambda_function.api.environment[0].variables == tomap({
      S3_BUCKET            = "my-pypi-bucket"
      S3_PRESIGNED_URL_TTL = "900"
      LINK_MODE            = "redirect"
      PAGE_MAX_AGE         = "60"
      LOG_LEVEL            = "INFO"
    })
    error_message = "The api function's environment has every setting, and no FALLBACK_INDEX_URL when there is none."
  }
  assert {
    condition     = aws_lambda_function.reindex.environment[0].variables == tomap({ S3_BUCKET = "my-pypi-bucket", LOG_LEVEL = "INFO" })
    error_message = "The reindex function's environment is the bucket and the log level."
  }

  # Bucket
  assert {
    condition     = aws_s3_bucket.this.bucket == "my-pypi-bucket" && aws_s3_bucket.this.force_destroy == false
    error_message = "The bucket has the given name and is not force-destroyed by default."
  }
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "All public access is blocked."
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "The bucket owner owns every object (ACLs disabled)."
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "The bucket uses SSE-S3 by default."
  }
  assert {
    condition     = length(aws_s3_bucket_versioning.this) == 0 && length(aws_s3_bucket_lifecycle_configuration.this) == 0
    error_message = "Versioning is off by default, and there is no lifecycle configuration: an upgrade leaves the bucket as it is."
  }
  assert {
    condition = jsondecode(aws_s3_bucket_policy.this.policy).Statement == [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::my-pypi-bucket", "arn:aws:s3:::my-pypi-bucket/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
    error_message = "The bucket policy denies every request without TLS."
  }

  # Notifications
  assert {
    condition     = [for topic in aws_s3_bucket_notification.this.topic : topic.filter_suffix] == local.notify_suffixes
    error_message = "The bucket notifies for distributions and yank markers, one configuration per suffix of local.notify_suffixes."
  }
  assert {
    condition = alltrue([for topic in aws_s3_bucket_notification.this.topic :
      toset(topic.events) == toset(["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]) && topic.filter_prefix == null
    ])
    error_message = "Every notification covers created and removed objects, with no prefix filter."
  }
  assert {
    condition = alltrue(flatten([for topic in aws_s3_bucket_notification.this.topic : [
      for key in ["${local.derived_prefix}projects/my-pkg.json", "${local.derived_prefix}metadata/my-pkg/my_pkg-1.0-py3-none-any.whl.metadata", "${local.derived_prefix}index.json", local.root_index] :
      !endswith(key, topic.filter_suffix)
    ]]))
    error_message = "Nothing the reindexer writes matches a notification."
  }
  assert {
    condition = jsondecode(aws_sns_topic_policy.this.policy).Statement == [{
      Sid       = "AllowThisBucketToPublish"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = "arn:aws:sns:eu-west-1:123456789012:serverless-pypi"
      Condition = {
        ArnEquals    = { "aws:SourceArn" = "arn:aws:s3:::my-pypi-bucket" }
        StringEquals = { "aws:SourceAccount" = "123456789012" }
      }
    }]
    error_message = "Only this bucket, in this account, may publish to the topic."
  }
  assert {
    condition     = aws_sns_topic_subscription.reindex.protocol == "lambda" && aws_lambda_permission.reindex_sns.principal == "sns.amazonaws.com"
    error_message = "The topic invokes the reindex function."
  }

  # Failed reindex events
  assert {
    condition     = aws_lambda_function_event_invoke_config.reindex.maximum_retry_attempts == 2
    error_message = "Lambda retries a failed reindex twice by default."
  }
  assert {
    condition     = aws_sqs_queue.reindex_dead_letter[0].name == "serverless-pypi-reindex-dlq" && aws_sqs_queue.reindex_dead_letter[0].message_retention_seconds == 1209600 && aws_sqs_queue.reindex_dead_letter[0].sqs_managed_sse_enabled
    error_message = "The dead-letter queue keeps messages 14 days, encrypted."
  }
  assert {
    condition     = length(aws_lambda_function_event_invoke_config.reindex.destination_config) == 1
    error_message = "Failed reindex events go to the dead-letter queue."
  }

  # API
  assert {
    condition     = aws_apigatewayv2_integration.api.integration_type == "AWS_PROXY" && aws_apigatewayv2_integration.api.payload_format_version == "2.0" && aws_apigatewayv2_integration.api.integration_method == "POST"
    error_message = "The integration is a Lambda proxy with payload 2.0."
  }
  assert {
    condition     = aws_apigatewayv2_integration.api.timeout_milliseconds == 11000
    error_message = "The integration waits a second longer than the function may run."
  }
  assert {
    condition     = toset(keys(aws_apigatewayv2_route.api)) == toset(local.route_keys)
    error_message = "The module adds one route per key of local.route_keys (GET and HEAD for /, /simple and /simple/{proxy+})."
  }
  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.api : route.api_id == "a1b2c3d4e5" && route.authorization_type == "NONE" && route.authorizer_id == null])
    error_message = "The routes are on the given API, without authorization by default."
  }
  assert {
    condition     = aws_lambda_permission.api_gateway.principal == "apigateway.amazonaws.com" && aws_lambda_permission.api_gateway.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/*/*"
    error_message = "Only the given API may invoke the api function."
  }
  assert {
    condition     = output.index_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/simple/"
    error_message = "The index is at <API endpoint>/simple/ on the $default stage."
  }
  assert {
    condition     = output.route_keys == sort(local.route_keys)
    error_message = "The route keys are an output."
  }

  # HTTP Basic: off by default, and then nothing of it exists.
  assert {
    condition = alltrue([for count in [
      length(aws_lambda_function.authorizer), length(aws_cloudwatch_log_group.authorizer), length(aws_iam_role.authorizer),
      length(aws_iam_role_policy.authorizer), length(aws_apigatewayv2_authorizer.basic), length(aws_lambda_permission.authorizer),
    ] : count == 0])
    error_message = "Without api_basic_auth there is no authorizer, nor its function, log group, role or permission."
  }
  assert {
    condition     = output.authorizer_function_name == null && output.authorizer_function_arn == null && output.authorizer_id == null && output.authorizer_log_group_name == null
    error_message = "Without api_basic_auth the authorizer's outputs are null."
  }
  assert {
    condition     = output.users_ssm_path == "/serverless-pypi/users/"
    error_message = "The users' path is /<name>/users/ by default, and an output even when api_basic_auth is off."
  }

  # The upload route: never on public routes, although api_upload_route is
  # true by default.
  assert {
    condition = alltrue([for count in [
      length(aws_apigatewayv2_integration.upload), length(aws_apigatewayv2_route.upload), length(aws_lambda_function.upload),
      length(aws_cloudwatch_log_group.upload), length(aws_iam_role.upload), length(aws_iam_role_policy.upload), length(aws_lambda_permission.upload),
    ] : count == 0])
    error_message = "With public routes there is no upload route, nor its integration, function, log group, role or permission."
  }
  assert {
    condition     = output.upload_url == null && output.upload_function_name == null && output.upload_function_arn == null && output.upload_log_group_name == null
    error_message = "Without the upload route its outputs are null."
  }

  # Tags: none by default, but the bucket's record of the release deployed.
  assert {
    condition     = aws_s3_bucket.this.tags == local.release_tags && length(aws_sns_topic.this.tags) == 0 && length(aws_iam_role.this.tags) == 0 && length(aws_lambda_function.api.tags) == 0
    error_message = "Nothing is tagged unless asked, but the bucket with the release."
  }
  assert {
    condition     = sort(keys(local.release_tags)) == tolist(["serverless-pypi:formats", "serverless-pypi:version"])
    error_message = "The release is its version and its formats."
  }
  assert {
    condition     = can(regex("^[0-9]+[.][0-9]+[.][0-9]+", local.release_tags["serverless-pypi:version"])) && can(regex("^manifest=[0-9]+ pages=[0-9]+$", local.release_tags["serverless-pypi:formats"]))
    error_message = "The release tags hold a version and the formats as package/release.json writes them."
  }
}

# The built-in HTTP Basic authorizer: its own function, log group and role, on
# every route. The mocked function's ARNs are unknown at plan time unless set.
run "basic_auth" {
  command = plan

  variables {
    api_basic_auth = true
  }

  override_resource {
    target          = aws_lambda_function.authorizer
    override_during = plan
    values = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-authorizer"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-authorizer/invocations"
    }
  }
  override_resource {
    target          = aws_iam_role.authorizer
    override_during = plan
    values = {
      arn = "arn:aws:iam::123456789012:role/serverless-pypi-authorizer"
      id  = "serverless-pypi-authorizer"
    }
  }

  # The function
  assert {
    condition     = aws_lambda_function.authorizer[0].function_name == "serverless-pypi-authorizer" && aws_lambda_function.authorizer[0].handler == "serverless_pypi.authorizer.handler"
    error_message = "The authorizer function is <name>-authorizer and runs serverless_pypi.authorizer.handler."
  }
  assert {
    condition = alltrue([
      aws_lambda_function.authorizer[0].filename == aws_lambda_function.api.filename,
      aws_lambda_function.authorizer[0].source_code_hash == aws_lambda_function.api.source_code_hash,
      aws_lambda_function.authorizer[0].runtime == aws_lambda_function.api.runtime,
      aws_lambda_function.authorizer[0].architectures == aws_lambda_function.api.architectures,
    ])
    error_message = "The authorizer deploys the same package, runtime and architecture as the other functions."
  }
  assert {
    condition     = aws_lambda_function.authorizer[0].memory_size == 256 && aws_lambda_function.authorizer[0].timeout == 5
    error_message = "The authorizer function has 256 MB and 5 s by default."
  }
  assert {
    condition     = coalesce(aws_lambda_function.authorizer[0].reserved_concurrent_executions, -1) == -1
    error_message = "The authorizer is unreserved by default."
  }
  assert {
    condition = aws_lambda_function.authorizer[0].environment[0].variables == tomap({
      S3_BUCKET          = "my-pypi-bucket"
      USERS_PATH         = "/serverless-pypi/users/"
      USER_CACHE_SECONDS = "60"
      LOG_LEVEL          = "INFO"
    })
    error_message = "The authorizer's environment is the bucket of the users file, the users' path, the user cache time and the log level."
  }
  assert {
    condition     = aws_cloudwatch_log_group.authorizer[0].name == "/aws/lambda/serverless-pypi-authorizer" && aws_cloudwatch_log_group.authorizer[0].retention_in_days == 30
    error_message = "The authorizer logs to its own log group, kept 30 days by default."
  }

  # Its own role, least privilege
  assert {
    condition     = aws_lambda_function.authorizer[0].role == "arn:aws:iam::123456789012:role/serverless-pypi-authorizer" && aws_iam_role.authorizer[0].name == "serverless-pypi-authorizer"
    error_message = "The authorizer runs with its own role, named like the function."
  }
  assert {
    condition     = jsondecode(aws_iam_role.authorizer[0].assume_role_policy).Statement[0].Principal == { Service = "lambda.amazonaws.com" }
    error_message = "Only Lambda may assume the authorizer's role."
  }
  assert {
    condition     = aws_iam_role_policy.authorizer[0].role == "serverless-pypi-authorizer"
    error_message = "The authorizer's policy is on its own role."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.authorizer[0].policy).Statement == [
      {
        Sid      = "ReadUsersFile"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "arn:aws:s3:::my-pypi-bucket/.serverless-pypi-users.json"
      },
      {
        Sid      = "ReadUsers"
        Effect   = "Allow"
        Action   = "ssm:GetParametersByPath"
        Resource = ["arn:aws:ssm:eu-west-1:123456789012:parameter/serverless-pypi/users", "arn:aws:ssm:eu-west-1:123456789012:parameter/serverless-pypi/users/*"]
      },
      {
        Sid      = "WriteLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/serverless-pypi-authorizer:*"
      },
    ]
    error_message = "The authorizer reads the users file, the users' parameters by their path, and writes its own logs: no other object, no KMS without a key."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.this.policy, "ssm:") && !strcontains(aws_iam_role_policy.this.policy, "authorizer")
    error_message = "The shared role gets nothing of the authorizer's: no other function can read the users."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Sid] == [
      "ListBucket", "ReadProjectsAndIndexData", "ReindexReadRootIndex", "ReindexWriteIndexData", "ApiWriteLogs", "ReindexWriteLogs", "ReindexSendFailedEvents",
    ]
    error_message = "The shared role's policy is unchanged by api_basic_auth."
  }
  assert {
    condition     = aws_iam_role.this.name == "serverless-pypi" && aws_lambda_function.api.role == aws_iam_role.this.arn && aws_lambda_function.reindex.role == aws_iam_role.this.arn
    error_message = "The api and reindex functions keep the shared role."
  }

  # The authorizer on the API
  assert {
    condition = alltrue([
      aws_apigatewayv2_authorizer.basic[0].api_id == "a1b2c3d4e5",
      aws_apigatewayv2_authorizer.basic[0].name == "serverless-pypi-basic",
      aws_apigatewayv2_authorizer.basic[0].authorizer_type == "REQUEST",
      aws_apigatewayv2_authorizer.basic[0].authorizer_payload_format_version == "2.0",
      aws_apigatewayv2_authorizer.basic[0].enable_simple_responses,
    ])
    error_message = "The authorizer is a REQUEST authorizer named <name>-basic, payload 2.0 with simple responses."
  }
  assert {
    condition     = aws_apigatewayv2_authorizer.basic[0].authorizer_uri == aws_lambda_function.authorizer[0].invoke_arn
    error_message = "The authorizer invokes the authorizer function."
  }
  assert {
    condition     = toset(aws_apigatewayv2_authorizer.basic[0].identity_sources) == toset(["$request.header.Authorization", "$context.routeKey"])
    error_message = "The authorizer's cache key is the Authorization header and the route key (a reader's allow never opens another route)."
  }
  assert {
    condition     = aws_apigatewayv2_authorizer.basic[0].authorizer_result_ttl_in_seconds == 300
    error_message = "API Gateway caches the authorizer's answers 300 s by default."
  }
  assert {
    condition = alltrue([
      aws_lambda_permission.authorizer[0].function_name == "serverless-pypi-authorizer",
      aws_lambda_permission.authorizer[0].principal == "apigateway.amazonaws.com",
      aws_lambda_permission.authorizer[0].action == "lambda:InvokeFunction",
      aws_lambda_permission.authorizer[0].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/authorizers/${aws_apigatewayv2_authorizer.basic[0].id}",
    ])
    error_message = "API Gateway may invoke the authorizer function as this authorizer only."
  }
  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.api : route.authorization_type == "CUSTOM" && route.authorizer_id == aws_apigatewayv2_authorizer.basic[0].id])
    error_message = "Every route of the module goes through the authorizer."
  }
  assert {
    condition     = toset(keys(aws_apigatewayv2_route.api)) == toset(local.route_keys)
    error_message = "The routes are the same with api_basic_auth."
  }

  # Outputs
  assert {
    condition = alltrue([
      output.authorizer_function_name == "serverless-pypi-authorizer",
      output.authorizer_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-authorizer",
      output.authorizer_id == aws_apigatewayv2_authorizer.basic[0].id,
      output.authorizer_log_group_name == "/aws/lambda/serverless-pypi-authorizer",
      output.users_ssm_path == "/serverless-pypi/users/",
    ])
    error_message = "The authorizer's names, ARN, ID and the users' path are outputs."
  }
}

# The names follow `name`.
run "basic_auth_named" {
  command = plan

  variables {
    name           = "pkgs"
    api_basic_auth = true
  }

  assert {
    condition     = aws_lambda_function.authorizer[0].function_name == "pkgs-authorizer" && aws_iam_role.authorizer[0].name == "pkgs-authorizer" && aws_cloudwatch_log_group.authorizer[0].name == "/aws/lambda/pkgs-authorizer"
    error_message = "The authorizer's function, role and log group follow the name."
  }
  assert {
    condition     = aws_apigatewayv2_authorizer.basic[0].name == "pkgs-basic"
    error_message = "The API's authorizer is <name>-basic."
  }
  assert {
    condition     = aws_lambda_function.authorizer[0].environment[0].variables.USERS_PATH == "/pkgs/users/" && output.users_ssm_path == "/pkgs/users/"
    error_message = "The users' path is /<name>/users/."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.authorizer[0].policy).Statement[1].Resource == ["arn:aws:ssm:eu-west-1:123456789012:parameter/pkgs/users", "arn:aws:ssm:eu-west-1:123456789012:parameter/pkgs/users/*"]
    error_message = "The authorizer reads the parameters under /<name>/users/ only."
  }
}

run "basic_auth_overrides" {
  command = plan

  variables {
    api_basic_auth                                   = true
    lambda_authorizer_function_name                  = "pkgs-auth"
    iam_authorizer_role_name                         = "pkgs-auth-role"
    lambda_authorizer_memory_size                    = 1024
    lambda_authorizer_timeout                        = 10
    lambda_authorizer_reserved_concurrent_executions = 10
    log_group_authorizer_retention_in_days           = 7
    users_ssm_path                                   = "/platform/pypi.users-1/"
    ssm_kms_key_arn                                  = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    authorizer_user_cache_seconds                    = 0
    authorizer_result_ttl_in_seconds                 = 0
    log_level                                        = "DEBUG"
    lambda_runtime                                   = "python3.12"
    lambda_architecture                              = "x86_64"
    tags                                             = { team = "platform" }
  }

  assert {
    condition     = aws_lambda_function.authorizer[0].function_name == "pkgs-auth" && aws_cloudwatch_log_group.authorizer[0].name == "/aws/lambda/pkgs-auth" && aws_iam_role.authorizer[0].name == "pkgs-auth-role"
    error_message = "The authorizer's function and role names can be overridden; the log group follows the function."
  }
  assert {
    condition     = aws_lambda_function.authorizer[0].memory_size == 1024 && aws_lambda_function.authorizer[0].timeout == 10 && aws_cloudwatch_log_group.authorizer[0].retention_in_days == 7
    error_message = "The authorizer's sizing and log retention are configurable."
  }
  assert {
    condition     = aws_lambda_function.authorizer[0].reserved_concurrent_executions == 10
    error_message = "The authorizer's reserved concurrency, which bounds guessing, is configurable."
  }
  assert {
    condition     = aws_lambda_function.authorizer[0].runtime == "python3.12" && aws_lambda_function.authorizer[0].architectures == tolist(["x86_64"])
    error_message = "Runtime and architecture apply to the authorizer too."
  }
  assert {
    condition = aws_lambda_function.authorizer[0].environment[0].variables == tomap({
      S3_BUCKET          = "my-pypi-bucket"
      USERS_PATH         = "/platform/pypi.users-1/"
      USER_CACHE_SECONDS = "0"
      LOG_LEVEL          = "DEBUG"
    })
    error_message = "The users' path, the cache time and the log level reach the authorizer."
  }
  assert {
    condition     = aws_apigatewayv2_authorizer.basic[0].authorizer_result_ttl_in_seconds == 0
    error_message = "API Gateway's cache of the authorizer's answers can be turned off."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.authorizer[0].policy).Statement == [
      {
        Sid      = "ReadUsersFile"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "arn:aws:s3:::my-pypi-bucket/.serverless-pypi-users.json"
      },
      {
        Sid      = "ReadUsers"
        Effect   = "Allow"
        Action   = "ssm:GetParametersByPath"
        Resource = ["arn:aws:ssm:eu-west-1:123456789012:parameter/platform/pypi.users-1", "arn:aws:ssm:eu-west-1:123456789012:parameter/platform/pypi.users-1/*"]
      },
      {
        Sid      = "WriteLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/pkgs-auth:*"
      },
      {
        Sid       = "DecryptUsers"
        Effect    = "Allow"
        Action    = "kms:Decrypt"
        Resource  = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        Condition = { StringEquals = { "kms:ViaService" = "ssm.eu-west-1.amazonaws.com" } }
      },
    ]
    error_message = "With a key, the authorizer may also decrypt with it, through SSM only."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.this.policy, "kms:") && !strcontains(aws_iam_role_policy.this.policy, "ssm")
    error_message = "The SSM key is the authorizer's only: the shared role gets no KMS or SSM permission."
  }
  assert {
    condition = alltrue([for tags in [
      aws_lambda_function.authorizer[0].tags, aws_cloudwatch_log_group.authorizer[0].tags, aws_iam_role.authorizer[0].tags,
    ] : tags == tomap({ team = "platform" })])
    error_message = "The tags reach the authorizer's taggable resources."
  }
}

# The role: one for both functions, least privilege.
run "role_policy" {
  command = plan

  expect_failures = [check.public_routes]

  variables {
    s3_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal == { Service = "lambda.amazonaws.com" }
    error_message = "Only Lambda may assume the role."
  }
  assert {
    condition     = aws_lambda_function.api.role == aws_iam_role.this.arn && aws_lambda_function.reindex.role == aws_iam_role.this.arn
    error_message = "Both functions share the role."
  }
  assert {
    condition     = alltrue([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : can(regex("^[A-Za-z0-9]+$", statement.Sid))])
    error_message = "Every statement has a Sid."
  }
  assert {
    condition     = length(distinct([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Sid])) == length(jsondecode(aws_iam_role_policy.this.policy).Statement)
    error_message = "Sids are unique."
  }
  assert {
    condition     = alltrue([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Effect == "Allow" && !contains(flatten([statement.Resource]), "*") && !contains(flatten([statement.Action]), "*")])
    error_message = "No statement grants everything or on every resource."
  }
  assert {
    condition = toset(flatten([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Action])) == toset([
      "s3:ListBucket", "s3:GetObject", "s3:PutObject", "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "kms:Decrypt", "kms:GenerateDataKey",
    ])
    error_message = "The role can only list, read, put, log, send failed events and use the key: no delete, no logs:CreateLogGroup."
  }
  assert {
    condition = alltrue([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      statement.Condition == { ArnEquals = { "lambda:SourceFunctionArn" = "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-reindex" } }
      if contains(flatten([statement.Action]), "s3:PutObject")
    ])
    error_message = "Only the reindex function may write to the bucket."
  }
  assert {
    condition = flatten([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource if contains(flatten([statement.Action]), "s3:PutObject")]) == [
      "arn:aws:s3:::my-pypi-bucket/${local.derived_prefix}*", "arn:aws:s3:::my-pypi-bucket/${local.root_index}",
    ]
    error_message = "The reindex function writes only the derived data and index.html."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource
    if contains(flatten([statement.Action]), "s3:GetObject") && !can(statement.Condition)] == ["arn:aws:s3:::my-pypi-bucket/*/*"]
    error_message = "Both functions read only keys with a slash (never a stray object at the bucket root)."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource
    if contains(flatten([statement.Action]), "s3:GetObject") && can(statement.Condition)] == ["arn:aws:s3:::my-pypi-bucket/${local.root_index}"]
    error_message = "Only the reindex function reads the root index.html."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource if contains(flatten([statement.Action]), "logs:PutLogEvents")] == [
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/serverless-pypi-api:*",
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/serverless-pypi-reindex:*",
    ]
    error_message = "The functions write to their own log groups only."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement
      if contains(flatten([statement.Action]), "sqs:SendMessage")] == [{
        Sid      = "ReindexSendFailedEvents"
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = "arn:aws:sqs:eu-west-1:123456789012:serverless-pypi-reindex-dlq"
    }]
    error_message = "Lambda may deliver failed events to the queue (no source function condition: Lambda sends them itself)."
  }
  assert {
    condition = alltrue([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      statement.Resource == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" && statement.Condition == { StringEquals = { "kms:ViaService" = "s3.eu-west-1.amazonaws.com" } }
      if anytrue([for action in flatten([statement.Action]) : startswith(action, "kms:")])
    ])
    error_message = "The key is usable through S3 only."
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    error_message = "With a key, the bucket uses SSE-KMS with a bucket key."
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.s3_kms_key_arn
    error_message = "With a key, the bucket encrypts with it."
  }
}

run "role_policy_minimal" {
  command = plan

  expect_failures = [check.public_routes]

  variables {
    reindex_dead_letter_queue = false
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.this.policy, "kms:") && !strcontains(aws_iam_role_policy.this.policy, "sqs:")
    error_message = "Without a key or a queue, the role has no KMS or SQS permissions."
  }
  assert {
    condition     = length(aws_sqs_queue.reindex_dead_letter) == 0 && length(aws_lambda_function_event_invoke_config.reindex.destination_config) == 0
    error_message = "reindex_dead_letter_queue = false turns the queue off."
  }
  assert {
    condition     = output.dead_letter_queue_arn == null
    error_message = "Without a queue, its output is null."
  }
}

run "overrides" {
  command = plan

  variables {
    name                                          = "pkgs"
    iam_role_name                                 = "pkgs-lambda"
    lambda_api_function_name                      = "pkgs-http"
    lambda_reindex_function_name                  = "pkgs-indexer"
    sns_topic_name                                = "pkgs-events"
    lambda_runtime                                = "python3.12"
    lambda_architecture                           = "x86_64"
    lambda_api_memory_size                        = 1024
    lambda_api_timeout                            = 30
    lambda_api_reserved_concurrent_executions     = 20
    lambda_reindex_memory_size                    = 2048
    lambda_reindex_timeout                        = 900
    lambda_reindex_reserved_concurrent_executions = 2
    lambda_api_fallback_index_url                 = "https://pypi.org/simple/"
    s3_presigned_url_ttl                          = 3600
    link_mode                                     = "presigned"
    page_max_age                                  = 0
    log_level                                     = "DEBUG"
    log_group_api_retention_in_days               = 7
    log_group_reindex_retention_in_days           = 365
    s3_versioning                                 = true
    s3_force_destroy                              = true
    reindex_maximum_retry_attempts                = 0
    api_authorization_type                        = "JWT"
    api_upload_route                              = true
    api_authorizer_id                             = "abc123"
    api_stage_name                                = "prod"
    tags                                          = { team = "platform" }
  }

  assert {
    condition     = aws_iam_role.this.name == "pkgs-lambda" && aws_sns_topic.this.name == "pkgs-events"
    error_message = "The role and topic names can be overridden."
  }
  assert {
    condition     = aws_lambda_function.api.function_name == "pkgs-http" && aws_lambda_function.reindex.function_name == "pkgs-indexer"
    error_message = "The function names can be overridden."
  }
  assert {
    condition     = aws_cloudwatch_log_group.api.name == "/aws/lambda/pkgs-http" && aws_cloudwatch_log_group.reindex.name == "/aws/lambda/pkgs-indexer"
    error_message = "The log groups follow the function names."
  }
  assert {
    condition     = aws_cloudwatch_log_group.api.retention_in_days == 7 && aws_cloudwatch_log_group.reindex.retention_in_days == 365
    error_message = "Log retention is set per function."
  }
  assert {
    condition     = aws_sqs_queue.reindex_dead_letter[0].name == "pkgs-indexer-dlq"
    error_message = "The queue follows the reindex function's name."
  }
  assert {
    condition     = strcontains(aws_iam_role_policy.this.policy, "\"arn:aws:lambda:eu-west-1:123456789012:function:pkgs-indexer\"") && strcontains(aws_iam_role_policy.this.policy, "log-group:/aws/lambda/pkgs-http:*")
    error_message = "The role policy names the overridden functions."
  }
  assert {
    condition     = aws_lambda_function.api.runtime == "python3.12" && aws_lambda_function.reindex.architectures == tolist(["x86_64"])
    error_message = "Runtime and architecture apply to both functions."
  }
  assert {
    condition     = aws_lambda_function.api.memory_size == 1024 && aws_lambda_function.api.timeout == 30 && aws_lambda_function.api.reserved_concurrent_executions == 20
    error_message = "The api function's sizing is configurable."
  }
  assert {
    condition     = aws_lambda_function.reindex.memory_size == 2048 && aws_lambda_function.reindex.timeout == 900 && aws_lambda_function.reindex.reserved_concurrent_executions == 2
    error_message = "The reindex function's sizing is configurable."
  }
  assert {
    condition     = aws_apigatewayv2_integration.api.timeout_milliseconds == 30000
    error_message = "The integration timeout never exceeds the HTTP API's 30 s."
  }
  assert {
    condition = aws_lambda_function.api.environment[0].variables == tomap({
      S3_BUCKET            = "my-pypi-bucket"
      FALLBACK_INDEX_URL   = "https://pypi.org/simple/"
      S3_PRESIGNED_URL_TTL = "3600"
      LINK_MODE            = "presigned"
      PAGE_MAX_AGE         = "0"
      LOG_LEVEL            = "DEBUG"
    })
    error_message = "The index settings reach the api function's environment."
  }
  assert {
    condition     = aws_lambda_function.reindex.environment[0].variables.LOG_LEVEL == "DEBUG"
    error_message = "The log level reaches the reindex function."
  }
  assert {
    condition     = aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled" && aws_s3_bucket.this.force_destroy
    error_message = "Versioning and force_destroy can be turned on."
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.reindex.maximum_retry_attempts == 0
    error_message = "The retry count is configurable."
  }
  assert {
    condition     = alltrue([for route in merge(aws_apigatewayv2_route.api, aws_apigatewayv2_route.upload) : route.authorization_type == "JWT" && route.authorizer_id == "abc123"])
    error_message = "Authorization applies to every route, the upload routes included."
  }
  assert {
    condition     = toset(keys(aws_apigatewayv2_route.upload)) == toset(local.upload_route_keys)
    error_message = "A caller's JWT authorizer brings the upload route."
  }
  assert {
    condition     = aws_lambda_function.upload[0].function_name == "pkgs-upload" && aws_iam_role.upload[0].name == "pkgs-upload" && aws_cloudwatch_log_group.upload[0].name == "/aws/lambda/pkgs-upload"
    error_message = "The upload function, its role and log group are named <name>-upload."
  }
  assert {
    condition     = aws_lambda_function.upload[0].runtime == "python3.12" && aws_lambda_function.upload[0].architectures == tolist(["x86_64"]) && aws_lambda_function.upload[0].environment[0].variables.LOG_LEVEL == "DEBUG"
    error_message = "Runtime, architecture and log level apply to the upload function too."
  }
  assert {
    condition     = output.upload_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/legacy/"
    error_message = "A named stage is part of the upload URL."
  }
  assert {
    condition     = output.index_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/simple/"
    error_message = "A named stage is part of the index URL."
  }
  assert {
    condition = aws_s3_bucket.this.tags == tomap(merge({ team = "platform" }, local.release_tags)) && alltrue([for tags in [
      aws_sns_topic.this.tags, aws_iam_role.this.tags, aws_lambda_function.api.tags, aws_lambda_function.reindex.tags,
      aws_cloudwatch_log_group.api.tags, aws_cloudwatch_log_group.reindex.tags, aws_sqs_queue.reindex_dead_letter[0].tags,
      aws_lambda_function.upload[0].tags, aws_cloudwatch_log_group.upload[0].tags, aws_iam_role.upload[0].tags,
    ] : tags == tomap({ team = "platform" })])
    error_message = "The tags reach every taggable resource."
  }
}

# The bucket as examples/basic sets it up: versioned, what is deleted kept 30 days.
run "deleted_files_kept_for_30_days" {
  command = plan

  variables {
    api_basic_auth                        = true
    s3_versioning                         = true
    s3_noncurrent_version_expiration_days = 30
  }

  assert {
    condition     = aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled"
    error_message = "s3_versioning turns versioning on."
  }
  assert {
    condition = alltrue([
      length(aws_s3_bucket_lifecycle_configuration.this[0].rule) == 1,
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].status == "Enabled",
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].noncurrent_version_expiration[0].noncurrent_days == 30,
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].expiration[0].expired_object_delete_marker,
    ])
    error_message = "One rule expires noncurrent versions after s3_noncurrent_version_expiration_days, and the delete markers left without a version."
  }
  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this[0].rule[0].transition) == 0 && length(aws_s3_bucket_lifecycle_configuration.this[0].rule[0].noncurrent_version_transition) == 0
    error_message = "The rule moves nothing to another storage class."
  }
}

run "custom_authorizer" {
  command = plan

  variables {
    api_authorization_type = "CUSTOM"
    api_upload_route       = true
    api_authorizer_id      = "zyx987"
  }

  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.api : route.authorization_type == "CUSTOM" && route.authorizer_id == "zyx987"])
    error_message = "A Lambda authorizer applies to every route."
  }
  assert {
    condition     = toset(keys(aws_apigatewayv2_route.upload)) == toset(local.upload_route_keys) && alltrue([for route in aws_apigatewayv2_route.upload : route.authorization_type == "CUSTOM" && route.authorizer_id == "zyx987"])
    error_message = "A caller's Lambda authorizer brings the upload routes, and guards them too."
  }
  assert {
    condition     = aws_lambda_function.upload[0].environment[0].variables.UPLOAD_RIGHT == "authorizer"
    error_message = "Behind a caller's authorizer, the authorizer alone decides who may upload."
  }
  assert {
    condition     = length(aws_iam_role.authorizer) == 0 && length(aws_apigatewayv2_authorizer.basic) == 0
    error_message = "The upload route brings no authorizer of the module's."
  }
}

run "upload_refuses_local_versions" {
  command = plan

  variables {
    api_basic_auth               = true
    upload_refuse_local_versions = true
  }

  assert {
    condition     = aws_lambda_function.upload[0].environment[0].variables.LOCAL_VERSIONS == "refuse"
    error_message = "With upload_refuse_local_versions, the upload function refuses local versions (LOCAL_VERSIONS = refuse)."
  }
}

run "aws_iam_authorization" {
  command = plan

  variables {
    api_authorization_type = "AWS_IAM"
    api_upload_route       = true
  }

  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.api : route.authorization_type == "AWS_IAM" && route.authorizer_id == null])
    error_message = "IAM authorization needs no authorizer."
  }
  assert {
    condition     = toset(keys(aws_apigatewayv2_route.upload)) == toset(local.upload_route_keys) && alltrue([for route in aws_apigatewayv2_route.upload : route.authorization_type == "AWS_IAM" && route.authorizer_id == null])
    error_message = "IAM authorization brings the upload routes, and guards them too."
  }
  assert {
    condition     = aws_lambda_function.upload[0].environment[0].variables.UPLOAD_RIGHT == "authorizer"
    error_message = "Behind IAM authorization, IAM alone decides who may upload."
  }
}

# The upload route (PyPI's legacy upload API) behind the built-in authorizer:
# two routes on a second integration, a fourth function with its own role.
run "upload_route" {
  command = plan

  variables {
    api_basic_auth = true
  }

  override_resource {
    target          = aws_lambda_function.upload
    override_during = plan
    values = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-upload"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-upload/invocations"
    }
  }
  override_resource {
    target          = aws_iam_role.upload
    override_during = plan
    values = {
      arn = "arn:aws:iam::123456789012:role/serverless-pypi-upload"
      id  = "serverless-pypi-upload"
    }
  }
  override_resource {
    target          = aws_apigatewayv2_integration.api
    override_during = plan
    values = {
      id = "ap1int"
    }
  }
  override_resource {
    target          = aws_apigatewayv2_integration.upload
    override_during = plan
    values = {
      id = "upl0ad"
    }
  }
  override_resource {
    target          = aws_apigatewayv2_route.upload
    override_during = plan
    values = {
      id = "up1oad"
    }
  }
  # Known IDs and ARNs, so that deployment_trigger is known at plan.
  override_resource {
    target          = aws_lambda_function.api
    override_during = plan
    values = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-api"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-api/invocations"
    }
  }
  override_resource {
    target          = aws_lambda_function.authorizer
    override_during = plan
    values = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-authorizer"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-authorizer/invocations"
    }
  }
  override_resource {
    target          = aws_apigatewayv2_route.api
    override_during = plan
    values = {
      id = "r0ute"
    }
  }

  # The routes
  assert {
    condition     = toset(keys(aws_apigatewayv2_route.upload)) == toset(local.upload_route_keys)
    error_message = "The upload routes are local.upload_route_keys (POST /legacy and /legacy/)."
  }
  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.upload : route.api_id == "a1b2c3d4e5" && route.target == "integrations/upl0ad"])
    error_message = "The upload routes lead to the upload integration, on the given API."
  }
  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.api : route.target == "integrations/ap1int"])
    error_message = "The index's routes keep their integration."
  }
  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.upload : route.authorization_type == "CUSTOM" && route.authorizer_id == aws_apigatewayv2_authorizer.basic[0].id])
    error_message = "The upload routes go through the module's authorizer, as the other routes do."
  }
  assert {
    condition = alltrue([
      aws_apigatewayv2_integration.upload[0].integration_type == "AWS_PROXY",
      aws_apigatewayv2_integration.upload[0].integration_method == "POST",
      aws_apigatewayv2_integration.upload[0].payload_format_version == "2.0",
      aws_apigatewayv2_integration.upload[0].integration_uri == aws_lambda_function.upload[0].invoke_arn,
    ])
    error_message = "The upload integration is a Lambda proxy to the upload function, payload 2.0."
  }
  assert {
    condition     = aws_apigatewayv2_integration.upload[0].timeout_milliseconds == 30000
    error_message = "The upload integration waits the HTTP API's 30 s (the function's 29 s and one)."
  }
  assert {
    condition = alltrue([
      aws_lambda_permission.upload[0].function_name == "serverless-pypi-upload",
      aws_lambda_permission.upload[0].principal == "apigateway.amazonaws.com",
      aws_lambda_permission.upload[0].action == "lambda:InvokeFunction",
      aws_lambda_permission.upload[0].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/*/*",
    ])
    error_message = "Only the given API may invoke the upload function."
  }

  # The function
  assert {
    condition     = aws_lambda_function.upload[0].function_name == "serverless-pypi-upload" && aws_lambda_function.upload[0].handler == "serverless_pypi.upload.handler"
    error_message = "The upload function is <name>-upload and runs serverless_pypi.upload.handler."
  }
  assert {
    condition = alltrue([
      aws_lambda_function.upload[0].filename == aws_lambda_function.api.filename,
      aws_lambda_function.upload[0].source_code_hash == aws_lambda_function.api.source_code_hash,
      aws_lambda_function.upload[0].runtime == aws_lambda_function.api.runtime,
      aws_lambda_function.upload[0].architectures == aws_lambda_function.api.architectures,
    ])
    error_message = "The upload function deploys the same package, runtime and architecture as the other functions."
  }
  assert {
    condition     = aws_lambda_function.upload[0].memory_size == 1024 && aws_lambda_function.upload[0].timeout == 29
    error_message = "The upload function has 1024 MB and 29 s by default."
  }
  assert {
    condition = aws_lambda_function.upload[0].environment[0].variables == tomap({
      S3_BUCKET    = "my-pypi-bucket"
      LOG_LEVEL    = "INFO"
      UPLOAD_RIGHT = "required"
    })
    error_message = "The upload function's environment is the bucket, the log level and UPLOAD_RIGHT = required (the user's upload right, behind the module's authorizer)."
  }
  assert {
    condition     = aws_cloudwatch_log_group.upload[0].name == "/aws/lambda/serverless-pypi-upload" && aws_cloudwatch_log_group.upload[0].retention_in_days == 30
    error_message = "The upload function logs to its own log group, kept 30 days by default."
  }

  # Its own role, least privilege
  assert {
    condition     = aws_lambda_function.upload[0].role == "arn:aws:iam::123456789012:role/serverless-pypi-upload" && aws_iam_role.upload[0].name == "serverless-pypi-upload"
    error_message = "The upload function runs with its own role, named like the function."
  }
  assert {
    condition     = jsondecode(aws_iam_role.upload[0].assume_role_policy).Statement[0].Principal == { Service = "lambda.amazonaws.com" }
    error_message = "Only Lambda may assume the upload function's role."
  }
  assert {
    condition     = aws_iam_role_policy.upload[0].role == "serverless-pypi-upload" && aws_iam_role_policy.upload[0].name == "serverless-pypi-upload"
    error_message = "The upload function's policy is on its own role."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.upload[0].policy).Statement == [
      {
        Sid       = "AddDistributions"
        Effect    = "Allow"
        Action    = "s3:PutObject"
        Resource  = ["arn:aws:s3:::my-pypi-bucket/*/*.whl", "arn:aws:s3:::my-pypi-bucket/*/*.tar.gz", "arn:aws:s3:::my-pypi-bucket/*/*.zip"]
        Condition = { Null = { "s3:if-none-match" = "false" } }
      },
      {
        Sid      = "DenyDeeperKeys"
        Effect   = "Deny"
        Action   = "s3:PutObject"
        Resource = "arn:aws:s3:::my-pypi-bucket/*/*/*"
      },
      {
        Sid      = "DenyWriteIndexData"
        Effect   = "Deny"
        Action   = "s3:PutObject"
        Resource = "arn:aws:s3:::my-pypi-bucket/${local.derived_prefix}*"
      },
      {
        Sid      = "ListFolders"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = "arn:aws:s3:::my-pypi-bucket"
      },
      {
        Sid      = "ReadDistributionsAndManifests"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = ["arn:aws:s3:::my-pypi-bucket/*/*.whl", "arn:aws:s3:::my-pypi-bucket/*/*.tar.gz", "arn:aws:s3:::my-pypi-bucket/*/*.zip", "arn:aws:s3:::my-pypi-bucket/${local.derived_prefix}projects/*.json"]
      },
      {
        Sid      = "WriteLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/serverless-pypi-upload:*"
      },
    ]
    error_message = "The upload function puts distribution files one level deep only with If-None-Match (never overwriting one), never under the derived prefix, reads what its checks need, and writes its own logs: no KMS without a key."
  }
  assert {
    condition = toset([for action in flatten([for statement in jsondecode(aws_iam_role_policy.upload[0].policy).Statement : statement.Action]) : action
    if startswith(action, "s3:")]) == toset(["s3:PutObject", "s3:ListBucket", "s3:GetObject"])
    error_message = "Nothing else in S3: no DeleteObject, no ACL, tagging or bucket settings."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Sid] == [
      "ListBucket", "ReadProjectsAndIndexData", "ReindexReadRootIndex", "ReindexWriteIndexData", "ApiWriteLogs", "ReindexWriteLogs", "ReindexSendFailedEvents",
    ] && !strcontains(aws_iam_role_policy.this.policy, "upload")
    error_message = "The shared role gains nothing from the upload route."
  }
  assert {
    condition     = [for statement in jsondecode(aws_iam_role_policy.authorizer[0].policy).Statement : statement.Sid] == ["ReadUsersFile", "ReadUsers", "WriteLogs"] && !strcontains(aws_iam_role_policy.authorizer[0].policy, "s3:PutObject")
    error_message = "The authorizer's role gains nothing from the upload route."
  }

  # Outputs
  assert {
    condition = alltrue([
      output.upload_function_name == "serverless-pypi-upload",
      output.upload_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-upload",
      output.upload_log_group_name == "/aws/lambda/serverless-pypi-upload",
    ])
    error_message = "The upload function's name, ARN and log group are outputs."
  }
  assert {
    condition     = output.upload_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/legacy/" && output.index_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/simple/"
    error_message = "The upload URL is the index's base URL and legacy/ (what twine's --repository-url takes)."
  }
  assert {
    condition     = output.route_keys == sort(concat(local.route_keys, local.upload_route_keys)) && output.route_ids["POST /legacy/"] == "up1oad" && toset(keys(output.route_ids)) == toset(output.route_keys)
    error_message = "The route keys and IDs include the upload routes."
  }
  assert {
    condition     = can(regex("^[0-9a-f]{40}$", output.deployment_trigger))
    error_message = "The deployment trigger is a SHA-1 (compared with the upload route's absence in the next run)."
  }
}

run "upload_route_overrides" {
  command = plan

  variables {
    api_basic_auth                     = true
    lambda_upload_function_name        = "pkgs-publish"
    iam_upload_role_name               = "pkgs-publish-role"
    lambda_upload_memory_size          = 2048
    lambda_upload_timeout              = 20
    log_group_upload_retention_in_days = 7
    s3_kms_key_arn                     = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    tags                               = { team = "platform" }
  }

  assert {
    condition     = aws_lambda_function.upload[0].function_name == "pkgs-publish" && aws_cloudwatch_log_group.upload[0].name == "/aws/lambda/pkgs-publish" && aws_iam_role.upload[0].name == "pkgs-publish-role" && aws_iam_role_policy.upload[0].name == "pkgs-publish-role"
    error_message = "The upload function's and role's names can be overridden; the log group follows the function."
  }
  assert {
    condition     = aws_lambda_function.upload[0].memory_size == 2048 && aws_lambda_function.upload[0].timeout == 20 && aws_cloudwatch_log_group.upload[0].retention_in_days == 7
    error_message = "The upload function's sizing and log retention are configurable."
  }
  assert {
    condition     = aws_apigatewayv2_integration.upload[0].timeout_milliseconds == 21000
    error_message = "The upload integration waits a second longer than the function may run."
  }
  assert {
    condition = slice(jsondecode(aws_iam_role_policy.upload[0].policy).Statement, 6, length(jsondecode(aws_iam_role_policy.upload[0].policy).Statement)) == [{
      Sid       = "EncryptDistributions"
      Effect    = "Allow"
      Action    = "kms:GenerateDataKey"
      Resource  = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      Condition = { StringEquals = { "kms:ViaService" = "s3.eu-west-1.amazonaws.com" } }
    }]
    error_message = "With a bucket key, the upload function gains one statement: data keys from it, through S3 only (no Decrypt: it reads no object's bytes, HEAD needs none)."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.upload[0].policy).Statement[5].Resource == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/pkgs-publish:*"
    error_message = "The upload function logs to its own, renamed, log group."
  }
  assert {
    condition = alltrue([for tags in [
      aws_lambda_function.upload[0].tags, aws_cloudwatch_log_group.upload[0].tags, aws_iam_role.upload[0].tags,
    ] : tags == tomap({ team = "platform" })])
    error_message = "The tags reach the upload route's taggable resources."
  }
}

# api_upload_route = false: behind an authorizer, still no upload route.
run "upload_route_off" {
  command = plan

  variables {
    api_basic_auth   = true
    api_upload_route = false
  }

  override_resource {
    target          = aws_apigatewayv2_integration.api
    override_during = plan
    values = {
      id = "ap1int"
    }
  }
  # Known IDs and ARNs, so that deployment_trigger is known at plan.
  override_resource {
    target          = aws_lambda_function.api
    override_during = plan
    values = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-api"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-api/invocations"
    }
  }
  override_resource {
    target          = aws_lambda_function.authorizer
    override_during = plan
    values = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-authorizer"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-authorizer/invocations"
    }
  }
  override_resource {
    target          = aws_apigatewayv2_route.api
    override_during = plan
    values = {
      id = "r0ute"
    }
  }

  assert {
    condition = alltrue([for count in [
      length(aws_apigatewayv2_integration.upload), length(aws_apigatewayv2_route.upload), length(aws_lambda_function.upload),
      length(aws_cloudwatch_log_group.upload), length(aws_iam_role.upload), length(aws_iam_role_policy.upload), length(aws_lambda_permission.upload),
    ] : count == 0])
    error_message = "With api_upload_route = false there is no upload route, nor its integration, function, log group, role or permission."
  }
  assert {
    condition     = output.upload_url == null && output.upload_function_name == null && output.upload_function_arn == null && output.upload_log_group_name == null
    error_message = "Without the upload route its outputs are null."
  }
  assert {
    condition     = output.route_keys == sort(local.route_keys) && length(aws_apigatewayv2_authorizer.basic) == 1
    error_message = "The index's routes and the authorizer stay."
  }
  assert {
    condition     = can(regex("^[0-9a-f]{40}$", output.deployment_trigger)) && output.deployment_trigger != run.upload_route.deployment_trigger
    error_message = "The deployment trigger covers the upload routes and integration: the same API with them (run upload_route) hashes differently."
  }
}

# Public routes: no upload route, whatever api_upload_route says.
run "upload_route_never_public" {
  command = plan

  expect_failures = [check.public_routes]

  variables {
    api_upload_route = true
  }

  assert {
    condition = alltrue([for count in [
      length(aws_apigatewayv2_integration.upload), length(aws_apigatewayv2_route.upload), length(aws_lambda_function.upload),
      length(aws_cloudwatch_log_group.upload), length(aws_iam_role.upload), length(aws_iam_role_policy.upload), length(aws_lambda_permission.upload),
    ] : count == 0])
    error_message = "Anonymous uploads never exist: with public routes there is no upload route."
  }
  assert {
    condition     = output.upload_url == null && output.route_keys == sort(local.route_keys)
    error_message = "With public routes there is no upload URL, and only the index's routes."
  }
}

# A caller's own authorizer gets no upload route unless asked: it would decide alone
# who may upload, and an upgrade must not open one.
run "caller_authorizer_upload_route_is_opt_in" {
  command = plan

  variables {
    api_authorization_type = "AWS_IAM"
  }

  assert {
    condition     = length(aws_apigatewayv2_route.upload) == 0 && length(aws_lambda_function.upload) == 0
    error_message = "With a caller's authorizer and api_upload_route unset there must be no upload route."
  }
}

# index_at_api_root: the older module's route keys and its root URL.
run "index_at_the_api_root" {
  command = plan

  variables {
    index_at_api_root = true
    api_basic_auth    = true
  }

  assert {
    condition     = toset(keys(aws_apigatewayv2_route.api)) == toset(["GET /", "HEAD /", "GET /{package+}", "HEAD /{package+}"])
    error_message = "The root layout uses the older module's route keys."
  }

  assert {
    condition     = aws_lambda_function.api.environment[0].variables["INDEX_PATH"] == "/"
    error_message = "The api function is told to serve at the root."
  }

  assert {
    condition     = !endswith(output.index_url, "simple/")
    error_message = "index_url is the API's root in the root layout."
  }
}
