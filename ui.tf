# The pages for people (`api_ui`, off by default): `/ui/` and `/ui/<project>/` on
# the caller's HTTP API, served by their own function (serverless_pypi.ui) with
# its own role. The routes have no authorizer: API Gateway's own 401 carries no
# `WWW-Authenticate`, so a browser would never prompt. The function checks
# HTTP Basic itself, with the authorizer's code, against the same users (with
# `api_basic_auth`); with public routes the pages are public, like the index.
# A caller's authorizer cannot be checked that way: the pages are refused then.

locals {
  ui               = var.api_ui
  ui_login         = var.api_basic_auth ? "basic" : "none"
  ui_function_name = coalesce(var.lambda_ui_function_name, "${var.name}-ui")
  ui_log_group     = "/aws/lambda/${local.ui_function_name}"
  ui_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.ui_log_group}"
  # The pages' route keys (layout.UI_ROUTE_KEYS, checked by
  # tests/e2e/test_terraform_layout.py).
  ui_route_keys = [for pair in setproduct(["GET", "HEAD"], ["/ui", "/ui/{proxy+}"]) : "${pair[0]} ${pair[1]}"]
  # What src/serverless_pypi/ui.py reads (UiSettings: the api's settings, and with
  # a login the authorizer's).
  ui_environment = merge(
    {
      S3_BUCKET            = aws_s3_bucket.this.bucket
      S3_PRESIGNED_URL_TTL = tostring(var.s3_presigned_url_ttl)
      LOG_LEVEL            = var.log_level
      UI_LOGIN             = local.ui_login
      # The login prompt's realm: the module's name (letters, digits, _ and -).
      UI_REALM = var.name
    },
    var.api_basic_auth ? {
      USERS_PATH         = local.users_path
      USER_CACHE_SECONDS = tostring(var.authorizer_user_cache_seconds)
    } : {},
  )

  # Its role: the two objects a page reads (the catalog, a project's manifest),
  # the distributions its file links presign, and with a login what the
  # authorizer's role reads (the users file, the users' parameters); nothing
  # else, no listing, no write.
  ui_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ReadPages"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = ["${local.bucket_arn}/${local.derived_prefix}catalog.json", "${local.bucket_arn}/${local.derived_prefix}projects/*.json"]
        },
        {
          # A file link redirects to a URL presigned with this role's credentials.
          Sid      = "PresignDistributions"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = [for suffix in local.distribution_suffixes : "${local.bucket_arn}/*/*${suffix}"]
        },
        {
          Sid      = "WriteLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = "${local.ui_log_group_arn}:*"
        },
      ],
      var.api_basic_auth ? [
        {
          Sid      = "ReadUsersFile"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = [local.users_file_arn]
        },
        {
          Sid      = "ReadUsers"
          Effect   = "Allow"
          Action   = "ssm:GetParametersByPath"
          Resource = [local.users_path_arn, local.users_parameters_arn]
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
      ],
      var.api_basic_auth && var.ssm_kms_key_arn != null ? [
        {
          Sid       = "DecryptUsers"
          Effect    = "Allow"
          Action    = "kms:Decrypt"
          Resource  = var.ssm_kms_key_arn
          Condition = { StringEquals = { "kms:ViaService" = "ssm.${local.region}.amazonaws.com" } }
        },
      ] : [],
    )
  })
}

resource "aws_cloudwatch_log_group" "ui" {
  count = local.ui ? 1 : 0

  name              = local.ui_log_group
  retention_in_days = var.log_group_api_retention_in_days
  tags              = var.tags
}

resource "aws_iam_role" "ui" {
  count = local.ui ? 1 : 0

  name               = local.ui_function_name
  description        = "serverless-pypi: function ${local.ui_function_name} (pages for people)"
  assume_role_policy = local.assume_role_policy
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = length(local.ui_function_name) <= 64
      error_message = "The pages' function and role name, ${local.ui_function_name}, is longer than 64 characters: set lambda_ui_function_name."
    }
  }
}

resource "aws_iam_role_policy" "ui" {
  count = local.ui ? 1 : 0

  name   = local.ui_function_name
  role   = aws_iam_role.ui[0].id
  policy = local.ui_role_policy
}

resource "aws_lambda_function" "ui" {
  count = local.ui ? 1 : 0

  function_name    = local.ui_function_name
  description      = "serverless-pypi: pages for people of the index of s3://${aws_s3_bucket.this.bucket}"
  role             = aws_iam_role.ui[0].arn
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "serverless_pypi.ui.handler"
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  # Its login costs what the authorizer's does (one scrypt per wrong secret).
  memory_size                    = var.lambda_authorizer_memory_size
  timeout                        = var.lambda_api_timeout
  reserved_concurrent_executions = var.lambda_ui_reserved_concurrent_executions
  tags                           = var.tags

  environment {
    variables = local.ui_environment
  }

  depends_on = [aws_cloudwatch_log_group.ui, aws_iam_role_policy.ui]

  lifecycle {
    precondition {
      condition     = var.api_authorization_type == "NONE"
      error_message = "The pages for people (api_ui) check the module's own users (api_basic_auth) or are public; with an authorizer of yours (api_authorization_type = ${var.api_authorization_type}) they would bypass it: turn api_ui off."
    }
    precondition {
      condition     = !var.index_at_api_root
      error_message = "The pages for people (api_ui) are at /ui/, which index_at_api_root gives to a project named ui: turn one of them off."
    }
  }
}

resource "aws_lambda_permission" "ui" {
  count = local.ui ? 1 : 0

  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.ui[0].function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage, method and route of the caller's API (only the pages' routes lead
  # to this function's integration).
  source_arn = "${var.api_execution_arn}/*/*/*"
}

resource "aws_apigatewayv2_integration" "ui" {
  count = local.ui ? 1 : 0

  api_id                 = var.api_id
  description            = "serverless-pypi: ${local.ui_function_name}"
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.ui[0].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = min(30000, (var.lambda_api_timeout + 1) * 1000)
}

# No authorizer, on purpose: the function answers a missing or wrong login with
# the 401 and `WWW-Authenticate: Basic` that make a browser prompt.
resource "aws_apigatewayv2_route" "ui" {
  for_each = toset(local.ui ? local.ui_route_keys : [])

  api_id             = var.api_id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.ui[0].id}"
  authorization_type = "NONE"
}
