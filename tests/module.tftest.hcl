# Plan-level tests of the module: `terraform test` (make tf-test).
# The provider is mocked: nothing reaches AWS. Mocked providers still run the
# real provider's validation, hence realistic values for what the module reads.
# The bucket layout and the route keys are asserted against the module's own
# locals (main.tf), not a copy: tests/test_terraform_layout.py checks those
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
    condition     = length(aws_s3_bucket_versioning.this) == 0
    error_message = "Versioning is off by default."
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

  # Tags: none by default.
  assert {
    condition     = length(aws_s3_bucket.this.tags) == 0
    error_message = "Nothing is tagged unless asked."
  }
}

# The role: one for both functions, least privilege.
run "role_policy" {
  command = plan

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
    condition     = alltrue([for route in aws_apigatewayv2_route.api : route.authorization_type == "JWT" && route.authorizer_id == "abc123"])
    error_message = "Authorization applies to every route."
  }
  assert {
    condition     = output.index_url == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/simple/"
    error_message = "A named stage is part of the index URL."
  }
  assert {
    condition = alltrue([for tags in [
      aws_s3_bucket.this.tags, aws_sns_topic.this.tags, aws_iam_role.this.tags, aws_lambda_function.api.tags, aws_lambda_function.reindex.tags,
      aws_cloudwatch_log_group.api.tags, aws_cloudwatch_log_group.reindex.tags, aws_sqs_queue.reindex_dead_letter[0].tags,
    ] : tags == tomap({ team = "platform" })])
    error_message = "The tags reach every taggable resource."
  }
}

run "custom_authorizer" {
  command = plan

  variables {
    api_authorization_type = "CUSTOM"
    api_authorizer_id      = "zyx987"
  }

  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.api : route.authorization_type == "CUSTOM" && route.authorizer_id == "zyx987"])
    error_message = "A Lambda authorizer applies to every route."
  }
}

run "aws_iam_authorization" {
  command = plan

  variables {
    api_authorization_type = "AWS_IAM"
  }

  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.api : route.authorization_type == "AWS_IAM" && route.authorizer_id == null])
    error_message = "IAM authorization needs no authorizer."
  }
}
