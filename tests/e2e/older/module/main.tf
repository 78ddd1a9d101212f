# A module with the SHAPE of the older serverless PyPI module (v4.x): its
# resource addresses, names and wiring (aliases, an inline topic policy, the
# POST / route). Written for tests/e2e/test_switch.py; not the older module's code.

data "aws_caller_identity" "current" {}

# S3

resource "aws_s3_bucket" "pypi" {
  bucket = var.s3_bucket_name
}

resource "aws_s3_bucket_public_access_block" "pypi" {
  bucket                  = aws_s3_bucket.pypi.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_notification" "reindex" {
  bucket = aws_s3_bucket.pypi.id

  topic {
    topic_arn = aws_sns_topic.reindex.arn
    events    = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
  }
}

# SNS

resource "aws_sns_topic" "reindex" {
  name = var.sns_topic_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowS3"
      Effect    = "Allow"
      Action    = "sns:Publish"
      Principal = { Service = "s3.amazonaws.com" }
      Resource  = "arn:aws:sns:*:*:${var.sns_topic_name}"
      Condition = { ArnLike = { "aws:SourceArn" = "arn:aws:s3:*:*:${var.s3_bucket_name}" } }
    }]
  })
}

resource "aws_sns_topic_subscription" "reindex" {
  topic_arn = aws_sns_topic.reindex.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_alias.reindex.arn
}

# IAM

resource "aws_iam_role" "role" {
  name = var.iam_role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AssumeLambda"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy" "policy" {
  name = var.iam_role_policy_name
  role = aws_iam_role.role.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadS3"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:ListBucket", "s3:PutObject"]
        Resource = [aws_s3_bucket.pypi.arn, "${aws_s3_bucket.pypi.arn}/*"]
      },
      {
        Sid      = "WriteLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "*"
      },
    ]
  })
}

# Lambda

resource "aws_cloudwatch_log_group" "api" {
  name              = "/aws/lambda/${var.lambda_api_function_name}"
  retention_in_days = var.log_group_api_retention_in_days
}

resource "aws_cloudwatch_log_group" "reindex" {
  name              = "/aws/lambda/${var.lambda_reindex_function_name}"
  retention_in_days = var.log_group_reindex_retention_in_days
}

locals {
  # The older module ships its own archive; this stand-in, this repository's
  # (copied here by the test).
  package = "${path.module}/package/serverless-pypi.zip"

  environment = merge(
    { S3_BUCKET = aws_s3_bucket.pypi.bucket, S3_PRESIGNED_URL_TTL = tostring(var.s3_presigned_url_ttl) },
    var.lambda_api_fallback_index_url == null ? {} : { FALLBACK_INDEX_URL = var.lambda_api_fallback_index_url },
  )
}

# arm64, as this module's default: moto ignores Architectures in
# UpdateFunctionCode, so an x86_64 function (the older module's) would plan
# x86_64 -> arm64 after every apply there; on AWS that update goes through.
resource "aws_lambda_function" "api" {
  function_name    = var.lambda_api_function_name
  description      = "PyPI service"
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "serverless_pypi.api.handler"
  architectures    = ["arm64"]
  role             = aws_iam_role.role.arn
  runtime          = var.lambda_runtime
  memory_size      = 128
  timeout          = 3
  publish          = true

  environment {
    variables = local.environment
  }

  depends_on = [aws_cloudwatch_log_group.api]
}

resource "aws_lambda_function" "reindex" {
  function_name    = var.lambda_reindex_function_name
  description      = "Reindex PyPI root"
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "serverless_pypi.reindex.handler"
  architectures    = ["arm64"]
  role             = aws_iam_role.role.arn
  runtime          = var.lambda_runtime
  memory_size      = 128
  timeout          = 3
  publish          = true

  environment {
    variables = { S3_BUCKET = aws_s3_bucket.pypi.bucket }
  }

  depends_on = [aws_cloudwatch_log_group.reindex]
}

resource "aws_lambda_alias" "api" {
  name             = var.lambda_api_alias_name
  function_name    = aws_lambda_function.api.arn
  function_version = aws_lambda_function.api.version
}

resource "aws_lambda_alias" "reindex" {
  name             = var.lambda_reindex_alias_name
  function_name    = aws_lambda_function.reindex.arn
  function_version = aws_lambda_function.reindex.version
}

resource "aws_lambda_permission" "invoke_api" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  qualifier     = aws_lambda_alias.api.name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_execution_arn}/*/*/*"
}

resource "aws_lambda_permission" "reindex" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.reindex.function_name
  qualifier     = aws_lambda_alias.reindex.name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.reindex.arn
}

# API Gateway (the caller's HTTP API)

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = var.api_id
  connection_type        = "INTERNET"
  description            = "PyPI proxy"
  integration_method     = "POST"
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_alias.api.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 3000
}

resource "aws_apigatewayv2_route" "root_get" {
  api_id             = var.api_id
  route_key          = "GET /"
  authorization_type = var.api_authorization_type
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_apigatewayv2_route" "root_head" {
  api_id             = var.api_id
  route_key          = "HEAD /"
  authorization_type = var.api_authorization_type
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_apigatewayv2_route" "root_post" {
  api_id             = var.api_id
  route_key          = "POST /"
  authorization_type = var.api_authorization_type
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_apigatewayv2_route" "proxy_get" {
  api_id             = var.api_id
  route_key          = "GET /{package+}"
  authorization_type = var.api_authorization_type
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_apigatewayv2_route" "proxy_head" {
  api_id             = var.api_id
  route_key          = "HEAD /{package+}"
  authorization_type = var.api_authorization_type
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}
