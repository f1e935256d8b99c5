"""Helpers shared by the tests: CDK apps with cdk.json's context, moto set-up, event shapes."""
