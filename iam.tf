# One role for both functions. Statements that only one function needs are
# limited to it with lambda:SourceFunctionArn (see the role policy in main.tf):
# the api function can read, never write.

resource "aws_iam_role" "this" {
  name               = local.iam_role_name
  description        = "serverless-pypi: functions ${local.api_function_name} and ${local.reindex_function_name}"
  assume_role_policy = local.assume_role_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = var.name
  role   = aws_iam_role.this.id
  policy = local.role_policy
}
