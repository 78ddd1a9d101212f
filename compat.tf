# The older serverless PyPI module's interface (amancevice/serverless-pypi,
# v4.1.x): its inputs that variables.tf does not have, and its outputs, so that
# its users switch by changing `source` and `version` alone.
#
# The inputs it shares with this module (api_*, s3_bucket_name,
# s3_presigned_url_ttl, iam_role_name, sns_topic_name, lambda_runtime,
# lambda_api_* and lambda_reindex_* names, sizes and timeouts, the
# fallback index URL and the log retentions) are in variables.tf. Here:
#   - its per-resource tags, added to `tags` on their resource (s3.tf,
#     events.tf, iam.tf, lambda.tf: `merge(var.tags, var.<x>_tags)`);
#   - its descriptions and role policy name, which replace this module's
#     defaults when set;
#   - its publish and alias inputs, accepted without effect: this module
#     updates its functions in place and has no aliases; the check below says
#     so when one is set.
# Its outputs, whole resource objects, come last, beside this module's flat
# ones (outputs.tf).

# Tags, each added to `tags` on one resource.

variable "s3_bucket_tags" {
  type        = map(string)
  description = "(older module) Tags for the bucket, added to `tags` (these win on a shared key)."
  default     = {}
  nullable    = false
}

variable "sns_topic_tags" {
  type        = map(string)
  description = "(older module) Tags for the SNS topic, added to `tags` (these win on a shared key)."
  default     = {}
  nullable    = false
}

variable "iam_role_tags" {
  type        = map(string)
  description = "(older module) Tags for the IAM role that the api and reindex functions share, added to `tags` (these win on a shared key)."
  default     = {}
  nullable    = false
}

variable "lambda_api_tags" {
  type        = map(string)
  description = "(older module) Tags for the api function, added to `tags` (these win on a shared key)."
  default     = {}
  nullable    = false
}

variable "lambda_reindex_tags" {
  type        = map(string)
  description = "(older module) Tags for the reindex function, added to `tags` (these win on a shared key)."
  default     = {}
  nullable    = false
}

variable "log_group_api_tags" {
  type        = map(string)
  description = "(older module) Tags for the api function's log group, added to `tags` (these win on a shared key)."
  default     = {}
  nullable    = false
}

variable "log_group_reindex_tags" {
  type        = map(string)
  description = "(older module) Tags for the reindex function's log group, added to `tags` (these win on a shared key)."
  default     = {}
  nullable    = false
}

# Descriptions and the role policy's name: null (or empty) keeps this
# module's own.

variable "iam_role_description" {
  type        = string
  description = "(older module) Description of the IAM role that the api and reindex functions share. Null keeps `serverless-pypi: functions <api> and <reindex>`."
  default     = null

  validation {
    # Its length in UTF-8 bytes, as the provider counts: one per character,
    # one more for each one outside ASCII (at most two bytes in Latin-1).
    condition     = var.iam_role_description == null || try(can(regex("^[\\t\\n\\r\\x{20}-\\x{7E}\\x{A1}-\\x{FF}]*$", var.iam_role_description)) && length(regexall("(?s).", var.iam_role_description)) + length(regexall("[^\\x{00}-\\x{7F}]", var.iam_role_description)) <= 1000, false)
    error_message = "The iam_role_description must be printable ASCII or Latin-1 characters, tabs and line breaks (IAM's rule), at most 1000 bytes in UTF-8 (a letter outside ASCII counts 2)."
  }
}

variable "iam_role_policy_name" {
  type        = string
  description = "(older module) Name of the shared role's inline policy. Null keeps `<name>` (the older module's default was `pypi-lambda-permissions`: set that to keep the policy as it is named)."
  default     = null

  validation {
    condition     = var.iam_role_policy_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.iam_role_policy_name))
    error_message = "The iam_role_policy_name must be 1 to 128 letters, digits or +=,.@_- characters."
  }
}

variable "lambda_api_description" {
  type        = string
  description = "(older module) Description of the api function. Null keeps `serverless-pypi: the simple API of s3://<bucket>`."
  default     = null

  validation {
    # Its length in UTF-8 bytes, as the provider counts: one per character,
    # one more for each one beyond U+007F, U+07FF and U+FFFF.
    condition     = var.lambda_api_description == null || try(length(regexall("(?s).", var.lambda_api_description)) + length(regexall("[^\\x{00}-\\x{7F}]", var.lambda_api_description)) + length(regexall("[^\\x{00}-\\x{7FF}]", var.lambda_api_description)) + length(regexall("[^\\x{00}-\\x{FFFF}]", var.lambda_api_description)) <= 256, false)
    error_message = "The lambda_api_description must be at most 256 bytes in UTF-8 (Lambda's limit; a letter outside ASCII counts 2 to 4)."
  }
}

variable "lambda_reindex_description" {
  type        = string
  description = "(older module) Description of the reindex function. Null keeps `serverless-pypi: reindexes s3://<bucket> on its notifications`."
  default     = null

  validation {
    # Its length in UTF-8 bytes, as the provider counts: one per character,
    # one more for each one beyond U+007F, U+07FF and U+FFFF.
    condition     = var.lambda_reindex_description == null || try(length(regexall("(?s).", var.lambda_reindex_description)) + length(regexall("[^\\x{00}-\\x{7F}]", var.lambda_reindex_description)) + length(regexall("[^\\x{00}-\\x{7FF}]", var.lambda_reindex_description)) + length(regexall("[^\\x{00}-\\x{FFFF}]", var.lambda_reindex_description)) <= 256, false)
    error_message = "The lambda_reindex_description must be at most 256 bytes in UTF-8 (Lambda's limit; a letter outside ASCII counts 2 to 4)."
  }
}

# Publishing and aliases: accepted, without effect (see the check below). Any
# value is as good as another, hence no validation.

variable "lambda_api_publish" {
  type        = bool
  description = "(older module) Has no effect: this module updates the api function in place and publishes no versions. A plan warns when it is set."
  default     = null
}

variable "lambda_api_alias_name" {
  type        = string
  description = "(older module) Has no effect: this module has no Lambda aliases (API Gateway invokes the api function itself); the older module's alias is removed on the switch. A plan warns when it is set."
  default     = null
}

variable "lambda_api_alias_function_version" {
  type        = string
  description = "(older module) Has no effect: this module has no Lambda aliases (API Gateway invokes the api function itself); the older module's alias is removed on the switch. A plan warns when it is set."
  default     = null
}

variable "lambda_reindex_publish" {
  type        = bool
  description = "(older module) Has no effect: this module updates the reindex function in place and publishes no versions. A plan warns when it is set."
  default     = null
}

variable "lambda_reindex_alias_name" {
  type        = string
  description = "(older module) Has no effect: this module has no Lambda aliases (SNS invokes the reindex function itself); the older module's alias is removed on the switch. A plan warns when it is set."
  default     = null
}

variable "lambda_reindex_alias_function_version" {
  type        = string
  description = "(older module) Has no effect: this module has no Lambda aliases (SNS invokes the reindex function itself); the older module's alias is removed on the switch. A plan warns when it is set."
  default     = null
}

locals {
  # The older module's inputs that are set here to no effect, by name.
  older_module_ignored_inputs = [
    for name, value in {
      lambda_api_publish                    = var.lambda_api_publish
      lambda_api_alias_name                 = var.lambda_api_alias_name
      lambda_api_alias_function_version     = var.lambda_api_alias_function_version
      lambda_reindex_publish                = var.lambda_reindex_publish
      lambda_reindex_alias_name             = var.lambda_reindex_alias_name
      lambda_reindex_alias_function_version = var.lambda_reindex_alias_function_version
    } : name if value != null
  ]
}

# A warning, not an error: a configuration written for the older module plans
# as it is.
check "older_module_inputs" {
  assert {
    condition     = length(local.older_module_ignored_inputs) == 0
    error_message = "These inputs of the older serverless PyPI module have no effect here: ${join(", ", local.older_module_ignored_inputs)}. This module updates its functions in place (it publishes no versions) and has no Lambda aliases: API Gateway and SNS invoke the functions themselves. The older module's aliases are removed on the switch; they hold no data. Remove these inputs to silence this warning."
  }
}

# The older module's outputs: the resource objects its users read attributes
# of (`module.<name>.iam_role.name`, `.s3_bucket.bucket`, ...).

output "s3_bucket" {
  description = "(older module) The bucket, the whole `aws_s3_bucket` resource (`.bucket`, `.arn`, ...); `bucket_name` and `bucket_arn` hold the same."
  value       = aws_s3_bucket.this
}

output "iam_role" {
  description = "(older module) The IAM role that the api and reindex functions share, the whole `aws_iam_role` resource (`.name`, `.arn`, ...); `iam_role_name` and `iam_role_arn` hold the same."
  value       = aws_iam_role.this
}

output "lambda_api" {
  description = "(older module) The api function, the whole `aws_lambda_function` resource (`.function_name`, `.arn`, `.invoke_arn`, ...)."
  value       = aws_lambda_function.api
}

output "lambda_api_log_group" {
  description = "(older module) The api function's log group, the whole `aws_cloudwatch_log_group` resource (`.name`, `.arn`, ...)."
  value       = aws_cloudwatch_log_group.api
}

output "lambda_reindex" {
  description = "(older module) The reindex function, the whole `aws_lambda_function` resource (`.function_name`, `.arn`, ...)."
  value       = aws_lambda_function.reindex
}

output "lambda_reindex_log_group" {
  description = "(older module) The reindex function's log group, the whole `aws_cloudwatch_log_group` resource (`.name`, `.arn`, ...)."
  value       = aws_cloudwatch_log_group.reindex
}

output "sns_topic" {
  description = "(older module) The SNS topic that carries the bucket's notifications, the whole `aws_sns_topic` resource (`.name`, `.arn`, ...); `sns_topic_arn` holds its ARN."
  value       = aws_sns_topic.this
}
