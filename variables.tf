# Required: the caller's HTTP API and the bucket to create.

variable "api_id" {
  type        = string
  description = "ID of the caller's API Gateway HTTP API (`aws_apigatewayv2_api.id`) that the module adds its integration and routes to."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.api_id))
    error_message = "The api_id must be an API Gateway API ID: lowercase letters and digits, e.g. \"a1b2c3d4e5\"."
  }
}

variable "api_execution_arn" {
  type        = string
  description = "Execution ARN of the same HTTP API (`aws_apigatewayv2_api.execution_arn`); the api function lets API Gateway invoke it from under this ARN only."
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:execute-api:[a-z0-9-]+:[0-9]{12}:[a-z0-9]+$", var.api_execution_arn))
    error_message = "The api_execution_arn must look like arn:aws:execute-api:<region>:<account id>:<api id>, without a stage or route."
  }
}

variable "s3_bucket_name" {
  type        = string
  description = "Name of the S3 bucket to create for the distributions and the index (globally unique)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.s3_bucket_name)) && !strcontains(var.s3_bucket_name, "..")
    error_message = "The s3_bucket_name must be a valid S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens."
  }
}

# Names: all derived from `name`, each one overridable.

variable "name" {
  type        = string
  description = "Base name of everything the module creates: the role and topic are called `<name>`, the functions `<name>-api` and `<name>-reindex` (and `<name>-authorizer` with `api_basic_auth`, `<name>-upload` with the upload route)."
  default     = "serverless-pypi"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "The name must be 1 to 56 letters, digits, hyphens or underscores (the longest derived name, <name>-reindex, must fit Lambda's 64)."
  }
}

variable "iam_role_name" {
  type        = string
  description = "Name of the IAM role that the api and reindex functions share. Defaults to `<name>`."
  default     = null

  validation {
    condition     = var.iam_role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.iam_role_name))
    error_message = "The iam_role_name must be 1 to 64 letters, digits or +=,.@_- characters."
  }
}

variable "lambda_api_function_name" {
  type        = string
  description = "Name of the Lambda function that serves the simple API. Defaults to `<name>-api`."
  default     = null

  validation {
    condition     = var.lambda_api_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", var.lambda_api_function_name))
    error_message = "The lambda_api_function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "lambda_reindex_function_name" {
  type        = string
  description = "Name of the Lambda function that reindexes the bucket on S3 events. Defaults to `<name>-reindex`."
  default     = null

  validation {
    condition     = var.lambda_reindex_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", var.lambda_reindex_function_name))
    error_message = "The lambda_reindex_function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "lambda_authorizer_function_name" {
  type        = string
  description = "Name of the Lambda function that checks HTTP Basic credentials (only with `api_basic_auth`). Defaults to `<name>-authorizer`, which is too long for Lambda when `name` has more than 53 characters: then set this."
  default     = null

  validation {
    condition     = var.lambda_authorizer_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", var.lambda_authorizer_function_name))
    error_message = "The lambda_authorizer_function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "iam_authorizer_role_name" {
  type        = string
  description = "Name of the authorizer function's own IAM role (only with `api_basic_auth`). Defaults to the authorizer function's name."
  default     = null

  validation {
    condition     = var.iam_authorizer_role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.iam_authorizer_role_name))
    error_message = "The iam_authorizer_role_name must be 1 to 64 letters, digits or +=,.@_- characters."
  }
}

variable "lambda_upload_function_name" {
  type        = string
  description = "Name of the Lambda function behind the upload route (only with `api_upload_route` and an authorizer). Defaults to `<name>-upload`."
  default     = null

  validation {
    condition     = var.lambda_upload_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", var.lambda_upload_function_name))
    error_message = "The lambda_upload_function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "iam_upload_role_name" {
  type        = string
  description = "Name of the upload function's own IAM role (only with the upload route). Defaults to the upload function's name."
  default     = null

  validation {
    condition     = var.iam_upload_role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.iam_upload_role_name))
    error_message = "The iam_upload_role_name must be 1 to 64 letters, digits or +=,.@_- characters."
  }
}

variable "sns_topic_name" {
  type        = string
  description = "Name of the SNS topic that carries the bucket's notifications to the reindex function. Defaults to `<name>`."
  default     = null

  validation {
    condition     = var.sns_topic_name == null || can(regex("^[A-Za-z0-9_-]{1,256}$", var.sns_topic_name))
    error_message = "The sns_topic_name must be 1 to 256 letters, digits, hyphens or underscores."
  }
}

# The Lambda functions.

variable "lambda_runtime" {
  type        = string
  description = "Python runtime of the functions (`python3.14` also needs an AWS provider release that knows it)."
  default     = "python3.13"
  nullable    = false

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13", "python3.14"], var.lambda_runtime)
    error_message = "The lambda_runtime must be one of python3.11, python3.12, python3.13, python3.14 (the handlers need Python 3.11 or later)."
  }
}

variable "lambda_architecture" {
  type        = string
  description = "Instruction set of the functions: `arm64` (Graviton, cheaper per GB-second) or `x86_64`. The package is pure Python, so either works."
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "The lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_api_memory_size" {
  type        = number
  description = "Memory of the api function, in MB (CPU scales with it)."
  default     = 256
  nullable    = false

  validation {
    condition     = var.lambda_api_memory_size >= 128 && var.lambda_api_memory_size <= 10240 && floor(var.lambda_api_memory_size) == var.lambda_api_memory_size
    error_message = "The lambda_api_memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "lambda_api_timeout" {
  type        = number
  description = "Timeout of the api function, in seconds. At most 30: the HTTP API integration gives up after 30 seconds."
  default     = 10
  nullable    = false

  validation {
    condition     = var.lambda_api_timeout >= 1 && var.lambda_api_timeout <= 30 && floor(var.lambda_api_timeout) == var.lambda_api_timeout
    error_message = "The lambda_api_timeout must be a whole number of seconds from 1 to 30 (the HTTP API integration limit)."
  }
}

variable "lambda_api_reserved_concurrent_executions" {
  type        = number
  description = "Concurrent executions reserved for the api function; null leaves it unreserved, 0 turns the index off."
  default     = null

  validation {
    condition     = var.lambda_api_reserved_concurrent_executions == null || try(var.lambda_api_reserved_concurrent_executions >= 0 && floor(var.lambda_api_reserved_concurrent_executions) == var.lambda_api_reserved_concurrent_executions, false)
    error_message = "The lambda_api_reserved_concurrent_executions must be null or a whole number, 0 or more."
  }
}

variable "lambda_reindex_memory_size" {
  type        = number
  description = "Memory of the reindex function, in MB (CPU scales with it)."
  default     = 512
  nullable    = false

  validation {
    condition     = var.lambda_reindex_memory_size >= 128 && var.lambda_reindex_memory_size <= 10240 && floor(var.lambda_reindex_memory_size) == var.lambda_reindex_memory_size
    error_message = "The lambda_reindex_memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "lambda_reindex_timeout" {
  type        = number
  description = "Timeout of the reindex function, in seconds (3 to 900). A fifth of it (1 to 15 s) is kept back to write the index; each file's inspection gets at most 10 s of the rest."
  default     = 300
  nullable    = false

  validation {
    condition     = var.lambda_reindex_timeout >= 3 && var.lambda_reindex_timeout <= 900 && floor(var.lambda_reindex_timeout) == var.lambda_reindex_timeout
    error_message = "The lambda_reindex_timeout must be a whole number of seconds from 3 to 900: below 3 s, the second kept back to write the index leaves too little to read a file after a cold start."
  }
}

variable "lambda_reindex_reserved_concurrent_executions" {
  type        = number
  description = "Concurrent executions reserved for the reindex function; null leaves it unreserved, 0 stops reindexing."
  default     = null

  validation {
    condition     = var.lambda_reindex_reserved_concurrent_executions == null || try(var.lambda_reindex_reserved_concurrent_executions >= 0 && floor(var.lambda_reindex_reserved_concurrent_executions) == var.lambda_reindex_reserved_concurrent_executions, false)
    error_message = "The lambda_reindex_reserved_concurrent_executions must be null or a whole number, 0 or more."
  }
}

variable "lambda_authorizer_memory_size" {
  type        = number
  description = "Memory of the authorizer function, in MB (CPU scales with it, and with it the speed of a password hash check)."
  default     = 256
  nullable    = false

  validation {
    condition     = var.lambda_authorizer_memory_size >= 128 && var.lambda_authorizer_memory_size <= 10240 && floor(var.lambda_authorizer_memory_size) == var.lambda_authorizer_memory_size
    error_message = "The lambda_authorizer_memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "lambda_authorizer_timeout" {
  type        = number
  description = "Timeout of the authorizer function, in seconds (1 to 30)."
  default     = 5
  nullable    = false

  validation {
    condition     = var.lambda_authorizer_timeout >= 1 && var.lambda_authorizer_timeout <= 30 && floor(var.lambda_authorizer_timeout) == var.lambda_authorizer_timeout
    error_message = "The lambda_authorizer_timeout must be a whole number of seconds from 1 to 30."
  }
}

variable "lambda_authorizer_reserved_concurrent_executions" {
  type        = number
  description = "Concurrent executions reserved for the authorizer function (only with `api_basic_auth`), which are also the most it runs at once: every wrong secret costs it one scrypt, so this bounds how many guesses a second anyone can make and what a flood of wrong credentials costs (docs/security.md); beyond it, requests whose verdict API Gateway has not cached fail with 500 until the flood ends. Null (default) leaves it unreserved; at least 1."
  default     = null

  validation {
    condition     = var.lambda_authorizer_reserved_concurrent_executions == null || try(var.lambda_authorizer_reserved_concurrent_executions >= 1 && floor(var.lambda_authorizer_reserved_concurrent_executions) == var.lambda_authorizer_reserved_concurrent_executions, false)
    error_message = "The lambda_authorizer_reserved_concurrent_executions must be null or a whole number, 1 or more (0 would refuse every request: lambda_api_reserved_concurrent_executions = 0 turns the index off)."
  }
}

variable "lambda_upload_memory_size" {
  type        = number
  description = "Memory of the upload function, in MB (CPU scales with it): it holds, decodes and checks an uploaded file of up to about 4.4 MB."
  default     = 1024
  nullable    = false

  validation {
    condition     = var.lambda_upload_memory_size >= 128 && var.lambda_upload_memory_size <= 10240 && floor(var.lambda_upload_memory_size) == var.lambda_upload_memory_size
    error_message = "The lambda_upload_memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "lambda_upload_timeout" {
  type        = number
  description = "Timeout of the upload function, in seconds. At most 30: the HTTP API integration gives up after 30 seconds."
  default     = 29
  nullable    = false

  validation {
    condition     = var.lambda_upload_timeout >= 1 && var.lambda_upload_timeout <= 30 && floor(var.lambda_upload_timeout) == var.lambda_upload_timeout
    error_message = "The lambda_upload_timeout must be a whole number of seconds from 1 to 30 (the HTTP API integration limit)."
  }
}

# How the index behaves (the api function's environment).

variable "lambda_api_fallback_index_url" {
  type        = string
  description = "Index that projects the bucket has never held redirect to, e.g. `https://pypi.org/simple/`; the upload route refuses a name new to the bucket that this index has until `serverless-pypi claim` makes it the bucket's. Null (default) answers 404 for them instead."
  default     = null

  validation {
    condition     = var.lambda_api_fallback_index_url == null || can(regex("^https?://[^/?#[:space:]]+(/[^?#[:space:]]*)?$", var.lambda_api_fallback_index_url))
    error_message = "The lambda_api_fallback_index_url must be an http:// or https:// URL without query or fragment."
  }
}

variable "s3_presigned_url_ttl" {
  type        = number
  description = "Lifetime of the presigned S3 download URLs, in seconds (1 to 604800, i.e. 7 days)."
  default     = 900
  nullable    = false

  validation {
    condition     = var.s3_presigned_url_ttl >= 1 && var.s3_presigned_url_ttl <= 604800 && floor(var.s3_presigned_url_ttl) == var.s3_presigned_url_ttl
    error_message = "The s3_presigned_url_ttl must be a whole number of seconds from 1 to 604800."
  }
}

variable "link_mode" {
  type        = string
  description = "How pages link to files: `redirect` (stable links on the API that redirect to a fresh presigned URL) or `presigned` (presigned S3 URLs in the page, as the older module does)."
  default     = "redirect"
  nullable    = false

  validation {
    condition     = contains(["redirect", "presigned"], var.link_mode)
    error_message = "The link_mode must be redirect or presigned."
  }
}

variable "page_max_age" {
  type        = number
  description = "`Cache-Control: max-age` of index pages, in seconds (0 to 86400); in `presigned` mode at most half of `s3_presigned_url_ttl` is used."
  default     = 60
  nullable    = false

  validation {
    condition     = var.page_max_age >= 0 && var.page_max_age <= 86400 && floor(var.page_max_age) == var.page_max_age
    error_message = "The page_max_age must be a whole number of seconds from 0 to 86400."
  }
}

variable "log_level" {
  type        = string
  description = "Log level of the functions."
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "The log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
  }
}

# Logs.

variable "log_group_api_retention_in_days" {
  type        = number
  description = "Retention of the api function's log group, in days (one of CloudWatch's values; 0 keeps logs forever)."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_group_api_retention_in_days)
    error_message = "The log_group_api_retention_in_days must be 0 or one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_group_reindex_retention_in_days" {
  type        = number
  description = "Retention of the reindex function's log group, in days (one of CloudWatch's values; 0 keeps logs forever)."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_group_reindex_retention_in_days)
    error_message = "The log_group_reindex_retention_in_days must be 0 or one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_group_authorizer_retention_in_days" {
  type        = number
  description = "Retention of the authorizer function's log group, in days (one of CloudWatch's values; 0 keeps logs forever). Only with `api_basic_auth`."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_group_authorizer_retention_in_days)
    error_message = "The log_group_authorizer_retention_in_days must be 0 or one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_group_upload_retention_in_days" {
  type        = number
  description = "Retention of the upload function's log group, in days (one of CloudWatch's values; 0 keeps logs forever). Only with the upload route."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_group_upload_retention_in_days)
    error_message = "The log_group_upload_retention_in_days must be 0 or one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

# The bucket.

variable "s3_kms_key_arn" {
  type        = string
  description = "ARN of a KMS key to encrypt the bucket with (SSE-KMS with a bucket key). Null (default) uses SSE-S3."
  default     = null

  validation {
    condition     = var.s3_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.s3_kms_key_arn))
    error_message = "The s3_kms_key_arn must be a key ARN, arn:aws:kms:<region>:<account id>:key/<key id> (not an alias)."
  }
}

variable "s3_versioning" {
  type        = bool
  description = "Whether to turn on versioning of the bucket (turning it off later suspends it), so that what `serverless-pypi remove` and `prune` delete can be restored (`serverless-pypi restore`); they refuse to delete from a bucket without it unless told `--permanent`. Set `s3_noncurrent_version_expiration_days` with it. False (default) leaves an existing bucket as it is."
  default     = false
  nullable    = false
}

variable "s3_noncurrent_version_expiration_days" {
  type        = number
  description = "Days S3 keeps a version once it is no longer current (a file that `serverless-pypi remove` or `prune` deleted, a rewritten manifest) before it expires, with the delete markers left alone by then: `serverless-pypi restore` brings a deleted file back within that time. Use with `s3_versioning`; 30 or more is recommended. Null (default) adds no lifecycle configuration: noncurrent versions stay until a lifecycle configuration of yours expires them."
  default     = null

  validation {
    condition     = var.s3_noncurrent_version_expiration_days == null ? true : var.s3_noncurrent_version_expiration_days >= 1 && floor(var.s3_noncurrent_version_expiration_days) == var.s3_noncurrent_version_expiration_days
    error_message = "The s3_noncurrent_version_expiration_days must be a whole number of days, 1 or more (or null: no lifecycle configuration)."
  }
}

variable "s3_force_destroy" {
  type        = bool
  description = "Whether `terraform destroy` may delete the bucket while it still holds objects (and so every distribution)."
  default     = false
  nullable    = false
}

# Reindexing.

variable "reindex_maximum_retry_attempts" {
  type        = number
  description = "How many times Lambda retries a failed reindex invocation (0 to 2) before handing it to the dead-letter queue."
  default     = 2
  nullable    = false

  validation {
    condition     = contains([0, 1, 2], var.reindex_maximum_retry_attempts)
    error_message = "The reindex_maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "reindex_dead_letter_queue" {
  type        = bool
  description = "Whether to keep failed reindex events in an SQS queue (an on-failure destination, messages kept 14 days)."
  default     = true
  nullable    = false
}

# The HTTP API routes.

variable "api_authorization_type" {
  type        = string
  description = "Authorization of the module's routes by an authorizer of yours: `NONE`, `JWT`, `AWS_IAM` or `CUSTOM` (a Lambda authorizer). Leave it `NONE` with `api_basic_auth`, which sets `CUSTOM` and its own authorizer."
  default     = "NONE"
  nullable    = false

  validation {
    condition     = contains(["NONE", "JWT", "AWS_IAM", "CUSTOM"], var.api_authorization_type)
    error_message = "The api_authorization_type must be one of NONE, JWT, AWS_IAM, CUSTOM."
  }
}

variable "api_authorizer_id" {
  type        = string
  description = "ID of the HTTP API authorizer (`aws_apigatewayv2_authorizer.id`); required when `api_authorization_type` is `JWT` or `CUSTOM`, null otherwise."
  default     = null

  validation {
    condition     = var.api_authorizer_id == null || can(regex("^[a-z0-9]+$", var.api_authorizer_id))
    error_message = "The api_authorizer_id must be an API Gateway authorizer ID: lowercase letters and digits."
  }
}

variable "api_stage_name" {
  type        = string
  description = "Stage of the HTTP API that `index_url` points at; `$default` serves at the API's root."
  default     = "$default"
  nullable    = false

  validation {
    condition     = can(regex("^(\\$default|[A-Za-z0-9_-]{1,128})$", var.api_stage_name))
    error_message = "The api_stage_name must be $default or 1 to 128 letters, digits, hyphens or underscores."
  }
}

variable "index_at_api_root" {
  type        = bool
  description = "Whether to serve the index at the API's root as the older serverless PyPI module does (`/` the root page, `/<project>/` the project pages, with its route keys `GET /` and `GET /{package+}`), so that its users' clients keep their index URL. False (default): under `/simple/`."
  default     = false
  nullable    = false
}

variable "api_upload_route" {
  type        = bool
  description = "Whether to add PyPI's legacy upload API (`POST /legacy` and `/legacy/`, for `twine upload` and `uv publish` at the `upload_url` output), with its own function and role, which can add new files to the bucket and never overwrite one. Null (default): on with `api_basic_auth` (a user needs the `upload` right), off with an authorizer of yours (`api_authorization_type`, which then decides alone who may upload: set true to opt in). Never with public routes, whatever this says."
  default     = null
}

variable "upload_refuse_local_versions" {
  type        = bool
  description = "Whether the upload route refuses local versions (`1.0+cpu`) with a 400, as PyPI does: an uploader whose patterns cover a project could otherwise add `1.0+anything` beside its owner's `1.0`, which `pip install <project>==1.0` takes. False (default) accepts them, as a private index of `+cpu` builds needs."
  default     = false
  nullable    = false
}

variable "api_ui" {
  type        = bool
  description = "Whether to add the pages for people (`GET /ui/` and `/ui/<project>/`, at the `ui_url` output) with their own function and role. With `api_basic_auth` the browser asks for a user of the index, whom the function checks itself (the routes have no authorizer, so that the browser gets the challenge that makes it prompt); with public routes the pages are public. Not with an authorizer of yours (`api_authorization_type`), which they would bypass, nor with `index_at_api_root`. False (default): an upgrade adds no function and no route."
  default     = false
  nullable    = false
}

variable "lambda_ui_function_name" {
  type        = string
  description = "Name of the pages' function (with `api_ui`) and of its role; null (default): `<name>-ui`."
  default     = null

  validation {
    condition     = var.lambda_ui_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", var.lambda_ui_function_name))
    error_message = "The lambda_ui_function_name must be 1 to 64 letters, digits, hyphens or underscores."
  }
}

variable "lambda_ui_reserved_concurrent_executions" {
  type        = number
  description = "Concurrent executions reserved for the pages' function (with `api_ui`), which are also the most it runs at once: with `api_basic_auth` every wrong login costs it one scrypt, as the authorizer's do, so this bounds the guesses a second through the pages. Null (default) leaves it unreserved; at least 1."
  default     = null

  validation {
    condition     = var.lambda_ui_reserved_concurrent_executions == null || try(var.lambda_ui_reserved_concurrent_executions >= 1 && floor(var.lambda_ui_reserved_concurrent_executions) == var.lambda_ui_reserved_concurrent_executions, false)
    error_message = "The lambda_ui_reserved_concurrent_executions must be null or a whole number, 1 or more."
  }
}

# Built-in HTTP Basic access control: an authorizer function on every route,
# users in SSM Parameter Store.

variable "api_basic_auth" {
  type        = bool
  description = "Whether to put the module's own HTTP Basic authorizer on every route: a Lambda function (with its own role) that checks credentials against the users under `users_ssm_path`. Excludes `api_authorization_type`."
  default     = false
  nullable    = false
}

variable "users_ssm_path" {
  type        = string
  description = "SSM Parameter Store path that holds one parameter per user (`<path><user>`), which `serverless-pypi user add` and the other `user` commands write (and then the users file at the bucket's root, which the authorizer reads in one GET) and only the authorizer function may read; the output of the same name. Defaults to `/<name>/users/`."
  default     = null

  validation {
    condition     = var.users_ssm_path == null || try(can(regex("^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/$", var.users_ssm_path)) && length(var.users_ssm_path) <= 900, false)
    error_message = "The users_ssm_path must start and end with /, hold only letters, digits and _.-/ (no empty level, so not / alone), and be at most 900 characters, e.g. \"/serverless-pypi/users/\"."
  }

  validation {
    condition     = var.users_ssm_path == null || try(length(split("/", var.users_ssm_path)) - 2 <= 14, false)
    error_message = "The users_ssm_path may have at most 14 levels: SSM allows 15 in a parameter's name, and the user's name is the last."
  }
}

variable "ssm_kms_key_arn" {
  type        = string
  description = "ARN of the customer managed KMS key that encrypts the users' SecureString parameters; the authorizer may decrypt with it through SSM only. Null (default) for the AWS-managed `aws/ssm` key, which needs no permission."
  default     = null

  validation {
    condition     = var.ssm_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.ssm_kms_key_arn))
    error_message = "The ssm_kms_key_arn must be a key ARN, arn:aws:kms:<region>:<account id>:key/<key id> (not an alias)."
  }
}

variable "authorizer_user_cache_seconds" {
  type        = number
  description = "How often a warm authorizer function reads the users again (the users file, one conditional GET; while there is none, GetParametersByPath, one call per 10 users), in seconds (0 to 3600; 0 reads them at most once a second): a new or removed user or a changed secret takes effect within this time (plus `authorizer_result_ttl_in_seconds`). While they cannot be read, the last list read serves 15 minutes longer."
  default     = 60
  nullable    = false

  validation {
    condition     = var.authorizer_user_cache_seconds >= 0 && var.authorizer_user_cache_seconds <= 3600 && floor(var.authorizer_user_cache_seconds) == var.authorizer_user_cache_seconds
    error_message = "The authorizer_user_cache_seconds must be a whole number of seconds from 0 to 3600."
  }
}

variable "authorizer_result_ttl_in_seconds" {
  type        = number
  description = "How long API Gateway caches the authorizer's answer per `Authorization` header and route, in seconds (0 to 3600; 0 asks the function on every request)."
  default     = 300
  nullable    = false

  validation {
    condition     = var.authorizer_result_ttl_in_seconds >= 0 && var.authorizer_result_ttl_in_seconds <= 3600 && floor(var.authorizer_result_ttl_in_seconds) == var.authorizer_result_ttl_in_seconds
    error_message = "The authorizer_result_ttl_in_seconds must be a whole number of seconds from 0 to 3600."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every taggable resource the module creates."
  default     = {}
  nullable    = false
}

# Alarms (off by default).

variable "alarm_topic_arn" {
  type        = string
  description = "ARN of an SNS topic of yours that gets the module's CloudWatch alarms (and their return to OK): dead-letter messages, reindex errors, api and upload 5xx and throttles, authorizer errors. Null (default) creates no alarm."
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.alarm_topic_arn))
    error_message = "The alarm_topic_arn must be an SNS topic ARN, arn:<partition>:sns:<region>:<account>:<name>."
  }
}

variable "create_alarms" {
  type        = bool
  description = "Whether to create the alarms. Null (default): when `alarm_topic_arn` is set. Set true when the topic is created in the same configuration (its ARN is known only after apply, too late for Terraform to count the alarms)."
  default     = null
}

variable "alarm_period_seconds" {
  type        = number
  description = "The period each alarm looks at, in seconds: 60, or a multiple of 60 up to 86400 (one day). An alarm fires after one period with anything to report."
  default     = 300
  nullable    = false

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds <= 86400 && var.alarm_period_seconds % 60 == 0
    error_message = "The alarm_period_seconds must be 60 or a multiple of 60, up to 86400."
  }
}

variable "event_bus_name" {
  type        = string
  description = "An EventBridge bus (a name in the module's account and region, `default` for the account's default bus, or a bus ARN) that gets one event per change of the index: a file published, yanked, unyanked or removed, a name claimed or released (docs/events.md). The reindex function may put events on this bus only. Null or empty (default): no events."
  default     = null

  validation {
    condition     = var.event_bus_name == null || trimspace(coalesce(var.event_bus_name, " ")) == "" || can(regex("^(?:[A-Za-z0-9._\\-/]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._\\-/]{1,256})$", trimspace(var.event_bus_name)))
    error_message = "The event_bus_name must be a bus name (letters, digits and ._-/, at most 256 characters) or an event-bus ARN, arn:<partition>:events:<region>:<account>:event-bus/<name>."
  }
}

variable "trusted_publishing" {
  type        = bool
  description = "Whether CI jobs may publish without a secret (trusted publishing, docs/publishing.md): adds `GET /_/oidc/audience`, `POST /_/oidc/mint-token`, `POST /_/oidc/burn-token` and `GET /.well-known/pytp` at the API's root, without an authorizer, on a function of their own, which mints upload tokens for the publishers that `serverless-pypi publisher add` configures. Needs `api_basic_auth` (its authorizer checks the minted tokens) and the upload route. The routes must be at the host's root: behind a custom domain's base path mapping, uv and the publishing action do not find them."
  default     = false
  nullable    = false
}

variable "trusted_publishing_audience" {
  type        = string
  description = "The audience the CI's OIDC tokens must name (`/_/oidc/audience` answers it; clients ask their CI for a token with it). Null (default): `serverless-pypi-<bucket name>`, unique to this index, so that a token minted for another index is refused here."
  default     = null

  validation {
    condition     = var.trusted_publishing_audience == null || can(regex("^[A-Za-z0-9._:/-]{1,255}$", var.trusted_publishing_audience))
    error_message = "The trusted_publishing_audience must be 1 to 255 letters, digits and '._:/-'."
  }
}

variable "trusted_publishing_issuers" {
  type        = list(string)
  description = "OIDC issuers trusted beyond GitHub Actions' (`https://token.actions.githubusercontent.com`) and gitlab.com's (`https://gitlab.com`): a self-hosted GitLab, GitHub Enterprise Server, Forgejo, Buildkite... Each is the exact `iss` of its tokens, an https URL without a trailing slash, whose `/.well-known/openid-configuration` the mint function reads."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for url in var.trusted_publishing_issuers : can(regex("^https://[^/?#\\s]+(/[^?#\\s]*[^/?#\\s])?$", url)) && length(url) <= 255])
    error_message = "Each of trusted_publishing_issuers must be an https URL without query, fragment or trailing slash, at most 255 characters."
  }
}

variable "trusted_publishing_token_ttl" {
  type        = number
  description = "How long an upload token minted for a trusted publisher lives, in seconds: 900 (15 minutes, as on PyPI) by default, 300 to 21600 (6 hours). It stops working at its expiry even when API Gateway cached the authorizer's verdict (the upload function checks it again), and at once when the client burns it (`uv publish` does)."
  default     = 900
  nullable    = false

  validation {
    condition     = var.trusted_publishing_token_ttl >= 300 && var.trusted_publishing_token_ttl <= 21600 && floor(var.trusted_publishing_token_ttl) == var.trusted_publishing_token_ttl
    error_message = "The trusted_publishing_token_ttl must be a whole number of seconds from 300 to 21600."
  }
}

# The upstream (lambda_api_fallback_index_url) in proxy mode (upstream.tf).

variable "upstream_mode" {
  type        = string
  description = "What a project name the bucket never held gets: `redirect` (default) to lambda_api_fallback_index_url, or `proxy`: that index's page, filtered by upstream_cooldown and the deny and allow lists (`serverless-pypi upstream show`), with every link to this API, and a copy of each file downloaded kept in the bucket (verified by SHA-256) by a keeper function. `proxy` needs lambda_api_fallback_index_url."
  default     = "redirect"
  nullable    = false

  validation {
    condition     = contains(["redirect", "proxy"], var.upstream_mode)
    error_message = "The upstream_mode must be \"redirect\" or \"proxy\"."
  }
}

variable "upstream_cooldown" {
  type        = string
  description = "In proxy mode, how old an upstream file must be before it is offered: a whole number of days, hours or minutes (`7d`, `36h`, `90m`), or `0` for none. A file without an upload time is held back too unless this is `0`. Default `7d`."
  default     = "7d"
  nullable    = false

  validation {
    condition     = can(regex("^(0|[1-9][0-9]{0,4}[dhm])$", var.upstream_cooldown))
    error_message = "The upstream_cooldown must be \"0\" or a whole number (1 to 99999) followed by d, h or m, e.g. \"7d\", \"36h\", \"90m\"."
  }
}

variable "upstream_page_ttl" {
  type        = number
  description = "In proxy mode, seconds an upstream page kept in the bucket is served before it is revalidated upstream (one conditional request), 0 to 86400."
  default     = 300
  nullable    = false

  validation {
    condition     = var.upstream_page_ttl >= 0 && var.upstream_page_ttl <= 86400 && floor(var.upstream_page_ttl) == var.upstream_page_ttl
    error_message = "The upstream_page_ttl must be a whole number of seconds from 0 to 86400."
  }
}

variable "upstream_allow_only" {
  type        = bool
  description = "In proxy mode, proxy only the projects that `serverless-pypi upstream allow` names (every other name not in the bucket answers 404)."
  default     = false
  nullable    = false
}

variable "lambda_keeper_timeout" {
  type        = number
  description = "In proxy mode, the keeper function's timeout in seconds (it streams one upstream file into the bucket per invocation), 60 to 900."
  default     = 900
  nullable    = false

  validation {
    condition     = var.lambda_keeper_timeout >= 60 && var.lambda_keeper_timeout <= 900 && floor(var.lambda_keeper_timeout) == var.lambda_keeper_timeout
    error_message = "The lambda_keeper_timeout must be a whole number of seconds from 60 to 900."
  }
}
