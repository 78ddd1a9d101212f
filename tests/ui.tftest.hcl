# The pages for people (ui.tf): off by default; with api_ui, their function,
# role and routes without an authorizer, the login from api_basic_auth, and
# refused with an authorizer of the caller's. `terraform test` (make tf-test).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
  api_basic_auth    = true
}

run "no_pages_by_default" {
  command = plan

  assert {
    condition     = length(aws_lambda_function.ui) == 0 && length(aws_apigatewayv2_route.ui) == 0 && length(aws_iam_role.ui) == 0
    error_message = "Without api_ui the module adds no function, role or route for the pages."
  }
  assert {
    condition     = output.ui_url == null && !contains(output.route_keys, "GET /ui/{proxy+}")
    error_message = "No pages, no URL."
  }
}

run "pages_behind_their_own_login" {
  command = plan

  variables {
    api_ui = true
  }

  assert {
    condition     = toset(keys(aws_apigatewayv2_route.ui)) == toset(local.ui_route_keys) && alltrue([for route in aws_apigatewayv2_route.ui : route.authorization_type == "NONE" && route.authorizer_id == null])
    error_message = "The pages' routes have no authorizer: the function answers the login challenge itself."
  }
  assert {
    condition     = aws_lambda_function.ui[0].handler == "serverless_pypi.ui.handler" && aws_lambda_function.ui[0].function_name == "serverless-pypi-ui"
    error_message = "The pages run serverless_pypi.ui.handler in their own function."
  }
  assert {
    condition     = aws_lambda_function.ui[0].environment[0].variables.UI_LOGIN == "basic" && aws_lambda_function.ui[0].environment[0].variables.USERS_PATH == "/serverless-pypi/users/"
    error_message = "With api_basic_auth the pages ask for the same users as the authorizer."
  }
  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.ui[0].policy).Statement :
      !contains(flatten([statement.Action]), "s3:PutObject") && !contains(flatten([statement.Action]), "s3:ListBucket") && !contains(flatten([statement.Action]), "s3:DeleteObject")
    ])
    error_message = "The pages' role writes nothing and lists nothing."
  }
  assert {
    condition     = toset([for statement in jsondecode(aws_iam_role_policy.ui[0].policy).Statement : statement.Sid]) == toset(["ReadPages", "PresignDistributions", "WriteLogs", "ReadUsersFile", "ReadUsers"])
    error_message = "The pages' role reads their two objects, the distributions it presigns and the users."
  }
  assert {
    condition     = contains(output.route_keys, "GET /ui/{proxy+}") && output.ui_url != null
    error_message = "The pages' routes are among the module's."
  }
}

run "public_pages_with_public_routes" {
  command = plan

  variables {
    api_ui         = true
    api_basic_auth = false
  }

  expect_failures = [check.public_routes]

  assert {
    condition     = aws_lambda_function.ui[0].environment[0].variables.UI_LOGIN == "none" && !contains(keys(aws_lambda_function.ui[0].environment[0].variables), "USERS_PATH")
    error_message = "With public routes the pages are public, and read no users."
  }
  assert {
    condition     = !contains([for statement in jsondecode(aws_iam_role_policy.ui[0].policy).Statement : statement.Sid], "ReadUsers")
    error_message = "Public pages may not read the users."
  }
}

run "no_pages_with_an_authorizer_of_yours" {
  command = plan

  variables {
    api_ui                 = true
    api_basic_auth         = false
    api_authorization_type = "JWT"
    api_authorizer_id      = "zyx987"
  }

  expect_failures = [aws_lambda_function.ui]
}

run "no_pages_at_the_api_root" {
  command = plan

  variables {
    api_ui            = true
    index_at_api_root = true
  }

  expect_failures = [aws_lambda_function.ui]
}

run "function_name_is_validated" {
  command = plan

  variables {
    lambda_ui_function_name = "not a name"
  }

  expect_failures = [var.lambda_ui_function_name]
}

run "reserved_concurrency_is_validated" {
  command = plan

  variables {
    lambda_ui_reserved_concurrent_executions = 0
  }

  expect_failures = [var.lambda_ui_reserved_concurrent_executions]
}
