"""The only place that reads jsii's private fields: a jsii upgrade that moves them breaks here.

jsii keeps the keyword arguments of a struct in ``_values`` and the interfaces a class
implements in ``__jsii_ifaces__``; neither is public API, both are what these helpers need.
"""

from typing import Any


def struct_values(struct: Any) -> dict[str, Any]:
    """The keyword arguments set on a jsii struct (e.g. ``sqs.QueueProps``), as a new dict."""
    return dict(struct._values)


def implements(value: Any, interface: Any) -> bool:
    """Whether ``value`` (a CDK object, created or imported) implements jsii ``interface``.

    jsii interfaces are not runtime-checkable protocols, so ``isinstance`` cannot tell: this
    reads the interfaces jsii records on the class (``__jsii_ifaces__``), and the delegates of
    the dynamic proxy jsii returns for some imported resources (``EventBus.from_*``,
    ``StateMachine.from_*``).
    """
    delegates = getattr(value, "_delegates", None)  # imported resources: a dynamic proxy
    objects = delegates if isinstance(delegates, list) else [value]
    proxy = interface.__jsii_proxy_class__()
    for each in objects:
        for klass in type(each).__mro__:
            if klass is proxy:
                return True
            for declared in getattr(klass, "__jsii_ifaces__", ()):
                if interface in declared.__mro__:
                    return True
    return False


def cfn_properties(resource: Any) -> dict[str, Any]:
    """An L1 resource's properties as CloudFormation will get them (camelCase keys, resolved).

    Reads the protected ``cfnProperties``: some L2s (``TableV2``) set an L1 property lazily,
    and its public getter then fails to deserialize it.
    """
    from aws_cdk import Stack

    return dict(Stack.of(resource).resolve(resource._cfn_properties))
