# serverless-pypi: a private Python package index on S3, Lambda and the
# caller's API Gateway HTTP API. The resources are split by concern, each file
# with the policy documents of its resources:
#   s3.tf      the bucket, its hardening and its policy
#   events.tf  bucket notification -> SNS topic (and its policy) -> reindex
#              function, dead-letter queue
#   iam.tf     the roles: the one the api and reindex functions share, and
#              the authorizer's and the upload function's own; their trust
#              and permission policies
#   lambda.tf  the functions, their log groups and invoke permissions
#   api.tf     integrations, routes and the HTTP Basic authorizer on the
#              caller's HTTP API
#   alarms.tf  CloudWatch alarms to the caller's topic, off by default
#   ui.tf      the pages for people (their function, role and routes), off
#              by default
#   compat.tf  the older module's inputs and outputs; moved.tf its resource
#              addresses
# and here: the data sources and the derived values (names, ARNs, bucket
# layout, environment, route keys, URLs).
#
# The policy documents are `jsonencode` locals rather than
# aws_iam_policy_document data sources: plain values, known at plan time, that
# the module's tests (tests/module.tftest.hcl) can `jsondecode`.

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

  # The HTTP Basic authorizer (`api_basic_auth`): its names exist whether it
  # is on or not, only its resources are counted. The users are SSM
  # parameters, one each (`<users_path><user>`), and the users file at the
  # bucket's root, every record in one object: `serverless-pypi user` writes
  # them, only the authorizer reads them.
  authorizer_function_name = coalesce(var.lambda_authorizer_function_name, "${var.name}-authorizer")
  authorizer_role_name     = coalesce(var.iam_authorizer_role_name, local.authorizer_function_name)
  authorizer_log_group     = "/aws/lambda/${local.authorizer_function_name}"
  authorizer_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.authorizer_log_group}"
  users_path               = coalesce(var.users_ssm_path, "/${var.name}/users/")
  # Every parameter under the path: a hierarchical parameter's ARN is
  # `parameter` followed by its name, leading slash included.
  users_parameters_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.users_path}*"
  # The path itself, without its last slash: what GetParametersByPath is
  # authorized against (users_parameters_arn covers it with the slash).
  users_path_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${trimsuffix(local.users_path, "/")}"
  # The users file (layout.USERS_FILE, tied by tests/e2e/test_terraform_layout.py):
  # at the root, where the shared role's reads (`*/*`) and the upload role's
  # never reach, and no role writes.
  users_file     = ".serverless-pypi-users.json"
  users_file_arn = "${local.bucket_arn}/${local.users_file}"

  # The upload route (PyPI's legacy upload API, `api_upload_route`): only
  # behind an authorizer, the module's own or the caller's, never anonymous.
  # Like the authorizer's, its names exist whether it is on or not, only its
  # resources are counted.
  routes_authorized = var.api_basic_auth || var.api_authorization_type != "NONE"
  # Null: on with the built-in authorizer only; a caller's authorizer, which then
  # decides alone who may upload, must opt in (an upgrade adds no upload route).
  upload               = local.routes_authorized && coalesce(var.api_upload_route, var.api_basic_auth)
  upload_function_name = coalesce(var.lambda_upload_function_name, "${var.name}-upload")
  upload_role_name     = coalesce(var.iam_upload_role_name, local.upload_function_name)
  upload_log_group     = "/aws/lambda/${local.upload_function_name}"
  upload_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.upload_log_group}"

  # Trusted publishing (`trusted_publishing`): the mint function and its routes
  # at the API's root, without an authorizer; the authorizer checks the upload
  # tokens it mints. The trust file (publishers.TRUST_FILE, beside the users
  # file) holds the publishers and the tokens' signing keys: only the mint
  # function and the authorizer may read it, and no function may write it. The
  # markers of used jti's and burned tokens sit under the derived prefix.
  trusted_publishing          = var.trusted_publishing && local.upload && var.api_basic_auth
  mint_function_name          = "${var.name}-oidc"
  mint_log_group              = "/aws/lambda/${local.mint_function_name}"
  mint_log_group_arn          = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.mint_log_group}"
  trust_file                  = ".serverless-pypi-trust.json"
  trust_file_arn              = "${local.bucket_arn}/${local.trust_file}"
  oidc_markers_prefix         = ".serverless-pypi/oidc"
  oidc_markers_arn            = "${local.bucket_arn}/${local.oidc_markers_prefix}"
  trusted_publishing_audience = coalesce(var.trusted_publishing_audience, "serverless-pypi-${aws_s3_bucket.this.bucket}")
  # The routes (layout.OIDC_ROUTE_KEYS).
  oidc_route_keys = ["GET /_/oidc/audience", "POST /_/oidc/mint-token", "POST /_/oidc/burn-token", "GET /.well-known/pytp"]

  # The bucket layout: distributions one level deep (`<project>/<file>`),
  # derived data under `.serverless-pypi/`, and the PEP 503 root page
  # `index.html`. These three values are the Terraform side of
  # src/serverless_pypi/layout.py (DERIVED_PREFIX, ROOT_HTML, NOTIFY_SUFFIXES);
  # tests/e2e/test_terraform_layout.py checks that the two agree.
  derived_prefix = ".serverless-pypi/"
  root_index     = "index.html"
  # The suffixes the reindexer acts on, one notification each; nothing the
  # reindexer writes ends with one of them. Distributions are the only files
  # the upload function may write.
  distribution_suffixes = [".whl", ".tar.gz", ".zip"]
  notify_suffixes       = concat(local.distribution_suffixes, [".yanked"])

  # The bundled Lambda code, built reproducibly by `make package`.
  package = "${path.module}/package/serverless-pypi.zip"
  # The release that code is, as the bucket's tags `serverless-pypi:version` and
  # `serverless-pypi:formats` (its version, and the formats of the data it derives):
  # `make package` writes them beside it (src/serverless_pypi/release.py), and the
  # command line compares them with its own before it reads or writes the bucket.
  release_tags = tomap(jsondecode(file("${path.module}/package/release.json")))

  api_environment = merge(
    {
      S3_BUCKET            = aws_s3_bucket.this.bucket
      S3_PRESIGNED_URL_TTL = tostring(var.s3_presigned_url_ttl)
      LINK_MODE            = var.link_mode
      PAGE_MAX_AGE         = tostring(var.page_max_age)
      LOG_LEVEL            = var.log_level
    },
    var.lambda_api_fallback_index_url == null ? {} : { FALLBACK_INDEX_URL = var.lambda_api_fallback_index_url },
    # Set only for the root layout, so that the default environment is unchanged.
    var.index_at_api_root ? { INDEX_PATH = "/" } : {},
    # The proxy mode (upstream.tf), likewise only when it is on.
    local.upstream_proxy ? {
      UPSTREAM_MODE       = "proxy"
      UPSTREAM_COOLDOWN   = var.upstream_cooldown
      UPSTREAM_PAGE_TTL   = tostring(var.upstream_page_ttl)
      UPSTREAM_ALLOW_ONLY = tostring(var.upstream_allow_only)
      KEEPER_FUNCTION     = local.keeper_function_name
    } : {},
  )
  reindex_environment = merge(
    {
      S3_BUCKET = aws_s3_bucket.this.bucket
      LOG_LEVEL = var.log_level
    },
    # The bus of the index's events (eventbus.tf), only with event_bus_name, so
    # that the default environment is unchanged.
    local.events ? { EVENT_BUS = local.event_bus_arn } : {},
    # The pages for people's list of projects (ui.tf), kept up to date by each
    # event only when they are deployed: two S3 requests more an event.
    local.ui ? { UI_CATALOG = "true" } : {},
  )
  # What src/serverless_pypi/authorizer.py reads (AuthSettings, log level).
  authorizer_environment = merge(
    {
      S3_BUCKET          = aws_s3_bucket.this.bucket
      USERS_PATH         = local.users_path
      USER_CACHE_SECONDS = tostring(var.authorizer_user_cache_seconds)
      LOG_LEVEL          = var.log_level
    },
    # Only with trusted publishing, so that the default environment is unchanged.
    local.trusted_publishing ? { TRUSTED_PUBLISHING = "true" } : {},
  )
  # What src/serverless_pypi/mint.py reads (MintSettings).
  mint_environment = {
    S3_BUCKET                    = aws_s3_bucket.this.bucket
    TRUSTED_PUBLISHING_AUDIENCE  = local.trusted_publishing_audience
    TRUSTED_PUBLISHING_ISSUERS   = join(",", var.trusted_publishing_issuers)
    TRUSTED_PUBLISHING_TOKEN_TTL = tostring(var.trusted_publishing_token_ttl)
    USER_CACHE_SECONDS           = tostring(var.authorizer_user_cache_seconds)
    LOG_LEVEL                    = var.log_level
  }

  # What src/serverless_pypi/upload.py reads. UPLOAD_RIGHT: with the built-in
  # authorizer the handler also checks the `upload` right (and its project
  # patterns) the authorizer puts in its context ("required"); a caller's
  # authorizer decides alone ("authorizer"). FALLBACK_INDEX_URL: the api's; a
  # name new to the bucket that this index has is refused until claimed.
  # LOCAL_VERSIONS: set only to refuse them, so that the default environment is unchanged.
  upload_environment = merge(
    {
      S3_BUCKET    = aws_s3_bucket.this.bucket
      LOG_LEVEL    = var.log_level
      UPLOAD_RIGHT = var.api_basic_auth ? "required" : "authorizer"
    },
    var.lambda_api_fallback_index_url == null ? {} : { FALLBACK_INDEX_URL = var.lambda_api_fallback_index_url },
    var.upload_refuse_local_versions ? { LOCAL_VERSIONS = "refuse" } : {},
  )

  # The routes on the caller's HTTP API (layout.ROUTE_KEYS in Python, checked
  # by tests/e2e/test_terraform_layout.py). `/simple/` reaches the `/simple` route
  # (rawPath keeps the slash), and `/` redirects to `/simple/`.
  route_keys = [for pair in setproduct(["GET", "HEAD"], ["/", "/simple", "/simple/{proxy+}"]) : "${pair[0]} ${pair[1]}"]
  # With index_at_api_root: the older module's route keys (layout.ROOT_ROUTE_KEYS),
  # its root page at `/` and its project pages at `/<project>/`.
  root_route_keys = [for pair in setproduct(["GET", "HEAD"], ["/", "/{package+}"]) : "${pair[0]} ${pair[1]}"]
  api_route_keys  = var.index_at_api_root ? local.root_route_keys : local.route_keys
  # The upload route's keys (layout.UPLOAD_ROUTE_KEYS, checked likewise): twine
  # and uv publish POST to the URL they are given, with or without the slash.
  upload_route_keys = [for path in ["/legacy", "/legacy/"] : "POST ${path}"]

  # The API's base URL: its default endpoint, then the stage path unless
  # `$default`. The index is under `simple/`, the upload API at `legacy/`.
  api_url = "${data.aws_apigatewayv2_api.this.api_endpoint}${var.api_stage_name == "$default" ? "" : "/${var.api_stage_name}"}/"
}
