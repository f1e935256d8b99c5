"""The data-flow diagram of a template, as a Mermaid flowchart."""

from collections.abc import Iterable
from dataclasses import dataclass

from tools.catalog.templates import (
    Template,
    as_list,
    label,
    references,
    resources_of,
    role_owners,
)

#: Resource types drawn as nodes, with their Mermaid shape (open, close).
SHAPES = {
    "AWS::ApiGateway::RestApi": ("([", "])"),
    "AWS::ApiGatewayV2::Api": ("([", "])"),
    "AWS::Lambda::Function": ("[", "]"),
    "AWS::DynamoDB::Table": ("[(", ")]"),
    "AWS::DynamoDB::GlobalTable": ("[(", ")]"),
    "AWS::SQS::Queue": ("[/", "/]"),
    "AWS::SNS::Topic": ("{{", "}}"),
    "AWS::Events::EventBus": ("{{", "}}"),
    "AWS::Events::Rule": (">", "]"),
    "AWS::StepFunctions::StateMachine": ("[[", "]]"),
    "AWS::ECS::Service": ("[", "]"),
    "AWS::Pipes::Pipe": ("[\\", "/]"),
}
PREFIX = {
    "AWS::ApiGateway::RestApi": "REST API ",
    "AWS::ApiGatewayV2::Api": "API ",
    "AWS::Lambda::Function": "λ ",
    "AWS::DynamoDB::Table": "table ",
    "AWS::DynamoDB::GlobalTable": "table ",
    "AWS::SQS::Queue": "queue ",
    "AWS::SNS::Topic": "topic ",
    "AWS::Events::EventBus": "bus ",
    "AWS::Events::Rule": "rule ",
    "AWS::StepFunctions::StateMachine": "state machine ",
    "AWS::ECS::Service": "Fargate service ",
    "AWS::Pipes::Pipe": "pipe ",
}
#: Verbs for the IAM actions a principal holds on a resource (consuming a queue is drawn
#: from the event source mapping instead).
VERBS = {
    "dynamodb": lambda action: (
        "read"
        if action.startswith(("Get", "Query", "Scan", "BatchGet", "Describe", "ConditionCheck"))
        else "write"
    ),
    "sqs": lambda action: "send" if action.startswith("Send") else None,
    "sns": lambda action: "publish" if action == "Publish" else None,
    "events": lambda action: "put events" if action == "PutEvents" else None,
    "states": lambda action: "start" if action.startswith("Start") else None,
    "lambda": lambda action: "invoke" if action.startswith("Invoke") else None,
    "execute-api": lambda action: "post to connections" if action == "ManageConnections" else None,
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    text: str
    dead_letter: bool = False


def _api_paths(template: Template) -> dict[str, str]:
    """``{ApiGateway::Resource logical id: full path}``."""
    parents = {
        logical_id: (resource["Properties"].get("ParentId"), resource["Properties"]["PathPart"])
        for logical_id, resource in resources_of(template, "AWS::ApiGateway::Resource")
    }

    def path(logical_id: str) -> str:
        parent, part = parents[logical_id]
        above = references(parent, template)
        return (path(min(above)) if above & parents.keys() else "") + "/" + part

    return {logical_id: path(logical_id) for logical_id in parents}


def _rest_api_edges(template: Template) -> Iterable[Edge]:
    paths = _api_paths(template)
    for _, method in resources_of(template, "AWS::ApiGateway::Method"):
        properties = method["Properties"]
        resource = references(properties.get("ResourceId"), template)
        path = paths.get(min(resource), "/") if resource else "/"
        integration = {
            k: v for k, v in properties.get("Integration", {}).items() if k != "Credentials"
        }
        for api in sorted(references(properties.get("RestApiId"), template)):
            for target in sorted(references(integration, template)):
                yield Edge(api, target, f"{properties['HttpMethod']} {path}")


def _websocket_edges(template: Template) -> Iterable[Edge]:
    integrations = dict(resources_of(template, "AWS::ApiGatewayV2::Integration"))
    for _, route in resources_of(template, "AWS::ApiGatewayV2::Route"):
        properties = route["Properties"]
        for integration in sorted(
            references(properties.get("Target"), template) & integrations.keys()
        ):
            uri = integrations[integration]["Properties"].get("IntegrationUri")
            for api in sorted(references(properties.get("ApiId"), template)):
                for target in sorted(references(uri, template)):
                    yield Edge(api, target, properties["RouteKey"])


def _messaging_edges(template: Template) -> Iterable[Edge]:
    for _, mapping in resources_of(template, "AWS::Lambda::EventSourceMapping"):
        properties = mapping["Properties"]
        for source in sorted(references(properties.get("EventSourceArn"), template)):
            for function in sorted(references(properties.get("FunctionName"), template)):
                yield Edge(source, function, f"batches of {properties.get('BatchSize', 10)}")
    for logical_id, queue in resources_of(template, "AWS::SQS::Queue"):
        redrive = queue.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            for dlq in sorted(references(redrive.get("deadLetterTargetArn"), template)):
                yield Edge(
                    logical_id, dlq, f"after {redrive.get('maxReceiveCount')} receives", True
                )
    for _, subscription in resources_of(template, "AWS::SNS::Subscription"):
        properties = subscription["Properties"]
        filtered = "FilterPolicy" in properties
        for topic in sorted(references(properties.get("TopicArn"), template)):
            for endpoint in sorted(references(properties.get("Endpoint"), template)):
                yield Edge(topic, endpoint, "filtered" if filtered else properties["Protocol"])
            for dlq in sorted(references(properties.get("RedrivePolicy"), template)):
                yield Edge(topic, dlq, "undeliverable", True)


def _rule_edges(template: Template) -> Iterable[Edge]:
    for logical_id, rule in resources_of(template, "AWS::Events::Rule"):
        properties = rule["Properties"]
        for bus in sorted(references(properties.get("EventBusName"), template)):
            yield Edge(bus, logical_id, "matches")
        trigger = "schedule" if "ScheduleExpression" in properties else "event"
        for target in properties.get("Targets", []):
            for arn in sorted(references(target.get("Arn"), template)):
                yield Edge(logical_id, arn, trigger)
            for dlq in sorted(references(target.get("DeadLetterConfig"), template)):
                yield Edge(logical_id, dlq, "failed delivery", True)


def _pipe_edges(template: Template) -> Iterable[Edge]:
    """A pipe reads its source's stream, has an enrichment enrich each batch, puts the
    results on its target, and describes the batches it gives up on in its DLQ."""
    for logical_id, pipe in resources_of(template, "AWS::Pipes::Pipe"):
        properties = pipe["Properties"]
        for source in sorted(references(properties.get("Source"), template)):
            yield Edge(source, logical_id, "stream")
        for enrichment in sorted(references(properties.get("Enrichment"), template)):
            yield Edge(logical_id, enrichment, "enrich")
        for target in sorted(references(properties.get("Target"), template)):
            yield Edge(logical_id, target, "changes")
        for parameters in properties.get("SourceParameters", {}).values():
            dead_letter = (
                parameters.get("DeadLetterConfig") if isinstance(parameters, dict) else None
            )
            for queue in sorted(references(dead_letter, template)):
                yield Edge(logical_id, queue, "discarded batches", True)


def _polling_edges(template: Template) -> Iterable[Edge]:
    """A container service consumes the queues its task role may receive from."""
    owners = role_owners(template)
    for _, policy in resources_of(template, "AWS::IAM::Policy"):
        services = [
            owner
            for role in sorted(references(policy["Properties"].get("Roles"), template))
            for owner in owners.get(role, [])
            if template["Resources"][owner]["Type"] == "AWS::ECS::Service"
        ]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "sqs:ReceiveMessage" in as_list(statement["Action"]):
                for queue in sorted(references(statement.get("Resource"), template)):
                    for service in services:
                        yield Edge(queue, service, "long polls")


def _permission_edges(template: Template, nodes: set[str]) -> Iterable[Edge]:
    owners = role_owners(template)
    for _, policy in resources_of(template, "AWS::IAM::Policy"):
        principals = [
            owner
            for role in sorted(references(policy["Properties"].get("Roles"), template))
            for owner in owners.get(role, [])
            if owner in nodes
        ]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            verbs = set()
            for action in as_list(statement["Action"]):
                service, _, name = action.partition(":")
                verb = VERBS.get(service, lambda _: None)(name)
                if verb:
                    verbs.add(verb)
            if not verbs:
                continue
            for target in sorted(references(statement.get("Resource"), template) & nodes):
                for principal in principals:
                    if principal != target:
                        yield Edge(principal, target, "/".join(sorted(verbs)))


def edges(template: Template) -> list[Edge]:
    """Every data-flow edge between diagram nodes, merged per (source, target, kind)."""
    nodes = {logical_id for logical_id, _ in resources_of(template, *SHAPES)}
    merged: dict[tuple[str, str, bool], list[str]] = {}
    for edge in [
        *_rest_api_edges(template),
        *_websocket_edges(template),
        *_messaging_edges(template),
        *_rule_edges(template),
        *_pipe_edges(template),
        *_polling_edges(template),
        *_permission_edges(template, nodes),
    ]:
        if edge.source in nodes and edge.target in nodes:
            texts = merged.setdefault((edge.source, edge.target, edge.dead_letter), [])
            if edge.text not in texts:
                texts.append(edge.text)
    return [
        Edge(source, target, _summary(texts), dead_letter)
        for (source, target, dead_letter), texts in merged.items()
    ]


def _summary(texts: list[str]) -> str:
    return ", ".join(texts) if len(texts) <= 3 else f"{len(texts)} routes"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(template: Template) -> str:
    """A left-to-right flowchart; dead-letter edges are dotted and labelled."""
    all_edges = edges(template)
    linked = {edge.source for edge in all_edges} | {edge.target for edge in all_edges}
    lines = ["flowchart LR"]
    for logical_id, resource in resources_of(template, *SHAPES):
        if logical_id not in linked and resource["Type"] == "AWS::Events::Rule":
            continue
        opening, closing = SHAPES[resource["Type"]]
        text = PREFIX[resource["Type"]] + label(template, logical_id)
        lines.append(f"  {logical_id}{opening}{_quoted(text)}{closing}")
    for edge in all_edges:
        arrow = (
            f"-. {_quoted('DLQ: ' + edge.text)} .->"
            if edge.dead_letter
            else f"-- {_quoted(edge.text)} -->"
        )
        lines.append(f"  {edge.source} {arrow} {edge.target}")
    return "\n".join(lines)
