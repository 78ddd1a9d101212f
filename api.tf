# The index on the caller's HTTP API: one Lambda proxy integration and six
# routes. The caller owns the API, its stages and its deployments.

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
  for_each = toset(local.route_keys)

  api_id             = var.api_id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = var.api_authorization_type
  authorizer_id      = var.api_authorizer_id

  lifecycle {
    precondition {
      condition     = contains(["JWT", "CUSTOM"], var.api_authorization_type) == (var.api_authorizer_id != null)
      error_message = "The api_authorizer_id is required when api_authorization_type is JWT or CUSTOM, and must be null otherwise."
    }
  }
}
