"""CloudFormation's intrinsic functions, resolved to the moto resources standing in.

One resolver for every emulated template ("Intrinsic function reference",
AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html): ``Ref``,
``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::Split`` and the pseudo
parameters ("Pseudo parameters reference", .../pseudo-parameter-reference.html).

A resource the emulation created answers with the name, URL or ARN moto gave it (registered
with :meth:`Resolver.register`). Any other resource answers as CloudFormation would for a
resource we do not run: ``Ref`` its logical id, ``Fn::GetAtt`` an ARN-shaped value.
"""

import re
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "stack",
    "AWS::NoValue": None,
}
SUBSTITUTION = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Resolves template values; knows what each created resource's Ref and attributes are."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.refs: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}

    def register(self, logical_id: str, ref: str, **attributes: str) -> None:
        self.refs[logical_id] = ref
        for name, value in attributes.items():
            self.attributes[logical_id, name] = value

    def ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        assert name in self.template["Resources"], f"Ref to unknown {name}"
        return self.refs.get(name, name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        assert logical_id in self.template["Resources"], f"GetAtt of unknown {logical_id}"
        if (logical_id, attribute) in self.attributes:
            return self.attributes[logical_id, attribute]
        service = self.template["Resources"][logical_id]["Type"].split("::")[1].lower()
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{logical_id}/{attribute}"

    def logical_id(self, value: Any) -> str:
        """The resource a ``Ref`` / ``Fn::GetAtt`` (or a resolved name or ARN) points at."""
        if isinstance(value, dict):
            return value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
        for logical_id, ref in self.refs.items():
            if value == ref:
                return logical_id
        for (logical_id, _), attribute in self.attributes.items():
            if value == attribute:
                return logical_id
        raise AssertionError(f"{value} names no resource of the template")

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(function, argument)] = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = (
                    argument.split(".", 1) if isinstance(argument, str) else argument
                )
                return self.get_att(logical_id, attribute)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self(part)) for part in self(parts))
            if function == "Fn::Select":
                index, items = argument
                return self(items)[int(self(index))]
            if function == "Fn::Split":
                separator, text = argument
                return self(text).split(separator)
            if function == "Fn::Sub":
                return self.sub(argument)
        return {key: self(item) for key, item in value.items()}

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {name: self(item) for name, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name not in PSEUDO:
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return SUBSTITUTION.sub(replace, text).replace("${!", "${")
