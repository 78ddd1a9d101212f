# Bucket notifications -> SNS topic -> reindex function; failed events -> SQS.

resource "aws_sns_topic" "this" {
  name = local.sns_topic_name
  tags = merge(var.tags, var.sns_topic_tags)
}

# Only this bucket, in this account, may publish to the topic.
locals {
  sns_topic_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AllowThisBucketToPublish"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = local.sns_topic_arn
        Condition = {
          ArnEquals    = { "aws:SourceArn" = local.bucket_arn }
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = local.sns_topic_policy
}

resource "aws_s3_bucket_notification" "this" {
  bucket = aws_s3_bucket.this.id

  # One configuration per suffix (a filter holds one suffix). Nothing under
  # `.serverless-pypi/` nor `index.html` ends with one, so the reindexer's own
  # writes never notify.
  dynamic "topic" {
    for_each = local.notify_suffixes

    content {
      id            = "serverless-pypi${replace(topic.value, ".", "-")}"
      topic_arn     = aws_sns_topic.this.arn
      events        = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
      filter_suffix = topic.value
    }
  }

  # S3 checks that it may publish when the configuration is put.
  depends_on = [aws_sns_topic_policy.this]
}

resource "aws_sns_topic_subscription" "reindex" {
  topic_arn = aws_sns_topic.this.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.reindex.arn

  # SNS may deliver as soon as the subscription exists.
  depends_on = [aws_lambda_permission.reindex_sns]
}

resource "aws_lambda_permission" "reindex_sns" {
  statement_id  = "AllowInvokeFromSNS"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.reindex.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.this.arn
}

# SNS invokes the function asynchronously: Lambda retries a failed event, then
# hands it to the dead-letter queue. Reindexing is idempotent, so a message
# there can simply be replayed (or any later upload to the project heals it).
resource "aws_sqs_queue" "reindex_dead_letter" {
  count = var.reindex_dead_letter_queue ? 1 : 0

  name                      = local.dead_letter_queue
  message_retention_seconds = 1209600 # 14 days, SQS's maximum
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_lambda_function_event_invoke_config" "reindex" {
  function_name          = aws_lambda_function.reindex.function_name
  maximum_retry_attempts = var.reindex_maximum_retry_attempts

  dynamic "destination_config" {
    for_each = aws_sqs_queue.reindex_dead_letter

    content {
      on_failure {
        destination = destination_config.value.arn
      }
    }
  }

  # Lambda checks that the role may send to the destination.
  depends_on = [aws_iam_role_policy.this]
}
