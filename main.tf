# serverless-pypi: a private Python package index on S3, Lambda and the
# caller's API Gateway HTTP API. The resources are split by concern:
#   s3.tf      the bucket and its hardening
#   events.tf  bucket notification -> SNS topic -> reindex function, dead-letter queue
#   iam.tf     the functions' shared role
#   lambda.tf  the two functions, their log groups and invoke permissions
#   api.tf     integration and routes on the caller's HTTP API
# and here: the data sources and the derived values (names, ARNs, environment,
# policy documents).

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id # the region's name; `name` is deprecated in provider v6
  account_id = data.aws_caller_identity.current.account_id

  # Names, each overridable by the older module's variable.
  iam_role_name         = coalesce(var.iam_role_name, var.name)
  api_function_name     = coalesce(var.lambda_api_function_name, "${var.name}-api")
  reindex_function_name = coalesce(var.lambda_reindex_function_name, "${var.name}-reindex")
  sns_topic_name        = coalesce(var.sns_topic_name, var.name)
  dead_letter_queue     = "${local.reindex_function_name}-dlq"
  api_log_group         = "/aws/lambda/${local.api_function_name}"
  reindex_log_group     = "/aws/lambda/${local.reindex_function_name}"

  # ARNs built from names rather than read from the resources: the role's
  # policy names both functions, which need the role (reading their ARNs would
  # be a cycle), and every policy document is known at plan time.
  bucket_arn            = "arn:${local.partition}:s3:::${aws_s3_bucket.this.bucket}"
  sns_topic_arn         = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.sns_topic_name}"
  api_function_arn      = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.api_function_name}"
  reindex_function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.reindex_function_name}"
  dead_letter_queue_arn = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.dead_letter_queue}"
  api_log_group_arn     = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.api_log_group}"
  reindex_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.reindex_log_group}"

  # The bucket layout (src/serverless_pypi/layout.py): distributions one level
  # deep (`<project>/<file>`), derived data under `.serverless-pypi/`, and the
  # PEP 503 root page `index.html`.
  derived_prefix = ".serverless-pypi/"
  root_index     = "index.html"
  # The suffixes the reindexer acts on (layout.NOTIFY_SUFFIXES), one
  # notification each; nothing the reindexer writes ends with one of them.
  notify_suffixes = [".whl", ".tar.gz", ".zip", ".yanked"]

  # The bundled Lambda code, built reproducibly by `make package`.
  package = "${path.module}/package/serverless-pypi.zip"

  api_environment = merge(
    {
      S3_BUCKET            = aws_s3_bucket.this.bucket
      S3_PRESIGNED_URL_TTL = tostring(var.s3_presigned_url_ttl)
      LINK_MODE            = var.link_mode
      PAGE_MAX_AGE         = tostring(var.page_max_age)
      LOG_LEVEL            = var.log_level
    },
    var.lambda_api_fallback_index_url == null ? {} : { FALLBACK_INDEX_URL = var.lambda_api_fallback_index_url },
  )
  reindex_environment = {
    S3_BUCKET = aws_s3_bucket.this.bucket
    LOG_LEVEL = var.log_level
  }

  # `/simple/` reaches the `/simple` route (rawPath keeps the slash), and
  # `/` redirects to `/simple/`.
  route_keys = [for pair in setproduct(["GET", "HEAD"], ["/", "/simple", "/simple/{proxy+}"]) : "${pair[0]} ${pair[1]}"]
}

# Policy documents, built here rather than with aws_iam_policy_document so that
# they are plain values that the module's tests can decode at plan time.
locals {
  # Lets a statement apply to one of the two functions that share the role:
  # Lambda adds the calling function's ARN to every request its code makes
  # (and to the log writes it makes for the function).
  only_api     = { ArnEquals = { "lambda:SourceFunctionArn" = local.api_function_arn } }
  only_reindex = { ArnEquals = { "lambda:SourceFunctionArn" = local.reindex_function_arn } }
  # KMS calls that S3 makes for the functions (SSE-KMS), not direct ones.
  via_s3 = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }

  bucket_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  sns_topic_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowThisBucketToPublish"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = local.sns_topic_arn
        Condition = {
          ArnEquals    = { "aws:SourceArn" = local.bucket_arn }
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LambdaAssumeRole"
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })

  role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # Both: the reindexer lists projects; the api needs it so that a
          # missing key is a 404, not a 403.
          Sid      = "ListBucket"
          Effect   = "Allow"
          Action   = "s3:ListBucket"
          Resource = local.bucket_arn
        },
        {
          # Both: keys with a slash only, i.e. distributions and markers
          # (`<project>/<file>`) and the derived `.serverless-pypi/...`; never
          # an object at the bucket root. The api presigns its download URLs
          # with these permissions.
          Sid      = "ReadProjectsAndIndexData"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${local.bucket_arn}/*/*"
        },
        {
          Sid       = "ReindexReadRootIndex"
          Effect    = "Allow"
          Action    = "s3:GetObject"
          Resource  = "${local.bucket_arn}/${local.root_index}"
          Condition = local.only_reindex
        },
        {
          # The reindexer's only writes (conditional PutObject); it never deletes.
          Sid       = "ReindexWriteIndexData"
          Effect    = "Allow"
          Action    = "s3:PutObject"
          Resource  = ["${local.bucket_arn}/${local.derived_prefix}*", "${local.bucket_arn}/${local.root_index}"]
          Condition = local.only_reindex
        },
        {
          # The log groups are Terraform's: no logs:CreateLogGroup.
          Sid       = "ApiWriteLogs"
          Effect    = "Allow"
          Action    = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource  = "${local.api_log_group_arn}:*"
          Condition = local.only_api
        },
        {
          Sid       = "ReindexWriteLogs"
          Effect    = "Allow"
          Action    = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource  = "${local.reindex_log_group_arn}:*"
          Condition = local.only_reindex
        },
      ],
      # Lambda itself delivers failed events, outside the function's
      # environment: the request carries no source function ARN.
      var.reindex_dead_letter_queue ? [
        {
          Sid      = "ReindexSendFailedEvents"
          Effect   = "Allow"
          Action   = "sqs:SendMessage"
          Resource = local.dead_letter_queue_arn
        },
      ] : [],
      var.s3_kms_key_arn == null ? [] : [
        {
          Sid       = "DecryptObjects"
          Effect    = "Allow"
          Action    = "kms:Decrypt"
          Resource  = var.s3_kms_key_arn
          Condition = local.via_s3
        },
        {
          # Only useful with s3:PutObject, which only the reindexer has.
          Sid       = "EncryptIndexData"
          Effect    = "Allow"
          Action    = "kms:GenerateDataKey"
          Resource  = var.s3_kms_key_arn
          Condition = local.via_s3
        },
      ],
    )
  })
}
