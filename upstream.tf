# The proxy mode (upstream_mode = "proxy"): a name the bucket never held gets the
# upstream's page (lambda_api_fallback_index_url), filtered by the cooldown and the
# policy lists, and each file downloaded is kept in the bucket by the keeper
# function, which the api invokes asynchronously. Everything here exists only in
# proxy mode; the default (redirect) adds nothing.
#
# Who writes what under .serverless-pypi/upstream/ (layout.UPSTREAM_PREFIX):
# - the api function: pages/ (the upstream's pages as last fetched), nothing else;
# - the keeper function: files/ (the kept copies), nothing else, and it reads nothing
#   but them;
# - `serverless-pypi upstream` (the operator's credentials): policy.json.
# No function of the proxy mode may write a project folder (`<project>/<file>`).

locals {
  upstream_proxy       = var.upstream_mode == "proxy"
  upstream_prefix      = "${local.derived_prefix}upstream/"
  keeper_function_name = "${var.name}-keeper"
  keeper_log_group     = "/aws/lambda/${local.keeper_function_name}"
  keeper_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.keeper_log_group}"
  keeper_function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.keeper_function_name}"
  upstream_pages_arn   = "${local.bucket_arn}/${local.upstream_prefix}pages/*"
  upstream_files_arn   = "${local.bucket_arn}/${local.upstream_prefix}files/*"

  # Added to the api's role (iam.tf): its one write, and the keeper's invocation.
  upstream_api_statements = local.upstream_proxy ? [
    {
      Sid       = "ApiWriteUpstreamPages"
      Effect    = "Allow"
      Action    = "s3:PutObject"
      Resource  = local.upstream_pages_arn
      Condition = local.only_api
    },
    {
      Sid       = "ApiInvokeKeeper"
      Effect    = "Allow"
      Action    = "lambda:InvokeFunction"
      Resource  = local.keeper_function_arn
      Condition = local.only_api
    },
  ] : []

  keeper_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # A multipart upload (CreateMultipartUpload, UploadPart and
          # CompleteMultipartUpload are s3:PutObject), aborted when the bytes do not
          # have the page's SHA-256; a HEAD of a copy kept before.
          Sid      = "KeepUpstreamFiles"
          Effect   = "Allow"
          Action   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"]
          Resource = local.upstream_files_arn
        },
        {
          Sid      = "KeeperWriteLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = "${local.keeper_log_group_arn}:*"
        },
      ],
      var.s3_kms_key_arn == null ? [] : [
        {
          Sid       = "EncryptKeptFiles"
          Effect    = "Allow"
          Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
          Resource  = var.s3_kms_key_arn
          Condition = local.via_s3
        },
      ],
    )
  })
}

resource "aws_cloudwatch_log_group" "keeper" {
  count = local.upstream_proxy ? 1 : 0

  name              = local.keeper_log_group
  retention_in_days = var.log_group_api_retention_in_days
  tags              = var.tags
}

resource "aws_iam_role" "keeper" {
  count = local.upstream_proxy ? 1 : 0

  name               = local.keeper_function_name
  description        = "serverless-pypi: function ${local.keeper_function_name} (keeps upstream files)"
  assume_role_policy = local.assume_role_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "keeper" {
  count = local.upstream_proxy ? 1 : 0

  name   = local.keeper_function_name
  role   = aws_iam_role.keeper[0].id
  policy = local.keeper_role_policy
}

resource "aws_lambda_function" "keeper" {
  count = local.upstream_proxy ? 1 : 0

  function_name    = local.keeper_function_name
  description      = "serverless-pypi: keeps copies of upstream files in s3://${aws_s3_bucket.this.bucket}"
  role             = aws_iam_role.keeper[0].arn
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "serverless_pypi.keeper.handler"
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  memory_size      = 512
  timeout          = var.lambda_keeper_timeout
  tags             = var.tags

  environment {
    variables = {
      S3_BUCKET = aws_s3_bucket.this.bucket
      LOG_LEVEL = var.log_level
    }
  }

  depends_on = [aws_cloudwatch_log_group.keeper, aws_iam_role_policy.keeper]

  lifecycle {
    precondition {
      condition     = var.lambda_api_fallback_index_url != null
      error_message = "upstream_mode = \"proxy\" needs the upstream: set lambda_api_fallback_index_url (e.g. https://pypi.org/simple/)."
    }
  }
}
