"""The reference app: every reference stack, checked by the cdk-nag packs on synth.

``cdk synth`` runs ``python -m examples.app`` (see cdk.json); the tests, the catalog
generator and the benchmarks use :func:`synthesize`, which builds the same app in-process.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from examples.async_api_stack import EmailNotificationsStack
from examples.device_telemetry_stack import DeviceTelemetryStack
from examples.event_router_stack import CommerceEventsStack
from examples.fan_out_stack import OrderEventsStack
from examples.notification_service_fargate_stack import NotificationServiceFargateStack
from examples.notification_service_stack import NotificationServiceStack
from examples.orders_both_ways_stack import OrdersBothWaysStack
from examples.orders_data_lake_stack import OrdersDataLakeStack
from examples.pubsub_service_stack import PubSubServiceStack
from examples.saga_stack import OrderSagaStack
from examples.sync_api_stack import OrdersServiceStack

#: Stack id -> stack class. The ids are the names of the synthesized templates.
REFERENCE_STACKS = {
    "SyncApi": OrdersServiceStack,
    "EventRouter": CommerceEventsStack,
    "OrderSaga": OrderSagaStack,
    "FanOut": OrderEventsStack,
    "AsyncApi": EmailNotificationsStack,
    "PubSubService": PubSubServiceStack,
    "NotificationService": NotificationServiceStack,
    "OrdersBothWays": OrdersBothWaysStack,
    "NotificationServiceFargate": NotificationServiceFargateStack,
    "DeviceTelemetry": DeviceTelemetryStack,
    "OrdersDataLake": OrdersDataLakeStack,
}


def build(app: App) -> App:
    """Add every reference stack to ``app`` and have the cdk-nag packs check them on synth.

    Any unacknowledged finding makes ``app.synth()`` fail after writing the templates and
    ``validation-report.json`` (findings and acknowledgements with their reasons).
    """
    for stack_id, stack_class in REFERENCE_STACKS.items():
        stack_class(app, stack_id)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app


@dataclass(frozen=True)
class SynthesizedApp:
    """What ``cdk synth`` writes: one template per stack and cdk-nag's validation report."""

    templates: dict[str, dict[str, Any]]
    nag_report: dict[str, Any]
    outdir: Path


def cli_context() -> dict[str, Any]:
    """cdk.json's context plus what the CDK CLI adds on ``cdk synth``."""
    cdk_json = Path(__file__).resolve().parents[1] / "cdk.json"
    return {
        **json.loads(cdk_json.read_text())["context"],
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
    }


def new_app(**props: Any) -> App:
    """An app configured like the reference app.

    No analytics metadata, and no built-in "CloudFormation Validate" plugin: it only warns,
    costs ~1.1 s per synth, and cfn-lint checks every reference template in the test suite.
    """
    return App(analytics_reporting=False, builtin_cloud_formation_validation=False, **props)


def synthesize(outdir: Path) -> SynthesizedApp:
    """Synthesize the reference app into ``outdir`` exactly as ``cdk synth`` would.

    An unacknowledged cdk-nag finding does not raise here: the templates are written first,
    and the finding is in ``nag_report`` for the caller to judge.
    """
    app = build(new_app(context=cli_context(), outdir=str(outdir)))
    try:
        app.synth()
    except Exception as error:  # jsii's JavaScriptError wraps cdk's ValidationFailed
        if "ValidationFailed" not in str(error):
            raise
    return SynthesizedApp(
        templates={
            stack_id: json.loads((outdir / f"{stack_id}.template.json").read_text())
            for stack_id in REFERENCE_STACKS
        },
        nag_report=json.loads((outdir / "validation-report.json").read_text()),
        outdir=outdir,
    )


def main() -> None:
    build(new_app()).synth()


if __name__ == "__main__":
    main()
