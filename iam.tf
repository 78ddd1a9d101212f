# One role for the api and reindex functions. Statements that only one
# function needs are limited to it with lambda:SourceFunctionArn (the
# conditions below): the api function can read, never write. The authorizer
# (`api_basic_auth`) has a role of its own: only it may read the users, and it
# reads nothing else. So has the upload function, at the end: it may add new
# distributions, never overwrite one, and nothing more.

locals {
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
}

resource "aws_iam_role" "this" {
  name               = local.iam_role_name
  description        = coalesce(var.iam_role_description, "serverless-pypi: functions ${local.api_function_name} and ${local.reindex_function_name}")
  assume_role_policy = local.assume_role_policy
  tags               = merge(var.tags, var.iam_role_tags)
}

locals {
  # Lets a statement apply to one of the two functions that share the role:
  # Lambda adds the calling function's ARN to every request its code makes
  # (and to the log writes it makes for the function).
  only_api     = { ArnEquals = { "lambda:SourceFunctionArn" = local.api_function_arn } }
  only_reindex = { ArnEquals = { "lambda:SourceFunctionArn" = local.reindex_function_arn } }
  # KMS calls that S3 makes for the functions (SSE-KMS), not direct ones.
  via_s3 = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }

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
      # The index's events (eventbus.tf), when they are on.
      local.event_bus_statements,
      # The proxy mode's writes and the keeper's invocation (upstream.tf), when it is on.
      local.upstream_api_statements,
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

resource "aws_iam_role_policy" "this" {
  name   = coalesce(var.iam_role_policy_name, var.name)
  role   = aws_iam_role.this.id
  policy = local.role_policy
}

# The authorizer's own role: it reads the users (the users file, and their
# parameters while there is none) and writes its logs, nothing else (no other
# object, no listing, no topic); the shared role above gets no SSM permission
# and reads no object at the bucket's root, nor does the upload role, so nothing
# else of the module can read a user's record.

locals {
  authorizer_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # The users file: every record in one GET, once per cache period.
          # Without s3:ListBucket, S3 answers 403 for it while it does not
          # exist, which the authorizer takes for "no file".
          Sid      = "ReadUsersFile"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = local.users_file_arn
        },
        {
          # While there is no users file, the users' parameters, read whole once
          # per cache period (GetParametersByPath, which IAM authorizes against
          # the path asked for, with or without its last slash): an unknown name
          # then costs no call. No reads by name, no writes.
          Sid      = "ReadUsers"
          Effect   = "Allow"
          Action   = "ssm:GetParametersByPath"
          Resource = [local.users_path_arn, local.users_parameters_arn]
        },
        {
          # Its log group is Terraform's: no logs:CreateLogGroup.
          Sid      = "WriteLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = "${local.authorizer_log_group_arn}:*"
        },
      ],
      # Trusted publishing: the trust file's signing keys, read as the users
      # file is, to check the upload tokens the mint function signs.
      local.trusted_publishing ? [
        {
          Sid      = "ReadTrustFile"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = local.trust_file_arn
        },
      ] : [],
      # The users file under the bucket's customer managed key (SSE-KMS).
      var.s3_kms_key_arn == null ? [] : [
        {
          Sid       = "DecryptUsersFile"
          Effect    = "Allow"
          Action    = "kms:Decrypt"
          Resource  = var.s3_kms_key_arn
          Condition = local.via_s3
        },
      ],
      # SecureString parameters under a customer managed key; the AWS-managed
      # aws/ssm key needs no statement (its key policy lets SSM's callers in).
      var.ssm_kms_key_arn == null ? [] : [
        {
          Sid       = "DecryptUsers"
          Effect    = "Allow"
          Action    = "kms:Decrypt"
          Resource  = var.ssm_kms_key_arn
          Condition = { StringEquals = { "kms:ViaService" = "ssm.${local.region}.amazonaws.com" } }
        },
      ],
    )
  })
}

resource "aws_iam_role" "authorizer" {
  count = var.api_basic_auth ? 1 : 0

  name               = local.authorizer_role_name
  description        = "serverless-pypi: function ${local.authorizer_function_name} (HTTP Basic authorizer)"
  assume_role_policy = local.assume_role_policy
  tags               = var.tags

  lifecycle {
    # `name` allows 56 characters, for <name>-reindex; <name>-authorizer is
    # longer. Checked before the provider's own check, which says less.
    precondition {
      condition     = length(local.authorizer_role_name) <= 64
      error_message = "The authorizer's role name, ${local.authorizer_role_name}, is longer than IAM's 64 characters: with a name of more than 53 characters, set lambda_authorizer_function_name (or iam_authorizer_role_name)."
    }
  }
}

resource "aws_iam_role_policy" "authorizer" {
  count = var.api_basic_auth ? 1 : 0

  name   = local.authorizer_role_name
  role   = aws_iam_role.authorizer[0].id
  policy = local.authorizer_role_policy
}

# The upload function's own role: new distribution files one level deep
# (`<project>/<file>.whl`, `.tar.gz`, `.zip`), by conditional PutObject only,
# so that a file, once there, is never overwritten; the reads its checks need
# (a listing of folder names, HEAD of a file in another spelling of its folder
# and of a project's manifest); no deletes. The shared role and the
# authorizer's gain nothing from the upload route.

locals {
  upload_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # Distribution files in a folder (`<project>/<file>.whl`), and only
          # with If-None-Match (S3's condition key for conditional writes), with
          # which S3 never replaces an existing key: it answers 412. No yank
          # markers, nothing else.
          Sid       = "AddDistributions"
          Effect    = "Allow"
          Action    = "s3:PutObject"
          Resource  = [for suffix in local.distribution_suffixes : "${local.bucket_arn}/*/*${suffix}"]
          Condition = { Null = { "s3:if-none-match" = "false" } }
        },
        {
          # In an ARN, `*` matches "/" too: `*/*.whl` alone would take
          # `a/b/c.whl`. One level deep only.
          Sid      = "DenyDeeperKeys"
          Effect   = "Deny"
          Action   = "s3:PutObject"
          Resource = "${local.bucket_arn}/*/*/*"
        },
        {
          # `*/*.whl` matches the derived data too, which is the reindexer's alone.
          Sid      = "DenyWriteIndexData"
          Effect   = "Deny"
          Action   = "s3:PutObject"
          Resource = "${local.bucket_arn}/${local.derived_prefix}*"
        },
        {
          # The folders spelled like the project (`My.Pkg/`), listed by name.
          Sid      = "ListFolders"
          Effect   = "Allow"
          Action   = "s3:ListBucket"
          Resource = local.bucket_arn
        },
        {
          # HEAD (which S3 authorizes as GetObject) of a file in another
          # spelling of its folder, and of a project's manifest: a name the
          # bucket never held that the fallback index has must be claimed.
          Sid    = "ReadDistributionsAndManifests"
          Effect = "Allow"
          Action = "s3:GetObject"
          Resource = concat(
            [for suffix in local.distribution_suffixes : "${local.bucket_arn}/*/*${suffix}"],
            ["${local.bucket_arn}/${local.derived_prefix}projects/*.json"],
          )
        },
        {
          # Its log group is Terraform's: no logs:CreateLogGroup.
          Sid      = "WriteLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = "${local.upload_log_group_arn}:*"
        },
      ],
      # Trusted publishing: whether a minted token was burned (a HEAD of its
      # marker; a missing one is a 404 with s3:ListBucket above).
      local.trusted_publishing ? [
        {
          Sid      = "ReadBurnedTokens"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${local.oidc_markers_arn}/burned/*"
        },
      ] : [],
      # SSE-KMS: a single PutObject needs a data key, through S3 only.
      var.s3_kms_key_arn == null ? [] : [
        {
          Sid       = "EncryptDistributions"
          Effect    = "Allow"
          Action    = "kms:GenerateDataKey"
          Resource  = var.s3_kms_key_arn
          Condition = local.via_s3
        },
      ],
    )
  })
}

resource "aws_iam_role" "upload" {
  count = local.upload ? 1 : 0

  name               = local.upload_role_name
  description        = "serverless-pypi: function ${local.upload_function_name} (PyPI's legacy upload API)"
  assume_role_policy = local.assume_role_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "upload" {
  count = local.upload ? 1 : 0

  name   = local.upload_role_name
  role   = aws_iam_role.upload[0].id
  policy = local.upload_role_policy
}

# The mint function's own role (trusted publishing): it reads the trust file
# (publishers and signing keys) and writes the markers of used jti's and
# burned tokens, with If-None-Match for a jti (a second use is a 412); nothing
# else: no listing, no distribution, no user.

locals {
  mint_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ReadTrustFile"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = local.trust_file_arn
        },
        {
          Sid       = "UseJtiOnce"
          Effect    = "Allow"
          Action    = "s3:PutObject"
          Resource  = "${local.oidc_markers_arn}/jti/*"
          Condition = { Null = { "s3:if-none-match" = "false" } }
        },
        {
          Sid      = "BurnTokens"
          Effect   = "Allow"
          Action   = "s3:PutObject"
          Resource = "${local.oidc_markers_arn}/burned/*"
        },
        {
          Sid      = "WriteLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = "${local.mint_log_group_arn}:*"
        },
      ],
      var.s3_kms_key_arn == null ? [] : [
        {
          Sid       = "UseBucketKey"
          Effect    = "Allow"
          Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource  = var.s3_kms_key_arn
          Condition = local.via_s3
        },
      ],
    )
  })
}

resource "aws_iam_role" "mint" {
  count = local.trusted_publishing ? 1 : 0

  name               = local.mint_function_name
  description        = "serverless-pypi: function ${local.mint_function_name} (trusted publishing)"
  assume_role_policy = local.assume_role_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "mint" {
  count = local.trusted_publishing ? 1 : 0

  name   = local.mint_function_name
  role   = aws_iam_role.mint[0].id
  policy = local.mint_role_policy
}
