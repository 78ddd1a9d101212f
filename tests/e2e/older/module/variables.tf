# The older serverless PyPI module's inputs (v4.x), those this fixture uses,
# with its defaults (the names of its README's example).

variable "api_id" {
  type = string
}

variable "api_execution_arn" {
  type = string
}

variable "api_authorization_type" {
  type    = string
  default = "NONE"
}

variable "s3_bucket_name" {
  type = string
}

variable "s3_presigned_url_ttl" {
  type    = number
  default = 900
}

variable "iam_role_name" {
  type    = string
  default = "serverless-pypi-role"
}

variable "iam_role_policy_name" {
  type    = string
  default = "pypi-lambda-permissions"
}

variable "sns_topic_name" {
  type    = string
  default = "serverless-pypi"
}

variable "lambda_runtime" {
  type    = string
  default = "python3.13"
}

variable "lambda_api_function_name" {
  type    = string
  default = "serverless-pypi-api"
}

variable "lambda_api_alias_name" {
  type    = string
  default = "prod"
}

variable "lambda_api_fallback_index_url" {
  type    = string
  default = null
}

variable "lambda_reindex_function_name" {
  type    = string
  default = "serverless-pypi-reindex"
}

variable "lambda_reindex_alias_name" {
  type    = string
  default = "prod"
}

variable "log_group_api_retention_in_days" {
  type    = number
  default = 14
}

variable "log_group_reindex_retention_in_days" {
  type    = number
  default = 14
}
