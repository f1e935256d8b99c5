"""EventBridge Pipes from a DynamoDB stream to an event bus, emulated from the template.

moto 5.2.5 has no Pipes at all (neither the API nor a poller), so each ``AWS::Pipes::Pipe``
runs here, as the documentation describes it:

- Reading: "Amazon DynamoDB stream as a source for EventBridge Pipes" (eventbridge/latest/
  userguide/eb-pipes-dynamodb.html) and ``PipeSourceDynamoDBStreamParameters``
  (eventbridge/latest/pipes-reference/API_PipeSourceDynamoDBStreamParameters.html): the same
  batches, ``MaximumRetryAttempts``, ``MaximumRecordAgeInSeconds`` and bisection
  (``OnPartialBatchItemFailure: AUTOMATIC_BISECT``) as Lambda's stream event source mapping,
  so streams.py's ``StreamPoller`` reads the stream, with the pipe in the function's place.
- Filtering: "Event filtering in Amazon EventBridge Pipes" (eb-pipes-event-filtering.html):
  each ``FilterCriteria`` pattern is an EventBridge event pattern matched against the
  record (moto's own matcher: prefixes, ``anything-but``, numbers, ``exists``); a record
  that matches none is dropped. Here records are filtered per batch after reading (Pipes
  filters before batching), which changes batch sizes, not what is published.
- Enrichment: "Event enrichment in Amazon EventBridge Pipes" (eb-pipes-enrichment.html):
  the function is invoked synchronously with the batch (a JSON list) and its answer is what
  the target receives, one event per element; an error fails the batch.
- Target: "Amazon EventBridge Pipes input transformation" (eb-pipes-input-transformation.html)
  renders ``InputTemplate`` per element with inline paths (``<$.dynamodb.Keys>``) and the
  reserved ``<aws.pipes.*>`` variables. The quoting rule is the one rule input transformers
  document ("put quotes around variables that refer to JSON path parameters, but do not put
  quotes around variables that refer to JSON objects or arrays"), so the rendering is
  tests/support/input_transformer.py's; what differs for rules (``InputPathsMap``,
  ``aws.events.*``) is translated below. "Amazon EventBridge Pipes targets"
  (eb-pipes-event-target.html): a target parameter whose whole value is a JSON path
  (``DetailType: $.eventName``) is read from the element; with an event bus target the
  rendered input is the event's ``detail``. The events are put on the bus with PutEvents,
  so moto's rules route them (and the emulation delivers to the targets).
- Failures: "Amazon EventBridge Pipes error handling and troubleshooting"
  (eb-pipes-error-troubleshooting.html): an enrichment error or a refused entry fails the
  batch, which is retried per the source parameters, then described in the
  ``DeadLetterConfig`` queue. The pipe's DLQ message is Lambda's documented on-failure record
  ("Retain discarded records for a DynamoDB event source", lambda/latest/dg/
  services-dynamodb-errors.html) with ``context.partnerResourceArn`` (the pipe) in place of
  the invocation context: ``{"context": {"partnerResourceArn", "condition"}, "version",
  "timestamp", "DDBStreamBatchInfo"}``. The Pipes guide does not print this body; it is the
  one Pipes sends to a DLQ (as seen on AWS and in the emulators that recorded it).

Not emulated: the pipe's role (the pipe reads and publishes as the platform; its policies
are asserted in the property tests), its log delivery, ``ParallelizationFactor``.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.events.models import EventPattern

from tests.support.emulation.functions import Function
from tests.support.emulation.intrinsics import ACCOUNT, REGION
from tests.support.emulation.streams import StreamPoller
from tests.support.input_transformer import _MISSING, extract, render

_INLINE = re.compile(r"<(\$[^<>]*|aws\.pipes\.[a-z.\-]+)>")
#: PutEvents takes at most ten entries per call.
PUT_EVENTS_ENTRIES = 10


class TargetRefused(Exception):
    """PutEvents refused an entry: the batch failed."""


def pipe_arn(logical_id: str) -> str:
    return f"arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/{logical_id}"


def render_pipe_template(template: str, payload: Any, reserved: dict[str, Any]) -> str:
    """``template`` rendered for ``payload`` as Pipes does, through the rule renderer: each
    inline path or reserved variable becomes a named variable of an equivalent rule
    transformer, read from ``{"payload": ..., "reserved": ...}``."""
    paths: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        placeholder = match.group(1)
        if placeholder.startswith("$"):
            path = "$.payload" + placeholder[1:]
        else:
            path = "$.reserved." + placeholder.removeprefix("aws.pipes.").replace(".", "_")
        paths[f"v{len(paths)}"] = path
        return f"<v{len(paths) - 1}>"

    rewritten = _INLINE.sub(name, template)
    return render(
        {"InputTemplate": rewritten, "InputPathsMap": paths},
        {"payload": payload, "reserved": reserved},
    )


@dataclass
class Pipe:
    """One ``AWS::Pipes::Pipe`` of the template: a DynamoDB stream source, an event bus
    target, optionally a Lambda enrichment (a function of the template)."""

    logical_id: str
    properties: dict[str, Any]  # resolved
    functions: dict[str, Function]
    deliver: Callable[[str, Any, dict[str, str]], None]
    poller: StreamPoller = field(init=False)

    def __post_init__(self) -> None:
        reading = self.properties["SourceParameters"]["DynamoDBStreamParameters"]
        mapping = {
            key: reading[key]
            for key in (
                "StartingPosition",
                "BatchSize",
                "MaximumRetryAttempts",
                "MaximumRecordAgeInSeconds",
            )
            if key in reading
        }
        mapping["BisectBatchOnFunctionError"] = (
            reading.get("OnPartialBatchItemFailure") == "AUTOMATIC_BISECT"
        )
        dead_letter = reading.get("DeadLetterConfig", {}).get("Arn")
        if dead_letter:
            mapping["DestinationConfig"] = {"OnFailure": {"Destination": dead_letter}}
        self.filters = [
            EventPattern.load(each["Pattern"])
            for each in self.properties["SourceParameters"]
            .get("FilterCriteria", {})
            .get("Filters", [])
        ]
        # The pipe stands in for the poller's function: it has invoke() and arn.
        self.poller = StreamPoller(self, self.properties["Source"], mapping, self._dead_letter)

    @property
    def arn(self) -> str:
        return pipe_arn(self.logical_id)

    def run(self) -> int:
        """Process every new record of the stream, as the pipe would; the batches invoked."""
        return self.poller.run()

    def invoke(self, event: dict[str, Any]) -> None:
        """One batch (the poller's Lambda-shaped event): filter, enrich, publish."""
        records = [r for r in event["Records"] if self._selected(r)]
        if not records:
            return
        payload: Any = records
        enrichment = self.properties.get("Enrichment")
        if enrichment:
            payload = self.functions[enrichment.split(":")[6]].invoke(records)
        entries = [self._entry(element) for element in payload]
        client = boto3.client("events")
        for start in range(0, len(entries), PUT_EVENTS_ENTRIES):
            answer = client.put_events(Entries=entries[start : start + PUT_EVENTS_ENTRIES])
            if answer["FailedEntryCount"]:
                raise TargetRefused(json.dumps(answer["Entries"]))

    def _selected(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(f.matches_event(record) for f in self.filters)

    def _entry(self, element: Any) -> dict[str, Any]:
        target = self.properties["TargetParameters"]
        bus = target["EventBridgeEventBusParameters"]
        reserved = {
            "pipe-arn": self.arn,
            "pipe-name": self.logical_id,
            "source-arn": self.properties["Source"],
            "enrichment-arn": self.properties.get("Enrichment", ""),
            "target-arn": self.properties["Target"],
            "event_ingestion-time": datetime.now(UTC).isoformat(timespec="seconds"),
            "event": element,
            "event_json": element,
        }
        entry = {
            "EventBusName": self.properties["Target"],
            "Source": _parameter(bus["Source"], element),
            "DetailType": _parameter(bus["DetailType"], element),
            "Detail": render_pipe_template(target["InputTemplate"], element, reserved)
            if "InputTemplate" in target
            else json.dumps(element),
        }
        return entry

    def _dead_letter(self, arn: str, record: dict[str, Any], attributes: dict[str, str]) -> None:
        """The poller's Lambda on-failure record, as the pipe's DLQ message."""
        self.deliver(
            arn,
            {
                "context": {
                    "partnerResourceArn": self.arn,
                    "condition": record["requestContext"]["condition"],
                },
                "version": "1.0",
                "timestamp": record["timestamp"],
                "DDBStreamBatchInfo": record["DDBStreamBatchInfo"],
            },
            attributes,
        )


def _parameter(value: str, element: Any) -> Any:
    """A target parameter: static, or a dynamic path whose whole value is a JSON path."""
    if not value.startswith("$."):
        return value
    found = extract(element, value)
    if found is _MISSING:
        raise TargetRefused(f"the dynamic path {value} matches nothing in {element}")
    return found


def create_pipes(
    template: dict[str, Any],
    resolve: Callable[[Any], Any],
    functions: dict[str, Function],
    deliver: Callable[[str, Any, dict[str, str]], None],
) -> dict[str, Pipe]:
    """Every pipe of ``template``, by logical id, reading its stream from now on."""
    return {
        logical_id: Pipe(logical_id, resolve(resource["Properties"]), functions, deliver)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Pipes::Pipe"
    }
