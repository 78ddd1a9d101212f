# One failing run per validation rule of variables.tf (and per precondition),
# plus the limits that must still pass. `terraform test` (make tf-test).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
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

run "invalid_lambda_reindex_reserved_concurrent_executions" {
  command = plan

  variables {
    lambda_reindex_reserved_concurrent_executions = 1.5 # not whole
  }

  expect_failures = [var.lambda_reindex_reserved_concurrent_executions]
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

run "invalid_s3_kms_key_arn" {
  command = plan

  variables {
    s3_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/pypi" # an alias
  }

  expect_failures = [var.s3_kms_key_arn]
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
    api_authorization_type = "COGNITO_USER_POOLS" # a REST API type
  }

  expect_failures = [var.api_authorization_type]
}

run "invalid_api_authorizer_id" {
  command = plan

  variables {
    api_authorizer_id = "Not An ID" # not an ID
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

run "jwt_without_authorizer" {
  command = plan

  variables {
    api_authorization_type = "JWT"
  }

  expect_failures = [aws_apigatewayv2_route.api]
}

run "custom_without_authorizer" {
  command = plan

  variables {
    api_authorization_type = "CUSTOM"
  }

  expect_failures = [aws_apigatewayv2_route.api]
}

run "authorizer_without_jwt_or_custom" {
  command = plan

  variables {
    api_authorizer_id = "abc123"
  }

  expect_failures = [aws_apigatewayv2_route.api]
}

run "lower_limits" {
  command = plan

  variables {
    name                                          = "p"
    lambda_runtime                                = "python3.11"
    lambda_api_memory_size                        = 128
    lambda_api_timeout                            = 1
    lambda_api_reserved_concurrent_executions     = 0
    lambda_reindex_memory_size                    = 128
    lambda_reindex_timeout                        = 1
    lambda_reindex_reserved_concurrent_executions = 0
    lambda_api_fallback_index_url                 = "http://localhost:8080"
    s3_presigned_url_ttl                          = 1
    page_max_age                                  = 0
    log_group_api_retention_in_days               = 0
    log_group_reindex_retention_in_days           = 1
    reindex_maximum_retry_attempts                = 0
    s3_bucket_name                                = "abc"
  }

  assert {
    condition     = aws_apigatewayv2_integration.api.timeout_milliseconds == 2000
    error_message = "The integration waits a second longer than the function."
  }
}

run "upper_limits" {
  command = plan

  variables {
    name                                = join("", [for i in range(56) : "n"])
    lambda_runtime                      = "python3.13" # python3.14 needs a newer AWS provider than the tests' 5.100
    lambda_api_memory_size              = 10240
    lambda_api_timeout                  = 30
    lambda_reindex_memory_size          = 10240
    lambda_reindex_timeout              = 900
    s3_presigned_url_ttl                = 604800
    page_max_age                        = 86400
    log_group_api_retention_in_days     = 3653
    log_group_reindex_retention_in_days = 3653
    reindex_maximum_retry_attempts      = 2
    s3_bucket_name                      = join("", [for i in range(63) : "b"])
    api_stage_name                      = "v1_beta-2"
  }

  assert {
    condition     = length(aws_lambda_function.reindex.function_name) == 64
    error_message = "The longest name still gives a valid function name."
  }
}
