"""The AWS adapter: Secrets Manager and SQS through boto3."""
