"""Overlay the options a user set on a CDK props struct onto the library's defaults."""

from typing import Any

from serverless_patterns.core.jsii_internals import struct_values


def options_of(struct: Any | None) -> dict[str, Any]:
    """The keyword arguments a user explicitly set on a jsii struct (e.g. ``TablePropsV2``)."""
    return struct_values(struct) if struct is not None else {}


def merge(defaults: dict[str, Any], override: Any | None) -> dict[str, Any]:
    """``defaults`` with every option set on ``override`` taking precedence."""
    return {**defaults, **options_of(override)}
