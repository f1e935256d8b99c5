"""The reference app: every reference stack, checked by the cdk-nag packs on synth.

``cdk synth`` runs ``python -m examples.app`` (see cdk.json); tests build the same stacks
with :func:`add_reference_stacks`.
"""

# isort: off
import serverless_patterns  # noqa: F401  (selects Node >= 22 for jsii before aws_cdk loads)

# isort: on
from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from examples.sync_api_stack import OrdersServiceStack

#: Stack id -> stack class. The ids are the names of the synthesized templates.
REFERENCE_STACKS = {
    "SyncApi": OrdersServiceStack,
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


def main() -> None:
    build(App(analytics_reporting=False)).synth()


if __name__ == "__main__":
    main()
