# The module's CloudWatch alarms (alarms.tf): off by default, on with
# alarm_topic_arn, one per function for errors (Lambda's Errors plus the ERROR
# lines a metric filter counts), one per client-facing function for throttles,
# one for the dead-letter queue. `terraform test` (make tf-test).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
  api_basic_auth    = true
}

run "no_alarms_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.errors) == 0 && length(aws_cloudwatch_metric_alarm.throttles) == 0 && length(aws_cloudwatch_metric_alarm.dead_letter) == 0 && length(aws_cloudwatch_log_metric_filter.errors) == 0
    error_message = "Without alarm_topic_arn the module creates no alarm and no metric filter."
  }
  assert {
    condition     = length(output.alarm_names) == 0
    error_message = "No alarm names without alarm_topic_arn."
  }
}

run "every_alarm_to_the_topic" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.errors)) == toset(["api", "reindex", "upload", "authorizer"])
    error_message = "Errors are watched for each of the four functions."
  }
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.throttles)) == toset(["api", "upload", "authorizer"])
    error_message = "Throttles are watched for the functions that answer clients."
  }
  assert {
    condition     = output.alarm_names == sort(["serverless-pypi-api-errors", "serverless-pypi-reindex-errors", "serverless-pypi-upload-errors", "serverless-pypi-authorizer-errors", "serverless-pypi-api-throttles", "serverless-pypi-upload-throttles", "serverless-pypi-authorizer-throttles", "serverless-pypi-reindex-dlq-messages"])
    error_message = "The alarms are named after what they watch."
  }
  assert {
    condition = alltrue([
      for alarm in concat(values(aws_cloudwatch_metric_alarm.errors), values(aws_cloudwatch_metric_alarm.throttles), aws_cloudwatch_metric_alarm.dead_letter) :
      alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]) && alarm.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]) && alarm.threshold == 0 && alarm.comparison_operator == "GreaterThanThreshold" && alarm.treat_missing_data == "notBreaching"
    ])
    error_message = "Every alarm goes to the topic (and back to OK) at the first thing to report, and missing data is no alarm."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dead_letter[0].metric_name == "ApproximateNumberOfMessagesVisible" && aws_cloudwatch_metric_alarm.dead_letter[0].dimensions.QueueName == "serverless-pypi-reindex-dlq"
    error_message = "The dead-letter alarm watches the messages waiting in the module's queue."
  }
  assert {
    condition     = aws_cloudwatch_log_metric_filter.errors["authorizer"].log_group_name == "/aws/lambda/serverless-pypi-authorizer" && aws_cloudwatch_log_metric_filter.errors["authorizer"].pattern == "\"[ERROR]\""
    error_message = "Each function's ERROR lines are counted from its own log group."
  }
  assert {
    condition = alltrue([
      for role, alarm in aws_cloudwatch_metric_alarm.errors :
      length(alarm.metric_query) == 3 && one([for query in alarm.metric_query : query.expression if query.return_data == true]) == "invocations + logged"
    ])
    error_message = "An errors alarm adds Lambda's Errors and the logged ERROR lines."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.throttles["api"].period == 300 && aws_cloudwatch_metric_alarm.throttles["api"].dimensions.FunctionName == "serverless-pypi-api"
    error_message = "Throttles are counted per function over the default 5-minute period."
  }
}

run "alarms_follow_the_features" {
  command = plan

  variables {
    alarm_topic_arn           = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"
    api_basic_auth            = false
    reindex_dead_letter_queue = false
    alarm_period_seconds      = 60
  }

  # Public routes: every plan warns (in a test a check failure must be expected).
  expect_failures = [check.public_routes]

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.errors)) == toset(["api", "reindex"]) && toset(keys(aws_cloudwatch_metric_alarm.throttles)) == toset(["api"]) && length(aws_cloudwatch_metric_alarm.dead_letter) == 0
    error_message = "No authorizer, no upload function, no queue: no alarm for them."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.throttles["api"].period == 60
    error_message = "alarm_period_seconds sets every alarm's period."
  }
}

run "create_alarms_needs_a_topic" {
  command = plan

  variables {
    create_alarms = true
  }

  expect_failures = [aws_cloudwatch_log_metric_filter.errors]
}

run "create_alarms_false_wins" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"
    create_alarms   = false
  }

  assert {
    condition     = length(output.alarm_names) == 0
    error_message = "create_alarms = false turns the alarms off even with a topic."
  }
}

run "invalid_alarm_topic_arn" {
  command = plan

  variables {
    alarm_topic_arn = "arn:aws:sqs:eu-west-1:123456789012:not-a-topic"
  }

  expect_failures = [var.alarm_topic_arn]
}

run "invalid_alarm_period_seconds" {
  command = plan

  variables {
    alarm_period_seconds = 90 # not a multiple of 60
  }

  expect_failures = [var.alarm_period_seconds]
}
