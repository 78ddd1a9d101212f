# The index on the caller's HTTP API: one Lambda proxy integration, six
# routes and, with `api_basic_auth`, the HTTP Basic authorizer on all of them;
# behind an authorizer (and with `api_upload_route`), a second integration and
# the two upload routes. The caller owns the API, its stages and its
# deployments.

data "aws_apigatewayv2_api" "this" {
  api_id = var.api_id
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = var.api_id
  description            = "serverless-pypi: ${local.api_function_name}"
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.api.invoke_arn
  payload_format_version = "2.0"
  # A little longer than the function may run, within the HTTP API's 30 s.
  timeout_milliseconds = min(30000, (var.lambda_api_timeout + 1) * 1000)
}

resource "aws_apigatewayv2_route" "api" {
  for_each = toset(local.api_route_keys)

  api_id             = var.api_id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = var.api_basic_auth ? "CUSTOM" : var.api_authorization_type
  authorizer_id      = var.api_basic_auth ? aws_apigatewayv2_authorizer.basic[0].id : var.api_authorizer_id

  lifecycle {
    precondition {
      condition     = contains(["JWT", "CUSTOM"], var.api_authorization_type) == (var.api_authorizer_id != null)
      error_message = "The api_authorizer_id is required when api_authorization_type is JWT or CUSTOM, and must be null otherwise."
    }
  }
}

# PyPI's legacy upload API (twine, uv publish) on its own function: only
# behind an authorizer, the same as the other routes' (local.upload).
resource "aws_apigatewayv2_integration" "upload" {
  count = local.upload ? 1 : 0

  api_id                 = var.api_id
  description            = "serverless-pypi: ${local.upload_function_name}"
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.upload[0].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = min(30000, (var.lambda_upload_timeout + 1) * 1000)
}

resource "aws_apigatewayv2_route" "upload" {
  for_each = toset(local.upload ? local.upload_route_keys : [])

  api_id             = var.api_id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.upload[0].id}"
  authorization_type = var.api_basic_auth ? "CUSTOM" : var.api_authorization_type
  authorizer_id      = var.api_basic_auth ? aws_apigatewayv2_authorizer.basic[0].id : var.api_authorizer_id
}

# The module's own HTTP Basic authorizer (`api_basic_auth`). A request without
# an Authorization header never reaches the function: API Gateway answers 401.
resource "aws_apigatewayv2_authorizer" "basic" {
  count = var.api_basic_auth ? 1 : 0

  api_id                            = var.api_id
  name                              = "${var.name}-basic"
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = aws_lambda_function.authorizer[0].invoke_arn
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  # API Gateway caches an answer per identity: with the route key in it, a
  # reader's cached "allow" never applies to a route that needs more rights.
  identity_sources                 = ["$request.header.Authorization", "$context.routeKey"]
  authorizer_result_ttl_in_seconds = var.authorizer_result_ttl_in_seconds

  lifecycle {
    precondition {
      condition     = var.api_authorization_type == "NONE"
      error_message = "With api_basic_auth = true the module puts its own authorizer on every route, so api_authorization_type must stay NONE (it is ${var.api_authorization_type}): turn api_basic_auth off to use an authorizer of yours."
    }
  }
}

# Anyone who has the URL can reach routes without authorization.
check "public_routes" {
  assert {
    condition     = var.api_basic_auth || var.api_authorization_type != "NONE"
    error_message = "The index's routes are public: anyone who has its URL can list and download every file in the bucket. Set api_basic_auth = true (then add users with `serverless-pypi user add --bucket <bucket_name>`, under the users_ssm_path output), or put an authorizer of yours on the routes with api_authorization_type."
  }
}

# Trusted publishing (local.trusted_publishing): its routes at the API's root,
# without an authorizer (a CI job's OIDC token is its credential, which the
# function verifies), on the mint function's integration.
resource "aws_apigatewayv2_integration" "mint" {
  count = local.trusted_publishing ? 1 : 0

  api_id                 = var.api_id
  description            = "serverless-pypi: ${local.mint_function_name}"
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.mint[0].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 16000
}

resource "aws_apigatewayv2_route" "mint" {
  for_each = toset(local.trusted_publishing ? local.oidc_route_keys : [])

  api_id             = var.api_id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.mint[0].id}"
  authorization_type = "NONE"
}

check "trusted_publishing" {
  assert {
    condition     = !var.trusted_publishing || local.trusted_publishing
    error_message = "trusted_publishing needs api_basic_auth = true and the upload route (api_upload_route): the module's authorizer checks the upload tokens it mints. No trusted publishing route was added."
  }
}
