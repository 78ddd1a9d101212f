# The older serverless PyPI module's interface (compat.tf): a configuration
# written for it (v4.1.x) plans here unchanged, its per-resource tags,
# descriptions and policy name apply, its publish and alias inputs are
# accepted with a warning, and its outputs have the attributes its users read.
# `terraform test` (make tf-test), plan-level, mocked provider.
#
# As in validation.tftest.hcl the runs have the built-in HTTP Basic authorizer
# on, so that the public_routes check stays quiet (in a test a failed check is
# an error unless expected); the run with every older input puts the older
# module's kind of authorizer (CUSTOM, by ID) on the routes instead.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
  api_basic_auth    = true
}

# Every input of the older module, as its users set them.
run "every_older_input" {
  command = plan

  variables {
    api_basic_auth = false

    api_authorization_type                = "CUSTOM"
    api_authorizer_id                     = "abc123"
    iam_role_description                  = "PyPI Lambda permissions"
    iam_role_name                         = "serverless-pypi-role"
    iam_role_policy_name                  = "pypi-lambda-permissions"
    iam_role_tags                         = { owner = "iam" }
    lambda_api_alias_name                 = "prod"
    lambda_api_alias_function_version     = "$LATEST"
    lambda_api_description                = "PyPI service REST API"
    lambda_api_fallback_index_url         = "https://pypi.org/simple/"
    lambda_api_function_name              = "serverless-pypi-api-fn"
    lambda_api_memory_size                = 128
    lambda_api_publish                    = false
    lambda_api_tags                       = { owner = "api" }
    lambda_api_timeout                    = 3
    lambda_reindex_alias_name             = "prod"
    lambda_reindex_alias_function_version = "$LATEST"
    lambda_reindex_description            = "PyPI service reindexer"
    lambda_reindex_function_name          = "serverless-pypi-reindex-fn"
    lambda_reindex_memory_size            = 128
    lambda_reindex_publish                = true
    lambda_reindex_tags                   = { owner = "reindex" }
    lambda_reindex_timeout                = 3
    lambda_runtime                        = "python3.12"
    log_group_api_retention_in_days       = 0
    log_group_api_tags                    = { owner = "api-logs" }
    log_group_reindex_retention_in_days   = 0
    log_group_reindex_tags                = { owner = "reindex-logs" }
    s3_bucket_tags                        = { owner = "bucket", backup = "daily" }
    s3_presigned_url_ttl                  = 600
    sns_topic_name                        = "serverless-pypi-topic"
    sns_topic_tags                        = { owner = "topic" }

    tags = { team = "platform", owner = "platform" }
  }

  # The alias and publish inputs are accepted, with a warning.
  expect_failures = [check.older_module_inputs]

  assert {
    condition = local.older_module_ignored_inputs == [
      "lambda_api_alias_function_version", "lambda_api_alias_name", "lambda_api_publish",
      "lambda_reindex_alias_function_version", "lambda_reindex_alias_name", "lambda_reindex_publish",
    ]
    error_message = "The warning names every alias and publish input that is set, false included."
  }

  # Tags: `tags` everywhere, each older map on its own resource, winning on a shared key.
  assert {
    condition     = aws_s3_bucket.this.tags == tomap(merge({ team = "platform", owner = "bucket", backup = "daily" }, local.release_tags))
    error_message = "s3_bucket_tags add to tags on the bucket."
  }
  assert {
    condition     = aws_sns_topic.this.tags == tomap({ team = "platform", owner = "topic" })
    error_message = "sns_topic_tags add to tags on the topic."
  }
  assert {
    condition     = aws_iam_role.this.tags == tomap({ team = "platform", owner = "iam" })
    error_message = "iam_role_tags add to tags on the shared role."
  }
  assert {
    condition     = aws_lambda_function.api.tags == tomap({ team = "platform", owner = "api" })
    error_message = "lambda_api_tags add to tags on the api function."
  }
  assert {
    condition     = aws_lambda_function.reindex.tags == tomap({ team = "platform", owner = "reindex" })
    error_message = "lambda_reindex_tags add to tags on the reindex function."
  }
  assert {
    condition     = aws_cloudwatch_log_group.api.tags == tomap({ team = "platform", owner = "api-logs" })
    error_message = "log_group_api_tags add to tags on the api function's log group."
  }
  assert {
    condition     = aws_cloudwatch_log_group.reindex.tags == tomap({ team = "platform", owner = "reindex-logs" })
    error_message = "log_group_reindex_tags add to tags on the reindex function's log group."
  }
  assert {
    condition     = aws_sqs_queue.reindex_dead_letter[0].tags == tomap({ team = "platform", owner = "platform" })
    error_message = "A resource the older module did not have gets tags alone."
  }

  # Descriptions and the policy's name.
  assert {
    condition     = aws_iam_role.this.description == "PyPI Lambda permissions" && aws_iam_role_policy.this.name == "pypi-lambda-permissions"
    error_message = "iam_role_description and iam_role_policy_name apply to the shared role and its policy."
  }
  assert {
    condition     = aws_lambda_function.api.description == "PyPI service REST API" && aws_lambda_function.reindex.description == "PyPI service reindexer"
    error_message = "lambda_api_description and lambda_reindex_description apply to the functions."
  }

  # The inputs both modules have.
  assert {
    condition = alltrue([
      aws_iam_role.this.name == "serverless-pypi-role",
      aws_sns_topic.this.name == "serverless-pypi-topic",
      aws_lambda_function.api.function_name == "serverless-pypi-api-fn",
      aws_lambda_function.reindex.function_name == "serverless-pypi-reindex-fn",
      aws_cloudwatch_log_group.api.name == "/aws/lambda/serverless-pypi-api-fn",
      aws_cloudwatch_log_group.reindex.name == "/aws/lambda/serverless-pypi-reindex-fn",
    ])
    error_message = "The older module's names apply."
  }
  assert {
    condition = alltrue([
      aws_lambda_function.api.memory_size == 128, aws_lambda_function.api.timeout == 3,
      aws_lambda_function.reindex.memory_size == 128, aws_lambda_function.reindex.timeout == 3,
      aws_lambda_function.api.runtime == "python3.12", aws_lambda_function.reindex.runtime == "python3.12",
      aws_cloudwatch_log_group.api.retention_in_days == 0, aws_cloudwatch_log_group.reindex.retention_in_days == 0,
    ])
    error_message = "The older module's sizes, timeouts, runtime and log retentions apply."
  }
  assert {
    condition = (
      aws_lambda_function.api.environment[0].variables["FALLBACK_INDEX_URL"] == "https://pypi.org/simple/"
      && aws_lambda_function.api.environment[0].variables["S3_PRESIGNED_URL_TTL"] == "600"
    )
    error_message = "The fallback index and the presigned URL lifetime reach the api function."
  }
  assert {
    condition = alltrue([for route in aws_apigatewayv2_route.api :
      route.authorization_type == "CUSTOM" && route.authorizer_id == "abc123"
    ])
    error_message = "The older module's authorizer (api_authorization_type, api_authorizer_id) is on every route."
  }

  # The older outputs, with the names set above.
  assert {
    condition = alltrue([
      output.iam_role.name == "serverless-pypi-role",
      output.s3_bucket.bucket == "my-pypi-bucket",
      output.lambda_api.function_name == "serverless-pypi-api-fn",
      output.lambda_api_log_group.name == "/aws/lambda/serverless-pypi-api-fn",
      output.lambda_reindex.function_name == "serverless-pypi-reindex-fn",
      output.lambda_reindex_log_group.name == "/aws/lambda/serverless-pypi-reindex-fn",
      output.sns_topic.name == "serverless-pypi-topic",
    ])
    error_message = "The older outputs follow the older inputs."
  }
}

# Without any older input: no warning, this module's own descriptions, policy
# name and tags, and the older outputs beside the flat ones.
run "older_outputs" {
  command = plan

  assert {
    condition     = local.older_module_ignored_inputs == []
    error_message = "Nothing to warn about when no alias or publish input is set (and the run has no expected failure)."
  }
  assert {
    condition = alltrue([
      output.iam_role.name == "serverless-pypi",
      output.iam_role.name == output.iam_role_name,
      output.iam_role.arn == output.iam_role_arn,
      output.iam_role.description == "serverless-pypi: functions serverless-pypi-api and serverless-pypi-reindex",
    ])
    error_message = "output.iam_role is the shared role: its name, ARN and description."
  }
  assert {
    condition     = output.s3_bucket.bucket == "my-pypi-bucket" && output.s3_bucket.bucket == output.bucket_name
    error_message = "output.s3_bucket is the bucket."
  }
  assert {
    condition = alltrue([
      output.lambda_api.function_name == "serverless-pypi-api",
      output.lambda_api.function_name == output.api_function_name,
      output.lambda_api.handler == "serverless_pypi.api.handler",
      output.lambda_api.description == "serverless-pypi: the simple API of s3://my-pypi-bucket",
      output.lambda_api_log_group.name == "/aws/lambda/serverless-pypi-api",
      output.lambda_api_log_group.name == output.api_log_group_name,
    ])
    error_message = "output.lambda_api and output.lambda_api_log_group are the api function and its log group."
  }
  assert {
    condition = alltrue([
      output.lambda_reindex.function_name == "serverless-pypi-reindex",
      output.lambda_reindex.function_name == output.reindex_function_name,
      output.lambda_reindex.handler == "serverless_pypi.reindex.handler",
      output.lambda_reindex.description == "serverless-pypi: reindexes s3://my-pypi-bucket on its notifications",
      output.lambda_reindex_log_group.name == "/aws/lambda/serverless-pypi-reindex",
      output.lambda_reindex_log_group.name == output.reindex_log_group_name,
    ])
    error_message = "output.lambda_reindex and output.lambda_reindex_log_group are the reindex function and its log group."
  }
  assert {
    condition     = output.sns_topic.name == "serverless-pypi"
    error_message = "output.sns_topic is the topic."
  }
  assert {
    condition     = aws_iam_role_policy.this.name == "serverless-pypi"
    error_message = "The role policy is named <name> by default."
  }
  assert {
    condition = aws_s3_bucket.this.tags == local.release_tags && alltrue([for tags in [
      aws_sns_topic.this.tags, aws_iam_role.this.tags, aws_lambda_function.api.tags,
      aws_lambda_function.reindex.tags, aws_cloudwatch_log_group.api.tags, aws_cloudwatch_log_group.reindex.tags,
    ] : length(tags) == 0])
    error_message = "No tags by default, but the release on the bucket."
  }
}

# The older tags alone, without `tags`.
run "older_tags_alone" {
  command = plan

  variables {
    s3_bucket_tags = { backup = "daily" }
    sns_topic_tags = { owner = "topic" }
  }

  assert {
    condition     = aws_s3_bucket.this.tags == tomap(merge({ backup = "daily" }, local.release_tags)) && aws_sns_topic.this.tags == tomap({ owner = "topic" })
    error_message = "Each older tags map reaches its resource without tags."
  }
  assert {
    condition     = length(aws_iam_role.this.tags) == 0 && length(aws_lambda_function.api.tags) == 0 && length(aws_sqs_queue.reindex_dead_letter[0].tags) == 0
    error_message = "An older tags map reaches no other resource."
  }
}

# One alias or publish input is enough for the warning, and it names that one.
run "one_older_input_without_effect" {
  command = plan

  variables {
    lambda_api_publish = false
  }

  expect_failures = [check.older_module_inputs]

  assert {
    condition     = local.older_module_ignored_inputs == ["lambda_api_publish"]
    error_message = "The warning names the one input that is set."
  }
}

# Empty descriptions keep this module's own (coalesce).
run "empty_descriptions" {
  command = plan

  variables {
    iam_role_description       = ""
    lambda_api_description     = ""
    lambda_reindex_description = ""
  }

  assert {
    condition = alltrue([
      aws_iam_role.this.description == "serverless-pypi: functions serverless-pypi-api and serverless-pypi-reindex",
      aws_lambda_function.api.description == "serverless-pypi: the simple API of s3://my-pypi-bucket",
      aws_lambda_function.reindex.description == "serverless-pypi: reindexes s3://my-pypi-bucket on its notifications",
    ])
    error_message = "An empty description keeps the module's own."
  }
}

# The validation rules of compat.tf, one failing run each, and the limits.

run "invalid_iam_role_description" {
  command = plan

  variables {
    iam_role_description = "PyPI \u2014 Lambda permissions" # an em dash, outside Latin-1
  }

  expect_failures = [var.iam_role_description]
}

run "invalid_iam_role_description_length" {
  command = plan

  variables {
    iam_role_description = "${join("", [for i in range(999) : "d"])}\u00e9" # 1000 characters, 1001 bytes in UTF-8
  }

  expect_failures = [var.iam_role_description]
}

run "invalid_iam_role_policy_name" {
  command = plan

  variables {
    iam_role_policy_name = "pypi lambda permissions" # spaces
  }

  expect_failures = [var.iam_role_policy_name]
}

run "invalid_lambda_api_description" {
  command = plan

  variables {
    lambda_api_description = join("", [for i in range(257) : "d"]) # 257 characters
  }

  expect_failures = [var.lambda_api_description]
}

run "invalid_lambda_reindex_description" {
  command = plan

  variables {
    lambda_reindex_description = "${join("", [for i in range(253) : "d"])}\U0001F40D" # 254 characters, 257 bytes in UTF-8
  }

  expect_failures = [var.lambda_reindex_description]
}

# The longest values, in UTF-8 bytes as the provider counts them.
run "description_and_policy_name_limits" {
  command = plan

  variables {
    iam_role_description       = "Caf\u00e9 \u00ab PyPI \u00bb\t${join("", [for i in range(983) : "d"])}" # 1000 bytes: Latin-1 letters count 2
    iam_role_policy_name       = join("", [for i in range(128) : "p"])
    lambda_api_description     = "${join("", [for i in range(254) : "a"])}\u00e9"     # 256 bytes
    lambda_reindex_description = "${join("", [for i in range(252) : "r"])}\U0001F40D" # 256 bytes
  }

  assert {
    condition     = aws_iam_role.this.description == var.iam_role_description && aws_iam_role_policy.this.name == var.iam_role_policy_name
    error_message = "A description of 1000 bytes and a policy name of 128 characters are accepted."
  }
  assert {
    condition     = aws_lambda_function.api.description == var.lambda_api_description && aws_lambda_function.reindex.description == var.lambda_reindex_description
    error_message = "Function descriptions of 256 bytes are accepted."
  }
}
