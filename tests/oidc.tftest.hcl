# Plan-level tests of trusted publishing: its routes exist only with
# trusted_publishing = true, at the root and without an authorizer; its function
# and the others read only what they need of it.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
  api_basic_auth    = true
}

run "off_by_default" {
  command = plan

  assert {
    condition     = length(aws_apigatewayv2_route.mint) == 0 && length(aws_lambda_function.mint) == 0 && length(aws_iam_role.mint) == 0
    error_message = "Without trusted_publishing there is no mint route, function or role."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.authorizer[0].environment[0].variables), "TRUSTED_PUBLISHING")
    error_message = "Without trusted_publishing the authorizer's environment is unchanged."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.authorizer[0].policy, "trust") && !strcontains(aws_iam_role_policy.upload[0].policy, "oidc")
    error_message = "Without trusted_publishing no role reads the trust file or the burned tokens."
  }
  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this) == 0
    error_message = "Without trusted_publishing (and noncurrent expiration) the bucket has no lifecycle configuration."
  }
}

run "its_markers_expire" {
  command = plan

  variables {
    trusted_publishing                    = true
    s3_noncurrent_version_expiration_days = 30
  }

  assert {
    condition = alltrue([
      length(aws_s3_bucket_lifecycle_configuration.this[0].rule) == 2,
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].id == "expire-noncurrent-versions",
      aws_s3_bucket_lifecycle_configuration.this[0].rule[1].id == "expire-trusted-publishing-markers",
      aws_s3_bucket_lifecycle_configuration.this[0].rule[1].filter[0].prefix == ".serverless-pypi/oidc/",
      aws_s3_bucket_lifecycle_configuration.this[0].rule[1].expiration[0].days == 2,
      aws_s3_bucket_lifecycle_configuration.this[0].rule[1].noncurrent_version_expiration[0].noncurrent_days == 1,
    ])
    error_message = "With trusted_publishing the jti and burn markers expire after two days, beside the noncurrent versions' rule."
  }
}

run "its_markers_expire_without_versioning_rules" {
  command = plan

  variables {
    trusted_publishing = true
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this[0].rule) == 1 && aws_s3_bucket_lifecycle_configuration.this[0].rule[0].filter[0].prefix == ".serverless-pypi/oidc/"
    error_message = "With trusted_publishing alone the lifecycle configuration holds the markers' rule only."
  }
}

run "routes_without_authorizer" {
  command = plan

  variables {
    trusted_publishing         = true
    trusted_publishing_issuers = ["https://gitlab.example.com"]
  }

  assert {
    condition     = toset(keys(aws_apigatewayv2_route.mint)) == toset(["GET /_/oidc/audience", "POST /_/oidc/mint-token", "POST /_/oidc/burn-token", "GET /.well-known/pytp"])
    error_message = "trusted_publishing adds the audience, mint, burn and discovery routes."
  }
  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.mint : route.authorization_type == "NONE" && route.authorizer_id == null])
    error_message = "The mint routes have no authorizer: the OIDC token is the credential."
  }
  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.upload : route.authorization_type == "CUSTOM"])
    error_message = "The upload routes keep the authorizer."
  }
  assert {
    condition = aws_lambda_function.mint[0].environment[0].variables == tomap({
      S3_BUCKET                    = "my-pypi-bucket"
      TRUSTED_PUBLISHING_AUDIENCE  = "serverless-pypi-my-pypi-bucket"
      TRUSTED_PUBLISHING_ISSUERS   = "https://gitlab.example.com"
      TRUSTED_PUBLISHING_TOKEN_TTL = "900"
      USER_CACHE_SECONDS           = "60"
      LOG_LEVEL                    = "INFO"
    })
    error_message = "The mint function is told the audience (derived from the bucket), the extra issuers and the TTL."
  }
  assert {
    condition     = aws_lambda_function.authorizer[0].environment[0].variables["TRUSTED_PUBLISHING"] == "true"
    error_message = "The authorizer checks minted tokens."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.mint[0].policy).Statement[*].Resource == [
      "arn:aws:s3:::my-pypi-bucket/.serverless-pypi-trust.json",
      "arn:aws:s3:::my-pypi-bucket/.serverless-pypi/oidc/jti/*",
      "arn:aws:s3:::my-pypi-bucket/.serverless-pypi/oidc/burned/*",
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/serverless-pypi-oidc:*",
    ]
    error_message = "The mint function reads the trust file and writes its markers, nothing else: no user, no distribution, no listing."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.mint[0].policy).Statement : statement.Condition if statement.Sid == "UseJtiOnce"] == [
      { Null = { "s3:if-none-match" = "false" } }
    ]
    error_message = "A jti marker is written with If-None-Match only: a second use is S3's 412."
  }
  assert {
    condition     = contains([for statement in jsondecode(aws_iam_role_policy.authorizer[0].policy).Statement : statement.Resource], "arn:aws:s3:::my-pypi-bucket/.serverless-pypi-trust.json")
    error_message = "The authorizer reads the trust file's keys."
  }
  assert {
    condition     = contains([for statement in jsondecode(aws_iam_role_policy.upload[0].policy).Statement : statement.Resource], "arn:aws:s3:::my-pypi-bucket/.serverless-pypi/oidc/burned/*")
    error_message = "The upload function reads (HEADs) burned tokens' markers."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.upload[0].policy, "trust.json") && !strcontains(aws_iam_role_policy.this.policy, "trust.json")
    error_message = "No other role reads the trust file (its keys mint tokens)."
  }
}

run "needs_the_module_authorizer" {
  command = plan

  variables {
    trusted_publishing     = true
    api_basic_auth         = false
    api_authorization_type = "CUSTOM"
    api_authorizer_id      = "abc123"
    api_upload_route       = true
  }

  expect_failures = [check.trusted_publishing]
}

run "token_ttl_bounds" {
  command = plan

  variables {
    trusted_publishing_token_ttl = 60
  }

  expect_failures = [var.trusted_publishing_token_ttl]
}

run "issuers_are_https" {
  command = plan

  variables {
    trusted_publishing_issuers = ["http://gitlab.example.com/"]
  }

  expect_failures = [var.trusted_publishing_issuers]
}
