output "index_url" {
  description = "URL of the index: `pip install --index-url <index_url> <project>`."
  value       = module.pypi.index_url
}

output "upload_url" {
  description = "URL of the upload API: `twine upload --repository-url <upload_url> dist/*` (a user with the upload right)."
  value       = module.pypi.upload_url
}

output "bucket_name" {
  description = "Bucket to upload distributions to, as `s3://<bucket_name>/<project>/<file>`."
  value       = module.pypi.bucket_name
}

output "api_id" {
  description = "ID of the HTTP API."
  value       = aws_apigatewayv2_api.pypi.id
}

output "sns_topic_arn" {
  description = "ARN of the topic that carries the bucket's notifications."
  value       = module.pypi.sns_topic_arn
}

output "api_function_name" {
  description = "Name of the Lambda function that serves the index."
  value       = module.pypi.api_function_name
}

output "reindex_function_name" {
  description = "Name of the Lambda function that reindexes the bucket."
  value       = module.pypi.reindex_function_name
}

output "dead_letter_queue_arn" {
  description = "ARN of the queue that keeps failed reindex events."
  value       = module.pypi.dead_letter_queue_arn
}

output "users_ssm_path" {
  description = "SSM path of the index's users: `serverless-pypi user add <name> --path <users_ssm_path> --bucket <bucket_name>`."
  value       = module.pypi.users_ssm_path
}

output "authorizer_function_name" {
  description = "Name of the Lambda function that checks the users' credentials."
  value       = module.pypi.authorizer_function_name
}

output "upload_function_name" {
  description = "Name of the Lambda function behind the upload route."
  value       = module.pypi.upload_function_name
}
