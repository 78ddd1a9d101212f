# CloudWatch alarms to a topic of the caller's (`alarm_topic_arn`), off by
# default. One alarm for each thing an operator must hear about:
#
#   dead-letter       failed reindex events waiting in the dead-letter queue
#   reindex-errors    reindex invocations that failed (Lambda Errors) or logged an error
#   api-errors        5xx answers of the api (each is logged at ERROR: a storage error
#                     is a 502, anything unexpected a 500) and failed invocations
#   upload-errors     the same for the upload function (with the upload route)
#   authorizer-errors failed invocations of the authorizer, or SSM reads it logged
#                     as failed (with api_basic_auth)
#   <fn>-throttles    Lambda throttles of the api, upload and authorizer functions
#
# The handlers catch their own exceptions and answer 5xx with an ERROR log line,
# so Lambda's Errors metric alone would miss them: a metric filter counts the
# ERROR lines of each function's log group ("[ERROR]" starts every such line in
# Lambda's text log format), and each alarm adds it to Errors (metric math).

locals {
  # Whether the alarms exist must be known at plan time: a topic created in the
  # same configuration has an ARN only after apply, hence create_alarms.
  alarms = coalesce(var.create_alarms, var.alarm_topic_arn != null)

  # The functions that exist, by role (the upload and authorizer ones only with
  # their features).
  alarmed_functions = merge(
    {
      api     = { name = local.api_function_name, log_group = local.api_log_group }
      reindex = { name = local.reindex_function_name, log_group = local.reindex_log_group }
    },
    local.upload ? { upload = { name = local.upload_function_name, log_group = local.upload_log_group } } : {},
    var.api_basic_auth ? { authorizer = { name = local.authorizer_function_name, log_group = local.authorizer_log_group } } : {},
  )
  # The functions that answer clients: a throttle is a refused request.
  throttled_functions = { for role, function in local.alarmed_functions : role => function if role != "reindex" }
  alarm_namespace     = "serverless-pypi"
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  for_each = local.alarms ? local.alarmed_functions : {}

  lifecycle {
    precondition {
      condition     = var.alarm_topic_arn != null
      error_message = "create_alarms = true needs alarm_topic_arn: the topic the alarms go to."
    }
  }

  name           = "${each.value.name}-errors"
  log_group_name = each.value.log_group
  pattern        = "\"[ERROR]\""

  metric_transformation {
    name          = "${each.value.name}-logged-errors"
    namespace     = local.alarm_namespace
    value         = "1"
    default_value = "0"
  }

  depends_on = [
    aws_cloudwatch_log_group.api,
    aws_cloudwatch_log_group.reindex,
    aws_cloudwatch_log_group.upload,
    aws_cloudwatch_log_group.authorizer,
  ]
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = local.alarms ? local.alarmed_functions : {}

  alarm_name          = "${each.value.name}-errors"
  alarm_description   = "serverless-pypi: the ${each.key} function failed or logged an error (a 5xx answer, a failed reindex, an unreadable user list) in the last ${var.alarm_period_seconds} s; its log group ${each.value.log_group} says why."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags

  metric_query {
    id          = "failures"
    expression  = "invocations + logged"
    label       = "${each.key} errors"
    return_data = true
  }

  metric_query {
    id = "invocations"

    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      period      = var.alarm_period_seconds
      stat        = "Sum"
      dimensions  = { FunctionName = each.value.name }
    }
  }

  metric_query {
    id = "logged"

    metric {
      namespace   = local.alarm_namespace
      metric_name = aws_cloudwatch_log_metric_filter.errors[each.key].metric_transformation[0].name
      period      = var.alarm_period_seconds
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each = local.alarms ? local.throttled_functions : {}

  alarm_name          = "${each.value.name}-throttles"
  alarm_description   = "serverless-pypi: Lambda throttled the ${each.key} function in the last ${var.alarm_period_seconds} s (clients got 429 or 5xx): raise its reserved concurrency or the account's limit."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value.name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letter" {
  count = local.alarms && var.reindex_dead_letter_queue ? 1 : 0

  alarm_name          = "${local.dead_letter_queue}-messages"
  alarm_description   = "serverless-pypi: reindex events failed and wait in ${local.dead_letter_queue}; `serverless-pypi status --dead-letter-queue <url>` shows how many, `serverless-pypi reindex` heals the index."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = local.dead_letter_queue }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags

  depends_on = [aws_sqs_queue.reindex_dead_letter]
}
