"""serverless-pypi: a private Python package index on S3, Lambda and API Gateway."""

__version__ = "0.1.0"
