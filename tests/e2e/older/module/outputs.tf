output "s3_bucket" {
  value = aws_s3_bucket.pypi
}

output "iam_role" {
  value = aws_iam_role.role
}

output "lambda_api" {
  value = aws_lambda_function.api
}

output "lambda_reindex" {
  value = aws_lambda_function.reindex
}

output "sns_topic" {
  value = aws_sns_topic.reindex
}
