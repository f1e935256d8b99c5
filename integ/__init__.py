"""Integration tests for a real AWS account: one CDK integ-test app per reference stack."""
