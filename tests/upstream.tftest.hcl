# The proxy mode (upstream.tf) at plan time: nothing in redirect mode (the default),
# and in proxy mode the api may write the upstream pages only, the keeper the kept
# files only; one failing run per validation rule. tests/unit/test_upstream_iam.py
# evaluates the same documents request by request.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id                        = "a1b2c3d4e5"
  api_execution_arn             = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name                = "my-pypi-bucket"
  api_basic_auth                = true
  lambda_api_fallback_index_url = "https://pypi.org/simple/"
}

run "redirect_mode_adds_nothing" {
  command = plan

  assert {
    condition     = length(aws_lambda_function.keeper) == 0 && length(aws_iam_role.keeper) == 0
    error_message = "The keeper exists only in proxy mode."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.api.environment[0].variables), "UPSTREAM_MODE")
    error_message = "The api's default environment is unchanged."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if s.Action == "s3:PutObject" && try(s.Condition.ArnEquals["lambda:SourceFunctionArn"], "") == local.api_function_arn]) == 0
    error_message = "In redirect mode the api writes nothing."
  }
}

run "proxy_mode_writes_only_what_it_needs" {
  command = plan

  variables {
    upstream_mode       = "proxy"
    upstream_cooldown   = "36h"
    upstream_page_ttl   = 600
    upstream_allow_only = true
  }

  assert {
    condition     = aws_lambda_function.api.environment[0].variables.UPSTREAM_MODE == "proxy" && aws_lambda_function.api.environment[0].variables.UPSTREAM_COOLDOWN == "36h" && aws_lambda_function.api.environment[0].variables.UPSTREAM_PAGE_TTL == "600" && aws_lambda_function.api.environment[0].variables.UPSTREAM_ALLOW_ONLY == "true" && aws_lambda_function.api.environment[0].variables.KEEPER_FUNCTION == "serverless-pypi-keeper"
    error_message = "The api is told the mode, the cooldown, the page TTL, allow-only and its keeper."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Action == "s3:PutObject" && try(s.Condition.ArnEquals["lambda:SourceFunctionArn"], "") == local.api_function_arn] == ["arn:aws:s3:::my-pypi-bucket/.serverless-pypi/upstream/pages/*"]
    error_message = "The api writes the upstream pages, nothing else."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.keeper[0].policy).Statement : s.Resource if s.Sid == "KeepUpstreamFiles"] == ["arn:aws:s3:::my-pypi-bucket/.serverless-pypi/upstream/files/*"]
    error_message = "The keeper reads and writes the kept files, nothing else."
  }
  assert {
    condition     = aws_lambda_function.keeper[0].handler == "serverless_pypi.keeper.handler" && aws_lambda_function.keeper[0].timeout == 900
    error_message = "The keeper runs keeper.handler, with up to 15 minutes for a large file."
  }
}

run "proxy_mode_needs_the_upstream" {
  command = plan

  variables {
    upstream_mode                 = "proxy"
    lambda_api_fallback_index_url = null
  }

  expect_failures = [aws_lambda_function.keeper]
}

run "invalid_upstream_mode" {
  command = plan

  variables {
    upstream_mode = "mirror"
  }

  expect_failures = [var.upstream_mode]
}

run "invalid_upstream_cooldown" {
  command = plan

  variables {
    upstream_cooldown = "1w"
  }

  expect_failures = [var.upstream_cooldown]
}

run "invalid_upstream_cooldown_with_a_space" {
  command = plan

  variables {
    upstream_cooldown = "7 d"
  }

  expect_failures = [var.upstream_cooldown]
}

run "invalid_upstream_page_ttl" {
  command = plan

  variables {
    upstream_page_ttl = 86401
  }

  expect_failures = [var.upstream_page_ttl]
}

run "invalid_upstream_page_ttl_fraction" {
  command = plan

  variables {
    upstream_page_ttl = 1.5
  }

  expect_failures = [var.upstream_page_ttl]
}

run "invalid_lambda_keeper_timeout" {
  command = plan

  variables {
    lambda_keeper_timeout = 901
  }

  expect_failures = [var.lambda_keeper_timeout]
}
