# A root module written for the older serverless PyPI module (v4.x): the
# caller's HTTP API and $default stage, and the module with the older inputs.
# tests/e2e/test_switch.py applies it, then points `source` at this repository.

variable "s3_bucket_name" {
  type = string
}

resource "aws_apigatewayv2_api" "pypi" {
  name          = "pypi"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.pypi.id
  name        = "$default"
  auto_deploy = true
}

module "serverless_pypi" {
  source = "../module"

  api_id                       = aws_apigatewayv2_api.pypi.id
  api_execution_arn            = aws_apigatewayv2_api.pypi.execution_arn
  iam_role_name                = "serverless-pypi-role"
  lambda_api_function_name     = "serverless-pypi-api"
  lambda_reindex_function_name = "serverless-pypi-reindex"
  s3_bucket_name               = var.s3_bucket_name
  sns_topic_name               = "serverless-pypi"
}

output "api_id" {
  value = aws_apigatewayv2_api.pypi.id
}

output "bucket_name" {
  value = module.serverless_pypi.s3_bucket.bucket
}

output "iam_role_name" {
  value = module.serverless_pypi.iam_role.name
}
