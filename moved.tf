# The older serverless PyPI module's resource addresses (v4.x), moved to this
# module's, so that its users switch by changing `source`: the bucket, the topic,
# the role and the routes are kept and updated in place, not replaced. A `from`
# that is not in the state (a new user) moves nothing. The log groups and the two
# functions have the same addresses in both modules. Not carried over: the older
# module's Lambda aliases (this module updates the functions in place) and its
# `POST /` route (XML-RPC search, which pip no longer uses).

moved {
  from = aws_s3_bucket.pypi
  to   = aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_public_access_block.pypi
  to   = aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_notification.reindex
  to   = aws_s3_bucket_notification.this
}

moved {
  from = aws_sns_topic.reindex
  to   = aws_sns_topic.this
}

moved {
  from = aws_iam_role.role
  to   = aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.policy
  to   = aws_iam_role_policy.this
}

moved {
  from = aws_lambda_permission.invoke_api
  to   = aws_lambda_permission.api_gateway
}

moved {
  from = aws_lambda_permission.reindex
  to   = aws_lambda_permission.reindex_sns
}

moved {
  from = aws_apigatewayv2_integration.lambda
  to   = aws_apigatewayv2_integration.api
}

# The older routes, on the keys that `index_at_api_root = true` declares.
moved {
  from = aws_apigatewayv2_route.root_get
  to   = aws_apigatewayv2_route.api["GET /"]
}

moved {
  from = aws_apigatewayv2_route.root_head
  to   = aws_apigatewayv2_route.api["HEAD /"]
}

moved {
  from = aws_apigatewayv2_route.proxy_get
  to   = aws_apigatewayv2_route.api["GET /{package+}"]
}

moved {
  from = aws_apigatewayv2_route.proxy_head
  to   = aws_apigatewayv2_route.api["HEAD /{package+}"]
}
