# A complete root module: an HTTP API with an auto-deployed $default stage,
# and the index on it.
#
#   terraform apply -var s3_bucket_name=my-pypi-bucket
#   aws s3 cp dist/my_pkg-1.0-py3-none-any.whl s3://my-pypi-bucket/my-pkg/
#   pip install --index-url "$(terraform output -raw index_url)" my-pkg

variable "region" {
  type        = string
  description = "AWS region to deploy to."
  default     = "us-east-1"
  nullable    = false
}

variable "s3_bucket_name" {
  type        = string
  description = "Name of the bucket to create for the distributions (globally unique)."
  nullable    = false
}

provider "aws" {
  region = var.region
}

resource "aws_apigatewayv2_api" "pypi" {
  name          = "serverless-pypi"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.pypi.id
  name        = "$default"
  auto_deploy = true
}

module "pypi" {
  source = "../../"

  api_id            = aws_apigatewayv2_api.pypi.id
  api_execution_arn = aws_apigatewayv2_api.pypi.execution_arn
  s3_bucket_name    = var.s3_bucket_name

  # Projects that are not in the bucket come from PyPI; those that are never do.
  lambda_api_fallback_index_url = "https://pypi.org/simple/"
}
