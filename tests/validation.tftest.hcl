# One failing run per validation rule of variables.tf (and per precondition),
# plus the limits that must still pass. `terraform test` (make tf-test).
#
# The runs have the built-in HTTP Basic authorizer on (api_basic_auth), so
# that they plan it too and the public_routes check stays quiet: in a test a
# failed check is an error, which would hide the failure a run expects. Runs
# about api_authorization_type turn it off.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
  api_basic_auth    = true
}

run "invalid_api_id" {
  command = plan

  variables {
    api_id = "A1B2-C3" # not an API ID
  }

  expect_failures = [var.api_id]
}

run "invalid_api_execution_arn" {
  command = plan

  variables {
    api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/*/*" # with a stage and route
  }

  expect_failures = [var.api_execution_arn]
}

run "invalid_s3_bucket_name" {
  command = plan

  variables {
    s3_bucket_name = "My_Bucket" # uppercase and underscore
  }

  expect_failures = [var.s3_bucket_name]
}

run "invalid_name" {
  command = plan

  variables {
    name = "serverless pypi" # a space
  }

  expect_failures = [var.name]
}

run "invalid_iam_role_name" {
  command = plan

  variables {
    iam_role_name = "role/with/slashes" # slashes
  }

  expect_failures = [var.iam_role_name]
}

run "invalid_lambda_api_function_name" {
  command = plan

  variables {
    lambda_api_function_name = "api.function" # a dot
  }

  expect_failures = [var.lambda_api_function_name]
}

run "invalid_lambda_reindex_function_name" {
  command = plan

  variables {
    lambda_reindex_function_name = join("", [for i in range(65) : "x"]) # 65 characters
  }

  expect_failures = [var.lambda_reindex_function_name]
}

run "invalid_lambda_authorizer_function_name" {
  command = plan

  variables {
    lambda_authorizer_function_name = "auth:function" # a colon
  }

  expect_failures = [var.lambda_authorizer_function_name]
}

run "invalid_iam_authorizer_role_name" {
  command = plan

  variables {
    iam_authorizer_role_name = join("", [for i in range(65) : "r"]) # 65 characters
  }

  expect_failures = [var.iam_authorizer_role_name]
}

run "invalid_lambda_upload_function_name" {
  command = plan

  variables {
    lambda_upload_function_name = "upload/function" # a slash
  }

  expect_failures = [var.lambda_upload_function_name]
}

run "invalid_iam_upload_role_name" {
  command = plan

  variables {
    iam_upload_role_name = "upload role" # a space
  }

  expect_failures = [var.iam_upload_role_name]
}

run "invalid_sns_topic_name" {
  command = plan

  variables {
    sns_topic_name = "topic.fifo.name" # dots
  }

  expect_failures = [var.sns_topic_name]
}

run "invalid_lambda_runtime" {
  command = plan

  variables {
    lambda_runtime = "python3.9" # too old for the handlers
  }

  expect_failures = [var.lambda_runtime]
}

run "invalid_lambda_architecture" {
  command = plan

  variables {
    lambda_architecture = "aarch64" # not a Lambda name
  }

  expect_failures = [var.lambda_architecture]
}

run "invalid_lambda_api_memory_size" {
  command = plan

  variables {
    lambda_api_memory_size = 64 # below 128 MB
  }

  expect_failures = [var.lambda_api_memory_size]
}

run "invalid_lambda_api_timeout" {
  command = plan

  variables {
    lambda_api_timeout = 31 # beyond the HTTP API's 30 s
  }

  expect_failures = [var.lambda_api_timeout]
}

run "invalid_lambda_api_reserved_concurrent_executions" {
  command = plan

  variables {
    lambda_api_reserved_concurrent_executions = -1 # negative: use null
  }

  expect_failures = [var.lambda_api_reserved_concurrent_executions]
}

run "invalid_lambda_reindex_memory_size" {
  command = plan

  variables {
    lambda_reindex_memory_size = 10241 # above 10240 MB
  }

  expect_failures = [var.lambda_reindex_memory_size]
}

run "invalid_lambda_reindex_timeout" {
  command = plan

  variables {
    lambda_reindex_timeout = 901 # beyond Lambda's 900 s
  }

  expect_failures = [var.lambda_reindex_timeout]
}

run "too_short_lambda_reindex_timeout" {
  command = plan

  variables {
    lambda_reindex_timeout = 2 # leaves no time to read a file after the 1 s kept back
  }

  expect_failures = [var.lambda_reindex_timeout]
}

run "invalid_lambda_reindex_reserved_concurrent_executions" {
  command = plan

  variables {
    lambda_reindex_reserved_concurrent_executions = 1.5 # not whole
  }

  expect_failures = [var.lambda_reindex_reserved_concurrent_executions]
}

run "invalid_lambda_authorizer_memory_size" {
  command = plan

  variables {
    lambda_authorizer_memory_size = 127 # below 128 MB
  }

  expect_failures = [var.lambda_authorizer_memory_size]
}

run "invalid_lambda_authorizer_timeout" {
  command = plan

  variables {
    lambda_authorizer_timeout = 0 # below 1 s
  }

  expect_failures = [var.lambda_authorizer_timeout]
}

run "invalid_lambda_authorizer_reserved_concurrent_executions" {
  command = plan

  variables {
    api_basic_auth                                   = true
    lambda_authorizer_reserved_concurrent_executions = 0 # would refuse every request
  }

  expect_failures = [var.lambda_authorizer_reserved_concurrent_executions]
}

run "invalid_lambda_upload_memory_size" {
  command = plan

  variables {
    lambda_upload_memory_size = 1024.5 # not whole
  }

  expect_failures = [var.lambda_upload_memory_size]
}

run "invalid_lambda_upload_timeout" {
  command = plan

  variables {
    lambda_upload_timeout = 60 # beyond the HTTP API's 30 s
  }

  expect_failures = [var.lambda_upload_timeout]
}

run "invalid_lambda_api_fallback_index_url" {
  command = plan

  variables {
    lambda_api_fallback_index_url = "pypi.org/simple/" # no scheme
  }

  expect_failures = [var.lambda_api_fallback_index_url]
}

run "invalid_s3_presigned_url_ttl" {
  command = plan

  variables {
    s3_presigned_url_ttl = 604801 # beyond SigV4's 7 days
  }

  expect_failures = [var.s3_presigned_url_ttl]
}

run "invalid_link_mode" {
  command = plan

  variables {
    link_mode = "direct" # not a mode
  }

  expect_failures = [var.link_mode]
}

run "invalid_page_max_age" {
  command = plan

  variables {
    page_max_age = 86401 # beyond a day
  }

  expect_failures = [var.page_max_age]
}

run "invalid_log_level" {
  command = plan

  variables {
    log_level = "info" # lowercase
  }

  expect_failures = [var.log_level]
}

run "invalid_log_group_api_retention_in_days" {
  command = plan

  variables {
    log_group_api_retention_in_days = 31 # not a CloudWatch value
  }

  expect_failures = [var.log_group_api_retention_in_days]
}

run "invalid_log_group_reindex_retention_in_days" {
  command = plan

  variables {
    log_group_reindex_retention_in_days = -1 # not a CloudWatch value
  }

  expect_failures = [var.log_group_reindex_retention_in_days]
}

run "invalid_log_group_authorizer_retention_in_days" {
  command = plan

  variables {
    log_group_authorizer_retention_in_days = 2 # not a CloudWatch value
  }

  expect_failures = [var.log_group_authorizer_retention_in_days]
}

run "invalid_log_group_upload_retention_in_days" {
  command = plan

  variables {
    log_group_upload_retention_in_days = 10 # not a CloudWatch value
  }

  expect_failures = [var.log_group_upload_retention_in_days]
}

run "invalid_s3_kms_key_arn" {
  command = plan

  variables {
    s3_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/pypi" # an alias
  }

  expect_failures = [var.s3_kms_key_arn]
}

run "invalid_s3_noncurrent_version_expiration_days" {
  command = plan

  variables {
    s3_noncurrent_version_expiration_days = 0 # S3 wants 1 day or more
  }

  expect_failures = [var.s3_noncurrent_version_expiration_days]
}

run "fractional_s3_noncurrent_version_expiration_days" {
  command = plan

  variables {
    s3_noncurrent_version_expiration_days = 7.5
  }

  expect_failures = [var.s3_noncurrent_version_expiration_days]
}

run "invalid_reindex_maximum_retry_attempts" {
  command = plan

  variables {
    reindex_maximum_retry_attempts = 3 # beyond Lambda's 2
  }

  expect_failures = [var.reindex_maximum_retry_attempts]
}

run "invalid_api_authorization_type" {
  command = plan

  variables {
    api_basic_auth         = false
    api_authorization_type = "COGNITO_USER_POOLS" # a REST API type
  }

  expect_failures = [var.api_authorization_type]
}

run "invalid_api_authorizer_id" {
  command = plan

  variables {
    api_basic_auth         = false
    api_authorization_type = "JWT"
    api_authorizer_id      = "Not An ID" # not an ID
  }

  expect_failures = [var.api_authorizer_id]
}

run "invalid_api_stage_name" {
  command = plan

  variables {
    api_stage_name = "prod/v1" # a slash
  }

  expect_failures = [var.api_stage_name]
}

run "invalid_users_ssm_path_without_trailing_slash" {
  command = plan

  variables {
    users_ssm_path = "/serverless-pypi/users" # the user's name would be glued to "users"
  }

  expect_failures = [var.users_ssm_path]
}

run "invalid_users_ssm_path_relative" {
  command = plan

  variables {
    users_ssm_path = "serverless-pypi/users/" # no leading slash
  }

  expect_failures = [var.users_ssm_path]
}

run "invalid_users_ssm_path_root" {
  command = plan

  variables {
    users_ssm_path = "/" # every parameter of the account
  }

  expect_failures = [var.users_ssm_path]
}

run "invalid_users_ssm_path_empty_level" {
  command = plan

  variables {
    users_ssm_path = "/serverless-pypi//users/" # an empty level
  }

  expect_failures = [var.users_ssm_path]
}

run "invalid_users_ssm_path_characters" {
  command = plan

  variables {
    users_ssm_path = "/serverless pypi/users*/" # a space and a wildcard
  }

  expect_failures = [var.users_ssm_path]
}

run "invalid_users_ssm_path_length" {
  command = plan

  variables {
    users_ssm_path = "/${join("", [for i in range(899) : "u"])}/" # 901 characters
  }

  expect_failures = [var.users_ssm_path]
}

run "invalid_users_ssm_path_levels" {
  command = plan

  variables {
    users_ssm_path = "/${join("/", [for i in range(15) : "u"])}/" # 15 levels, none left for the user
  }

  expect_failures = [var.users_ssm_path]
}

run "invalid_ssm_kms_key_arn" {
  command = plan

  variables {
    ssm_kms_key_arn = "alias/aws/ssm" # an alias, not a key ARN
  }

  expect_failures = [var.ssm_kms_key_arn]
}

run "invalid_authorizer_user_cache_seconds" {
  command = plan

  variables {
    authorizer_user_cache_seconds = 3601 # beyond an hour
  }

  expect_failures = [var.authorizer_user_cache_seconds]
}

run "invalid_authorizer_result_ttl_in_seconds" {
  command = plan

  variables {
    authorizer_result_ttl_in_seconds = -1 # negative
  }

  expect_failures = [var.authorizer_result_ttl_in_seconds]
}

run "basic_auth_with_api_authorization_type" {
  command = plan

  variables {
    api_authorization_type = "AWS_IAM" # one authorization per route
  }

  expect_failures = [aws_apigatewayv2_authorizer.basic]
}

run "basic_auth_with_custom_authorizer" {
  command = plan

  variables {
    api_authorization_type = "CUSTOM"
    api_authorizer_id      = "abc123" # an authorizer of the caller's as well
  }

  expect_failures = [aws_apigatewayv2_authorizer.basic]
}

run "basic_auth_with_api_authorizer_id" {
  command = plan

  variables {
    api_authorizer_id = "abc123" # an authorizer ID without JWT or CUSTOM
  }

  expect_failures = [aws_apigatewayv2_route.api]
}

run "basic_auth_role_name_too_long" {
  command = plan

  variables {
    name = join("", [for i in range(54) : "n"]) # <name>-authorizer: 65 characters
  }

  # The function, which needs the role, is not planned.
  expect_failures = [aws_iam_role.authorizer]
}

run "basic_auth_function_name_too_long" {
  command = plan

  variables {
    name                     = join("", [for i in range(54) : "n"]) # <name>-authorizer: 65 characters
    iam_authorizer_role_name = "pypi-authorizer"
  }

  expect_failures = [aws_lambda_function.authorizer]
}

run "jwt_without_authorizer" {
  command = plan

  variables {
    api_basic_auth         = false
    api_authorization_type = "JWT"
  }

  expect_failures = [aws_apigatewayv2_route.api]
}

run "custom_without_authorizer" {
  command = plan

  variables {
    api_basic_auth         = false
    api_authorization_type = "CUSTOM"
  }

  expect_failures = [aws_apigatewayv2_route.api]
}

run "authorizer_without_jwt_or_custom" {
  command = plan

  variables {
    api_basic_auth    = false
    api_authorizer_id = "abc123"
  }

  # The routes are public as well (authorization_type NONE).
  expect_failures = [aws_apigatewayv2_route.api, check.public_routes]
}

run "lower_limits" {
  command = plan

  variables {
    name                                             = "p"
    lambda_runtime                                   = "python3.11"
    lambda_api_memory_size                           = 128
    lambda_api_timeout                               = 1
    lambda_api_reserved_concurrent_executions        = 0
    lambda_reindex_memory_size                       = 128
    lambda_reindex_timeout                           = 3
    lambda_reindex_reserved_concurrent_executions    = 0
    lambda_authorizer_memory_size                    = 128
    lambda_authorizer_timeout                        = 1
    lambda_authorizer_reserved_concurrent_executions = 1
    lambda_authorizer_function_name                  = "a"
    iam_authorizer_role_name                         = "r"
    log_group_authorizer_retention_in_days           = 0
    lambda_upload_memory_size                        = 128
    lambda_upload_timeout                            = 1
    lambda_upload_function_name                      = "u"
    iam_upload_role_name                             = "w"
    log_group_upload_retention_in_days               = 0
    users_ssm_path                                   = "/u/"
    authorizer_user_cache_seconds                    = 0
    authorizer_result_ttl_in_seconds                 = 0
    lambda_api_fallback_index_url                    = "http://localhost:8080"
    s3_presigned_url_ttl                             = 1
    page_max_age                                     = 0
    log_group_api_retention_in_days                  = 0
    log_group_reindex_retention_in_days              = 1
    reindex_maximum_retry_attempts                   = 0
    s3_bucket_name                                   = "abc"
  }

  assert {
    condition     = aws_apigatewayv2_integration.api.timeout_milliseconds == 2000 && aws_apigatewayv2_integration.upload[0].timeout_milliseconds == 2000
    error_message = "The integrations wait a second longer than their functions."
  }
}

run "upper_limits" {
  command = plan

  variables {
    name                                   = join("", [for i in range(56) : "n"])
    lambda_runtime                         = "python3.13" # python3.14 needs a newer AWS provider than the tests' 5.100
    lambda_api_memory_size                 = 10240
    lambda_api_timeout                     = 30
    lambda_reindex_memory_size             = 10240
    lambda_reindex_timeout                 = 900
    lambda_authorizer_memory_size          = 10240
    lambda_authorizer_timeout              = 30
    lambda_authorizer_function_name        = join("", [for i in range(64) : "a"])
    iam_authorizer_role_name               = "${join("", [for i in range(57) : "r"])}+=,.@_-"
    log_group_authorizer_retention_in_days = 3653
    lambda_upload_memory_size              = 10240
    lambda_upload_timeout                  = 30
    iam_upload_role_name                   = join("", [for i in range(64) : "w"])
    log_group_upload_retention_in_days     = 3653
    users_ssm_path                         = "/${join("", [for i in range(13) : "u/"])}${join("", [for i in range(872) : "x"])}/" # 900 characters, 14 levels
    authorizer_user_cache_seconds          = 3600
    authorizer_result_ttl_in_seconds       = 3600
    s3_presigned_url_ttl                   = 604800
    page_max_age                           = 86400
    log_group_api_retention_in_days        = 3653
    log_group_reindex_retention_in_days    = 3653
    reindex_maximum_retry_attempts         = 2
    s3_bucket_name                         = join("", [for i in range(63) : "b"])
    api_stage_name                         = "v1_beta-2"
  }

  assert {
    condition     = length(aws_lambda_function.reindex.function_name) == 64 && length(aws_lambda_function.upload[0].function_name) == 63
    error_message = "The longest name still gives valid function names (<name>-reindex, <name>-upload)."
  }
  assert {
    condition     = length(aws_iam_role.upload[0].name) == 64 && aws_apigatewayv2_integration.upload[0].timeout_milliseconds == 30000
    error_message = "The upload role takes a name of 64 characters; the upload integration never waits beyond 30 s."
  }
  assert {
    condition     = length(aws_lambda_function.authorizer[0].function_name) == 64 && length(aws_iam_role.authorizer[0].name) == 64
    error_message = "The authorizer's function and role take names of 64 characters."
  }
  assert {
    condition     = length(aws_lambda_function.authorizer[0].environment[0].variables.USERS_PATH) == 900
    error_message = "A users' path of 900 characters is accepted."
  }
}
