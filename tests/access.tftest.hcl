# Plan-level tests of access: what the authorizer may read, what the
# upload function may write and read, and what it is told about the fallback
# index. tests/e2e/test_policies.py evaluates the applied policies request by
# request; these pin the documents and the environment.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  api_id            = "a1b2c3d4e5"
  api_execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
  s3_bucket_name    = "my-pypi-bucket"
  api_basic_auth    = true
}

run "upload_writes_distributions_one_level_deep" {
  command = plan

  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.upload[0].policy).Statement : statement.Resource if statement.Sid == "AddDistributions"] == [[
      "arn:aws:s3:::my-pypi-bucket/*/*.whl",
      "arn:aws:s3:::my-pypi-bucket/*/*.tar.gz",
      "arn:aws:s3:::my-pypi-bucket/*/*.zip",
    ]]
    error_message = "The upload function may put wheels and sdists in a folder, nothing else (no .yanked marker, no other suffix)."
  }
  assert {
    condition = alltrue([for statement in jsondecode(aws_iam_role_policy.upload[0].policy).Statement :
    statement.Condition == { Null = { "s3:if-none-match" = "false" } } if statement.Action == "s3:PutObject" && statement.Effect == "Allow"])
    error_message = "Every PutObject the upload function is allowed carries If-None-Match: a file is never replaced."
  }
  assert {
    condition = contains([for statement in jsondecode(aws_iam_role_policy.upload[0].policy).Statement : statement if statement.Effect == "Deny"], {
      Sid      = "DenyDeeperKeys"
      Effect   = "Deny"
      Action   = "s3:PutObject"
      Resource = "arn:aws:s3:::my-pypi-bucket/*/*/*"
    })
    error_message = "`*` in an ARN matches '/': keys two levels deep (a/b/c.whl) are denied explicitly."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.upload[0].policy, "Delete") && !strcontains(aws_iam_role_policy.upload[0].policy, "ssm:")
    error_message = "The upload function deletes nothing and reads no user."
  }
  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.upload[0].policy).Statement : statement.Resource if statement.Sid == "ReadDistributionsAndManifests"] == [[
      "arn:aws:s3:::my-pypi-bucket/*/*.whl",
      "arn:aws:s3:::my-pypi-bucket/*/*.tar.gz",
      "arn:aws:s3:::my-pypi-bucket/*/*.zip",
      "arn:aws:s3:::my-pypi-bucket/.serverless-pypi/projects/*.json",
    ]]
    error_message = "The upload function reads (HEADs) distributions and manifests only: not the users, the metadata or the root."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.upload[0].environment[0].variables), "FALLBACK_INDEX_URL")
    error_message = "Without a fallback index, the upload function has none to ask."
  }
}

run "the_authorizer_lists_the_users_by_path" {
  command = plan

  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.authorizer[0].policy).Statement : statement if statement.Sid == "ReadUsers"] == [{
      Sid      = "ReadUsers"
      Effect   = "Allow"
      Action   = "ssm:GetParametersByPath"
      Resource = ["arn:aws:ssm:eu-west-1:123456789012:parameter/serverless-pypi/users", "arn:aws:ssm:eu-west-1:123456789012:parameter/serverless-pypi/users/*"]
    }]
    error_message = "The authorizer reads the users by their path (once per cache period), never one name at a time: an unknown name costs no SSM call."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.authorizer[0].policy, "\"ssm:GetParameter\"") && !strcontains(aws_iam_role_policy.authorizer[0].policy, "ssm:Put")
    error_message = "No GetParameter by name, and no writes."
  }
}

run "only_the_authorizer_reads_the_users_file" {
  command = plan

  variables {
    s3_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.authorizer[0].policy).Statement : statement if endswith(statement.Sid, "UsersFile")] == [
      {
        Sid      = "ReadUsersFile"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "arn:aws:s3:::my-pypi-bucket/.serverless-pypi-users.json"
      },
      {
        Sid       = "DecryptUsersFile"
        Effect    = "Allow"
        Action    = "kms:Decrypt"
        Resource  = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        Condition = { StringEquals = { "kms:ViaService" = "s3.eu-west-1.amazonaws.com" } }
      },
    ]
    error_message = "The authorizer reads one object, the users file at the bucket's root, and decrypts it through S3 under the bucket's key."
  }
  assert {
    condition = alltrue([for resource in flatten([
      for statement in concat(jsondecode(aws_iam_role_policy.this.policy).Statement, jsondecode(aws_iam_role_policy.upload[0].policy).Statement) :
      statement.Resource if contains(flatten([statement.Action]), "s3:GetObject") || contains(flatten([statement.Action]), "s3:PutObject")
      ]) : startswith(resource, "arn:aws:s3:::my-pypi-bucket/*/") || startswith(resource, "arn:aws:s3:::my-pypi-bucket/.serverless-pypi/") || resource == "arn:aws:s3:::my-pypi-bucket/index.html"
    ])
    error_message = "The other roles read and write keys with a slash (and index.html) only: never the users file at the root (tests/e2e/test_policies.py evaluates them)."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.this.policy, "users") && !strcontains(aws_iam_role_policy.upload[0].policy, "users") && !strcontains(aws_s3_bucket_policy.this.policy, "users")
    error_message = "Neither the other roles nor the bucket policy name the users file."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.authorizer[0].policy, "s3:PutObject") && !strcontains(aws_iam_role_policy.authorizer[0].policy, "s3:ListBucket") && !strcontains(aws_iam_role_policy.authorizer[0].policy, "s3:Delete")
    error_message = "The authorizer writes, lists and deletes nothing."
  }
}

run "the_upload_function_knows_the_fallback_index" {
  command = plan

  variables {
    lambda_api_fallback_index_url = "https://pypi.org/simple/"
  }

  assert {
    condition     = aws_lambda_function.upload[0].environment[0].variables["FALLBACK_INDEX_URL"] == "https://pypi.org/simple/" && aws_lambda_function.api.environment[0].variables["FALLBACK_INDEX_URL"] == "https://pypi.org/simple/"
    error_message = "The upload function asks the api's fallback index whether a new name is a public one."
  }
}
