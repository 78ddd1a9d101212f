output "index_url" {
  description = "URL of the index for pip and uv (`--index-url`): the API's default endpoint, the stage path unless `$default`, and `/simple/` (nothing more with `index_at_api_root`)."
  value       = var.index_at_api_root ? local.api_url : "${local.api_url}simple/"
}

output "upload_url" {
  description = "URL of PyPI's legacy upload API for `twine upload --repository-url <upload_url>` and `uv publish --publish-url <upload_url>`: the API's base URL (as in `index_url`) and `/legacy/`; null without the upload route."
  value       = local.upload ? "${local.api_url}legacy/" : null
}

output "bucket_name" {
  description = "Name of the bucket; upload distributions to `s3://<bucket_name>/<project>/<file>`."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "sns_topic_arn" {
  description = "ARN of the SNS topic that carries the bucket's notifications; subscribe more consumers to it if needed."
  value       = aws_sns_topic.this.arn
}

output "iam_role_name" {
  description = "Name of the IAM role that the api and reindex functions share."
  value       = aws_iam_role.this.name
}

output "iam_role_arn" {
  description = "ARN of the IAM role that the api and reindex functions share."
  value       = aws_iam_role.this.arn
}

output "api_function_name" {
  description = "Name of the Lambda function that serves the simple API."
  value       = aws_lambda_function.api.function_name
}

output "api_function_arn" {
  description = "ARN of the Lambda function that serves the simple API."
  value       = aws_lambda_function.api.arn
}

output "reindex_function_name" {
  description = "Name of the Lambda function that reindexes the bucket."
  value       = aws_lambda_function.reindex.function_name
}

output "reindex_function_arn" {
  description = "ARN of the Lambda function that reindexes the bucket."
  value       = aws_lambda_function.reindex.arn
}

output "api_log_group_name" {
  description = "Name of the api function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.api.name
}

output "reindex_log_group_name" {
  description = "Name of the reindex function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.reindex.name
}

output "authorizer_function_name" {
  description = "Name of the Lambda function that checks HTTP Basic credentials; null unless `api_basic_auth`."
  value       = one(aws_lambda_function.authorizer[*].function_name)
}

output "authorizer_function_arn" {
  description = "ARN of the Lambda function that checks HTTP Basic credentials; null unless `api_basic_auth`."
  value       = one(aws_lambda_function.authorizer[*].arn)
}

output "authorizer_log_group_name" {
  description = "Name of the authorizer function's CloudWatch log group; null unless `api_basic_auth`."
  value       = one(aws_cloudwatch_log_group.authorizer[*].name)
}

output "authorizer_id" {
  description = "ID of the module's HTTP Basic authorizer on the HTTP API; null unless `api_basic_auth`."
  value       = one(aws_apigatewayv2_authorizer.basic[*].id)
}

output "upload_function_name" {
  description = "Name of the Lambda function behind the upload route; null without the upload route."
  value       = one(aws_lambda_function.upload[*].function_name)
}

output "upload_function_arn" {
  description = "ARN of the Lambda function behind the upload route; null without the upload route."
  value       = one(aws_lambda_function.upload[*].arn)
}

output "upload_log_group_name" {
  description = "Name of the upload function's CloudWatch log group; null without the upload route."
  value       = one(aws_cloudwatch_log_group.upload[*].name)
}

output "users_ssm_path" {
  description = "SSM Parameter Store path of the users (one SecureString parameter each, `<path><user>`), where `serverless-pypi user add` and the other `user` commands write (and then the users file in the bucket, which the authorizer reads first); set even when `api_basic_auth` is off."
  value       = local.users_path
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS queue that keeps failed reindex events; null when `reindex_dead_letter_queue` is false."
  value       = one(aws_sqs_queue.reindex_dead_letter[*].arn)
}

output "integration_id" {
  description = "ID of the api function's Lambda proxy integration (the index's routes) on the HTTP API."
  value       = aws_apigatewayv2_integration.api.id
}

output "route_keys" {
  description = "Route keys the module adds to the HTTP API, e.g. `GET /simple/{proxy+}`, `POST /legacy` and `POST /legacy/` with the upload route, and `GET /ui/{proxy+}` with the pages for people."
  value       = sort(concat(keys(aws_apigatewayv2_route.api), keys(aws_apigatewayv2_route.upload), keys(aws_apigatewayv2_route.ui)))
}

output "route_ids" {
  description = "IDs of the module's routes, by route key."
  value       = { for key, route in merge(aws_apigatewayv2_route.api, aws_apigatewayv2_route.upload, aws_apigatewayv2_route.ui) : key => route.id }
}

output "deployment_trigger" {
  description = "Hash of the integrations, the routes and the module's authorizer; use it in `triggers` of the caller's `aws_apigatewayv2_deployment` so that a stage without auto-deploy redeploys when they change."
  # Without `api_basic_auth` and the upload route the hash is what it was
  # before they existed: upgrading the module redeploys nothing.
  value = sha1(jsonencode(merge({
    integration = {
      id                     = aws_apigatewayv2_integration.api.id
      integration_uri        = aws_apigatewayv2_integration.api.integration_uri
      payload_format_version = aws_apigatewayv2_integration.api.payload_format_version
      timeout_milliseconds   = aws_apigatewayv2_integration.api.timeout_milliseconds
    }
    routes = {
      for key, route in merge(aws_apigatewayv2_route.api, aws_apigatewayv2_route.upload) : key => {
        id                 = route.id
        target             = route.target
        authorization_type = route.authorization_type
        authorizer_id      = route.authorizer_id
      }
    }
    }, var.api_basic_auth ? {
    authorizer = {
      for authorizer in aws_apigatewayv2_authorizer.basic : "basic" => {
        id                                = authorizer.id
        authorizer_uri                    = authorizer.authorizer_uri
        authorizer_payload_format_version = authorizer.authorizer_payload_format_version
        enable_simple_responses           = authorizer.enable_simple_responses
        identity_sources                  = authorizer.identity_sources
        authorizer_result_ttl_in_seconds  = authorizer.authorizer_result_ttl_in_seconds
      }
    }
    } : {}, local.upload ? {
    upload_integration = {
      for integration in aws_apigatewayv2_integration.upload : "upload" => {
        id                     = integration.id
        integration_uri        = integration.integration_uri
        payload_format_version = integration.payload_format_version
        timeout_milliseconds   = integration.timeout_milliseconds
      }
    }
    } : {}, local.ui ? {
    ui = {
      for integration in aws_apigatewayv2_integration.ui : "ui" => {
        id              = integration.id
        integration_uri = integration.integration_uri
        routes          = { for key, route in aws_apigatewayv2_route.ui : key => route.id }
      }
    }
  } : {})))
}

output "ui_url" {
  description = "URL of the pages for people (`api_ui`) on the API's default endpoint and stage; null without them."
  value       = local.ui ? "${local.api_url}ui/" : null
}

output "ui_function_name" {
  description = "Name of the pages' function; null without `api_ui`."
  value       = one(aws_lambda_function.ui[*].function_name)
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms the module created (errors and throttles of each function, dead-letter messages); empty without `alarm_topic_arn`."
  value = sort(concat(
    [for alarm in aws_cloudwatch_metric_alarm.errors : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.throttles : alarm.alarm_name],
    aws_cloudwatch_metric_alarm.dead_letter[*].alarm_name,
  ))
}

output "keeper_function_name" {
  description = "The keeper function (proxy mode), which keeps copies of upstream files; null in redirect mode."
  value       = local.upstream_proxy ? aws_lambda_function.keeper[0].function_name : null
}
