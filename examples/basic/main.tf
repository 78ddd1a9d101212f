# A complete root module: an HTTP API with an auto-deployed $default stage,
# and the index on it, behind the module's HTTP Basic authorizer.
#
#   terraform apply -var s3_bucket_name=my-pypi-bucket
#   serverless-pypi user add alice --upload --path "$(terraform output -raw users_ssm_path)" --bucket "$(terraform output -raw bucket_name)"
#   twine upload --repository-url "$(terraform output -raw upload_url)" dist/*
#   pip install --index-url "$(terraform output -raw index_url)" my-pkg
#
# pip, uv and twine send alice's credentials from ~/.netrc
# (`machine <API host> login alice password <the token user add printed>`);
# `aws s3 cp dist/* s3://my-pypi-bucket/my-pkg/` uploads too.

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

  # HTTP Basic on every route; add users with `serverless-pypi user add
  # <name> --path <users_ssm_path> --bucket <bucket_name>`.
  api_basic_auth = true

  # What `serverless-pypi remove` and `prune` delete can be brought back with
  # `serverless-pypi restore` for 30 days.
  s3_versioning                         = true
  s3_noncurrent_version_expiration_days = 30

  # CloudWatch alarms to an SNS topic of yours: dead-letter messages, reindex
  # errors, api and upload 5xx and throttles, authorizer errors.
  # alarm_topic_arn = aws_sns_topic.alerts.arn
  # create_alarms   = true # when that topic is created in this configuration too

  # The index's events on an EventBridge bus (docs/events.md): each file published,
  # yanked, unyanked or removed, each name claimed or released.
  # event_bus_name = "default"
}
