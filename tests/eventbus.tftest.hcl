# The index's events (eventbus.tf): off by default; with event_bus_name the
# reindex function gets the bus's ARN in EVENT_BUS, may put events on that bus
# only, and the bucket's tags name the bus for the command line. `terraform
# test` (make tf-test).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
  api_basic_auth    = true
}

run "no_events_by_default" {
  command = plan

  assert {
    condition     = !contains(keys(aws_lambda_function.reindex.environment[0].variables), "EVENT_BUS")
    error_message = "Without event_bus_name the reindex function has no EVENT_BUS."
  }
  assert {
    condition     = length([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement if can(regex("^events:", statement.Action))]) == 0
    error_message = "Without event_bus_name the role may put no event anywhere."
  }
  assert {
    condition     = !contains(keys(aws_s3_bucket.this.tags), "serverless-pypi:event-bus")
    error_message = "Without event_bus_name the bucket names no bus."
  }
}

run "an_empty_name_is_no_events" {
  command = plan

  variables {
    event_bus_name = ""
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.reindex.environment[0].variables), "EVENT_BUS")
    error_message = "An empty event_bus_name is off, as null is."
  }
}

run "a_bus_name_is_the_module_accounts_bus" {
  command = plan

  variables {
    event_bus_name = "index-events"
  }

  assert {
    condition     = aws_lambda_function.reindex.environment[0].variables["EVENT_BUS"] == "arn:aws:events:eu-west-1:123456789012:event-bus/index-events"
    error_message = "The reindex function gets the bus's ARN in EVENT_BUS."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement if can(regex("events:", jsonencode(statement.Action)))] == [{
      Sid       = "ReindexPutEvents"
      Effect    = "Allow"
      Action    = "events:PutEvents"
      Resource  = "arn:aws:events:eu-west-1:123456789012:event-bus/index-events"
      Condition = { ArnEquals = { "lambda:SourceFunctionArn" = "arn:aws:lambda:eu-west-1:123456789012:function:serverless-pypi-reindex" } }
    }]
    error_message = "Only the reindex function may put events, and on that bus only."
  }
  assert {
    condition     = aws_s3_bucket.this.tags["serverless-pypi:event-bus"] == "arn:aws:events:eu-west-1:123456789012:event-bus/index-events"
    error_message = "The bucket's tags name the bus for the command line."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.api.environment[0].variables), "EVENT_BUS")
    error_message = "Only the reindex function sends events."
  }
}

run "the_default_bus" {
  command = plan

  variables {
    event_bus_name = "default"
  }

  assert {
    condition     = aws_lambda_function.reindex.environment[0].variables["EVENT_BUS"] == "arn:aws:events:eu-west-1:123456789012:event-bus/default"
    error_message = "\"default\" is the account's default bus."
  }
}

run "a_bus_arn_is_used_as_given" {
  command = plan

  variables {
    event_bus_name = "arn:aws:events:us-east-1:210987654321:event-bus/central"
  }

  assert {
    condition     = aws_lambda_function.reindex.environment[0].variables["EVENT_BUS"] == "arn:aws:events:us-east-1:210987654321:event-bus/central"
    error_message = "A bus ARN (another account's, another region's) is used as given."
  }
  assert {
    condition     = one([for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource if statement.Sid == "ReindexPutEvents"]) == "arn:aws:events:us-east-1:210987654321:event-bus/central"
    error_message = "The role may put events on that bus only."
  }
}

run "invalid_event_bus_name" {
  command = plan

  variables {
    event_bus_name = "arn:aws:sns:eu-west-1:123456789012:not-a-bus"
  }

  expect_failures = [var.event_bus_name]
}

run "invalid_event_bus_name_characters" {
  command = plan

  variables {
    event_bus_name = "my bus"
  }

  expect_failures = [var.event_bus_name]
}
