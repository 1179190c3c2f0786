#!/usr/bin/env bash
# Deploys template.yaml to a running LocalStack with no edits to the template.
#
# Needs: LocalStack with API Gateway v2 (WebSocket APIs are a LocalStack Pro
# feature; the free edition has no apigatewayv2), and `pip install
# aws-sam-cli-local awscli-local` (samlocal, awslocal). Start LocalStack with
# LOCALSTACK_AUTH_TOKEN set, then run this from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
STACK="${STACK:-messaging}"

samlocal build
samlocal deploy \
  --stack-name "$STACK" \
  --resolve-s3 \
  --capabilities CAPABILITY_IAM \
  --no-confirm-changeset \
  --parameter-overrides "StageName=local"

awslocal cloudformation describe-stacks --stack-name "$STACK" \
  --query "Stacks[0].Outputs[].[OutputKey,OutputValue]" --output table
# The stack generated the signing key into Secrets Manager.
ARN=$(awslocal cloudformation describe-stacks --stack-name "$STACK" --query "Stacks[0].Outputs[?OutputKey=='JwtSigningKeyArn'].OutputValue" --output text)
SECRET=$(awslocal secretsmanager get-secret-value --secret-id "$ARN" --query SecretString --output text)
echo "Tokens: JWT_SECRET='$SECRET' target/debug/local-runtime token <user> <device>"
