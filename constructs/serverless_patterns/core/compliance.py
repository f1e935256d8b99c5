"""cdk-nag acknowledgements for the library's deliberate choices, each on the narrowest construct.

Rule ids are written as the cdk-nag report prints them after "Acknowledge with".
"""

from aws_cdk import Acknowledgment, Validations

from constructs import IConstruct

XRAY_WILDCARD = "AwsSolutions::AwsSolutions-IAM5[Resource::*]"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge finding ``rule`` on ``scope`` and its children, for ``reason``."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
