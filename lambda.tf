# The functions, one package: api and reindex, with `api_basic_auth` the
# authorizer, and with the upload route the upload function. Their log groups
# come first, so that Lambda never creates them itself (without retention,
# outside Terraform's state).

resource "aws_cloudwatch_log_group" "api" {
  name              = local.api_log_group
  retention_in_days = var.log_group_api_retention_in_days
  tags              = merge(var.tags, var.log_group_api_tags)
}

resource "aws_cloudwatch_log_group" "reindex" {
  name              = local.reindex_log_group
  retention_in_days = var.log_group_reindex_retention_in_days
  tags              = merge(var.tags, var.log_group_reindex_tags)
}

resource "aws_lambda_function" "api" {
  function_name                  = local.api_function_name
  description                    = coalesce(var.lambda_api_description, "serverless-pypi: the simple API of s3://${aws_s3_bucket.this.bucket}")
  role                           = aws_iam_role.this.arn
  filename                       = local.package
  source_code_hash               = filebase64sha256(local.package)
  handler                        = "serverless_pypi.api.handler"
  runtime                        = var.lambda_runtime
  architectures                  = [var.lambda_architecture]
  memory_size                    = var.lambda_api_memory_size
  timeout                        = var.lambda_api_timeout
  reserved_concurrent_executions = var.lambda_api_reserved_concurrent_executions
  tags                           = merge(var.tags, var.lambda_api_tags)

  environment {
    variables = local.api_environment
  }

  depends_on = [aws_cloudwatch_log_group.api, aws_iam_role_policy.this]
}

resource "aws_lambda_function" "reindex" {
  function_name                  = local.reindex_function_name
  description                    = coalesce(var.lambda_reindex_description, "serverless-pypi: reindexes s3://${aws_s3_bucket.this.bucket} on its notifications")
  role                           = aws_iam_role.this.arn
  filename                       = local.package
  source_code_hash               = filebase64sha256(local.package)
  handler                        = "serverless_pypi.reindex.handler"
  runtime                        = var.lambda_runtime
  architectures                  = [var.lambda_architecture]
  memory_size                    = var.lambda_reindex_memory_size
  timeout                        = var.lambda_reindex_timeout
  reserved_concurrent_executions = var.lambda_reindex_reserved_concurrent_executions
  tags                           = merge(var.tags, var.lambda_reindex_tags)

  environment {
    variables = local.reindex_environment
  }

  depends_on = [aws_cloudwatch_log_group.reindex, aws_iam_role_policy.this]
}

resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage, method and route of the caller's API (only the module's routes
  # lead to this function's integration).
  source_arn = "${var.api_execution_arn}/*/*/*"
}

# The HTTP Basic authorizer (`api_basic_auth`): its own log group and role.

resource "aws_cloudwatch_log_group" "authorizer" {
  count = var.api_basic_auth ? 1 : 0

  name              = local.authorizer_log_group
  retention_in_days = var.log_group_authorizer_retention_in_days
  tags              = var.tags
}

resource "aws_lambda_function" "authorizer" {
  count = var.api_basic_auth ? 1 : 0

  function_name                  = local.authorizer_function_name
  description                    = "serverless-pypi: HTTP Basic authorizer of the index of s3://${aws_s3_bucket.this.bucket}"
  role                           = aws_iam_role.authorizer[0].arn
  filename                       = local.package
  source_code_hash               = filebase64sha256(local.package)
  handler                        = "serverless_pypi.authorizer.handler"
  runtime                        = var.lambda_runtime
  architectures                  = [var.lambda_architecture]
  memory_size                    = var.lambda_authorizer_memory_size
  timeout                        = var.lambda_authorizer_timeout
  reserved_concurrent_executions = var.lambda_authorizer_reserved_concurrent_executions
  tags                           = var.tags

  environment {
    variables = local.authorizer_environment
  }

  depends_on = [aws_cloudwatch_log_group.authorizer, aws_iam_role_policy.authorizer]

  lifecycle {
    precondition {
      condition     = length(local.authorizer_function_name) <= 64
      error_message = "The authorizer function's name, ${local.authorizer_function_name}, is longer than Lambda's 64 characters: with a name of more than 53 characters, set lambda_authorizer_function_name."
    }
  }
}

resource "aws_lambda_permission" "authorizer" {
  count = var.api_basic_auth ? 1 : 0

  statement_id  = "AllowInvokeFromHttpApiAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.authorizer[0].function_name
  principal     = "apigateway.amazonaws.com"
  # Only as this authorizer of the caller's API.
  source_arn = "${var.api_execution_arn}/authorizers/${aws_apigatewayv2_authorizer.basic[0].id}"
}

# The upload route (local.upload): its own log group and role.

resource "aws_cloudwatch_log_group" "upload" {
  count = local.upload ? 1 : 0

  name              = local.upload_log_group
  retention_in_days = var.log_group_upload_retention_in_days
  tags              = var.tags
}

resource "aws_lambda_function" "upload" {
  count = local.upload ? 1 : 0

  function_name    = local.upload_function_name
  description      = "serverless-pypi: PyPI's legacy upload API into s3://${aws_s3_bucket.this.bucket}"
  role             = aws_iam_role.upload[0].arn
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "serverless_pypi.upload.handler"
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_upload_memory_size
  timeout          = var.lambda_upload_timeout
  tags             = var.tags

  environment {
    variables = local.upload_environment
  }

  depends_on = [aws_cloudwatch_log_group.upload, aws_iam_role_policy.upload]
}

resource "aws_lambda_permission" "upload" {
  count = local.upload ? 1 : 0

  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.upload[0].function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage, method and route of the caller's API (only the upload routes
  # lead to this function's integration).
  source_arn = "${var.api_execution_arn}/*/*/*"
}

# Trusted publishing (local.trusted_publishing): the mint function, its log
# group, and API Gateway's permission to call it on its routes only.

resource "aws_cloudwatch_log_group" "mint" {
  count = local.trusted_publishing ? 1 : 0

  name              = local.mint_log_group
  retention_in_days = var.log_group_upload_retention_in_days
  tags              = var.tags
}

resource "aws_lambda_function" "mint" {
  count = local.trusted_publishing ? 1 : 0

  function_name    = local.mint_function_name
  description      = "serverless-pypi: trusted publishing (OIDC) for the index of s3://${aws_s3_bucket.this.bucket}"
  role             = aws_iam_role.mint[0].arn
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "serverless_pypi.mint.handler"
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  memory_size      = 256
  timeout          = 15
  tags             = var.tags

  environment {
    variables = local.mint_environment
  }

  depends_on = [aws_cloudwatch_log_group.mint, aws_iam_role_policy.mint]
}

resource "aws_lambda_permission" "mint" {
  count = local.trusted_publishing ? 1 : 0

  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.mint[0].function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage of the caller's API, on the mint routes' methods and paths.
  source_arn = "${var.api_execution_arn}/*/*/*"
}
