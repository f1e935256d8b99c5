"""A platform team's CDK app, as the README shows it: run by `make compat` outside the repo.

Imports in the order ruff/isort enforce (aws_cdk first), a stack pinned to an account and
region, and the cdk-nag packs the team runs: synth fails on any unacknowledged finding.
"""

from aws_cdk import App, Environment, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import Construct
from serverless_patterns import AsyncApi, Route, SyncApi


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        SyncApi(
            self,
            "Orders",
            code=lambda_.Code.from_asset("handlers/orders"),
            routes=[Route("POST", "/orders"), Route("GET", "/orders/{order_id}")],
        )
        AsyncApi(self, "Jobs", code=lambda_.Code.from_asset("handlers/jobs"), path="/jobs")


app = App()
OrdersStack(app, "Orders", env=Environment(account="111111111111", region="eu-west-1"))
Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
app.synth()
