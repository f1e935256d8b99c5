"""Job status over REST, WebSocket subscriptions and the notifier, against moto."""

import json
import uuid
from types import ModuleType
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from tests.async_api.jobs import CONTEXT, POISON, RECEIPT, WELCOME, Queues
from tests.support.cdk import resources
from tests.support.emulation import Emulation, posted
from tests.support.events import dynamodb_stream_event, rest_api_event, websocket_event


def get_status(status: ModuleType, job_id: str) -> tuple[int, dict[str, Any]]:
    response = status.handler(
        rest_api_event(
            "GET",
            f"/notifications/{job_id}",
            resource="/notifications/{job_id}",
            path_parameters={"job_id": job_id},
        ),
        CONTEXT,
    )
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def connect(connections: ModuleType, connection_id: str, job_id: str | None) -> dict[str, Any]:
    query = {"job_id": job_id} if job_id is not None else None
    return connections.handler(websocket_event("$connect", connection_id, query=query), CONTEXT)


def say(connections: ModuleType, connection_id: str, body: str) -> tuple[int, dict[str, Any]]:
    answer = connections.handler(websocket_event("$default", connection_id, body=body), CONTEXT)
    return answer["statusCode"], json.loads(answer["body"])


def items(jobs: Any) -> list[dict[str, Any]]:
    return jobs.scan(ConsistentRead=True)["Items"]


def finished_job(jobs: Any, job_id: str, status: str = "succeeded") -> dict[str, Any]:
    item = {
        "pk": job_id,
        "sk": "job",
        "status": status,
        "attempts": 1,
        "submitted_at": "2026-11-22T10:00:00.000+00:00",
        "finished_at": "2026-11-22T10:00:01.000+00:00",
    }
    item |= {"result": {"message_id": "m-1"}} if status == "succeeded" else {"error": "boom"}
    jobs.put_item(Item=item)
    return item


def gone(connection_ids: set[str], monkeypatch: pytest.MonkeyPatch, notifier: ModuleType) -> None:
    """API Gateway answers 410 GoneException for ``connection_ids`` (moto never does)."""
    client = notifier.connections()
    post = client.post_to_connection

    def post_or_gone(*, ConnectionId: str, Data: bytes) -> Any:
        if ConnectionId in connection_ids:
            raise ClientError(
                {
                    "Error": {"Code": "GoneException", "Message": ""},
                    "ResponseMetadata": {"HTTPStatusCode": 410},
                },
                "PostToConnection",
            )
        return post(ConnectionId=ConnectionId, Data=Data)

    monkeypatch.setattr(client, "post_to_connection", post_or_gone)


# --- GET /jobs/{job_id} ------------------------------------------------------------------


def test_status_of_a_finished_job_shows_result_but_no_lease(status: ModuleType, jobs: Any) -> None:
    job_id = str(uuid.uuid4())
    finished_job(jobs, job_id)
    jobs.update_item(
        Key={"pk": job_id, "sk": "job"},
        UpdateExpression="SET #o = :o, lease_expires_at = :l",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": "m:1", ":l": 1},
    )
    code, body = get_status(status, job_id)
    assert code == 200
    assert body == {
        "job_id": job_id,
        "status": "succeeded",
        "attempts": 1,
        "submitted_at": "2026-11-22T10:00:00.000+00:00",
        "finished_at": "2026-11-22T10:00:01.000+00:00",
        "result": {"message_id": "m-1"},
    }


def test_status_of_an_unknown_job_is_404(status: ModuleType, jobs: Any) -> None:
    code, body = get_status(status, "no-such-job")
    assert code == 404
    assert body["message"].startswith("job no-such-job not found: the id is unknown, or the job")


def test_status_of_a_malformed_job_id_is_400(status: ModuleType) -> None:
    code, body = get_status(status, "connection#abc")
    assert code == 400 and "job_id must be" in body["message"]


# --- WebSocket: $connect, messages, $disconnect -------------------------------------------


def test_connect_with_a_job_id_subscribes_and_disconnect_cleans_up(
    connections: ModuleType, jobs: Any
) -> None:
    assert connect(connections, "conn-1", "job-1")["statusCode"] == 200
    assert connect(connections, "conn-2", "job-1")["statusCode"] == 200
    assert connect(connections, "conn-3", None)["statusCode"] == 200
    assert {(i["pk"], i["sk"]) for i in items(jobs)} == {
        ("job-1", "connection#conn-1"),
        ("connection#conn-1", "job#job-1"),
        ("job-1", "connection#conn-2"),
        ("connection#conn-2", "job#job-1"),
    }
    assert all(i["expires_at"] > 0 for i in items(jobs))

    answer = connections.handler(websocket_event("$disconnect", "conn-1"), CONTEXT)

    assert answer["statusCode"] == 200
    assert {(i["pk"], i["sk"]) for i in items(jobs)} == {
        ("job-1", "connection#conn-2"),
        ("connection#conn-2", "job#job-1"),
    }


def test_connect_with_a_malformed_job_id_is_refused(connections: ModuleType, jobs: Any) -> None:
    assert connect(connections, "conn-1", "a#b")["statusCode"] == 400
    assert items(jobs) == []


def test_a_message_subscribes_and_answers_the_current_state_of_each_job(
    connections: ModuleType, jobs: Any
) -> None:
    finished_job(jobs, "done-before-subscribing")
    connect(connections, "conn-1", "queued-job")

    code, body = say(connections, "conn-1", json.dumps({"job_id": "done-before-subscribing"}))

    assert code == 200
    assert [(job["job_id"], job["status"]) for job in body["jobs"]] == [
        ("done-before-subscribing", "succeeded"),
        ("queued-job", "unknown"),
    ]
    assert body["jobs"][0]["result"] == {"message_id": "m-1"}
    code, again = say(connections, "conn-1", "{}")  # just ask
    assert code == 200 and again == body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "the message is not JSON"),
        ("[1]", "send a JSON object"),
        ('{"job_id": "a b"}', "job_id must be"),
    ],
)
def test_malformed_messages_get_a_400_answer(
    connections: ModuleType, jobs: Any, body: str, message: str
) -> None:
    code, answer = say(connections, "conn-1", body)
    assert code == 400 and message in answer["message"]
    assert items(jobs) == []


def test_a_connection_follows_a_bounded_number_of_jobs(connections: ModuleType) -> None:
    for n in range(connections.MAX_SUBSCRIPTIONS):
        assert say(connections, "conn-1", json.dumps({"job_id": f"job-{n}"}))[0] == 200
    code, answer = say(connections, "conn-1", json.dumps({"job_id": "one-too-many"}))
    assert code == 400 and "at most 25 jobs" in answer["message"]


# --- the notifier ----------------------------------------------------------------------


def stream_record(image: dict[str, Any], event_name: str = "MODIFY") -> dict[str, Any]:
    """A stream record as ``dynamodbstreams.get_records`` returns it."""
    serialize = TypeSerializer().serialize
    new_image = {key: serialize(value) for key, value in image.items()}
    return {
        "eventID": str(uuid.uuid4()).replace("-", ""),
        "eventName": event_name,
        "eventVersion": "1.1",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795000000,
            "Keys": {"pk": new_image["pk"], "sk": new_image["sk"]},
            "NewImage": new_image,
            "SequenceNumber": "100000000000000000001",
            "SizeBytes": 200,
            "StreamViewType": "NEW_IMAGE",
        },
    }


STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/jobs/stream/2026-11-22T00:00:00.000"


def test_the_outcome_reaches_every_subscriber_and_gone_ones_are_forgotten(
    connections: ModuleType,
    notifier: ModuleType,
    jobs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = finished_job(jobs, "job-1", status="failed")
    for connection_id in ("alive", "closed"):
        connect(connections, connection_id, "job-1")
    connect(connections, "closed", "job-2")  # the gone connection followed another job too
    gone({"closed"}, monkeypatch, notifier)

    answer = notifier.handler(dynamodb_stream_event([stream_record(job)], STREAM_ARN), CONTEXT)

    assert answer == {"batchItemFailures": []}  # gone is not an error: never retried
    assert posted("alive") == [
        {
            "job_id": "job-1",
            "status": "failed",
            "attempts": 1,
            "submitted_at": job["submitted_at"],
            "finished_at": job["finished_at"],
            "error": "boom",
        }
    ]
    assert posted("closed") == []
    assert {(i["pk"], i["sk"]) for i in items(jobs) if i["sk"] != "job"} == {
        ("job-1", "connection#alive"),
        ("connection#alive", "job#job-1"),
    }


def test_other_delivery_errors_fail_the_record_for_a_retry(
    connections: ModuleType, notifier: ModuleType, jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = finished_job(jobs, "job-1")
    connect(connections, "conn-1", "job-1")

    def throttled(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "LimitExceededException", "Message": "slow down"}},
            "PostToConnection",
        )

    monkeypatch.setattr(notifier.connections(), "post_to_connection", throttled)
    record = stream_record(job)
    answer = notifier.handler(dynamodb_stream_event([record], STREAM_ARN), CONTEXT)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "100000000000000000001"}]}
    assert len(items(jobs)) == 3  # the subscription is kept for the retry


def test_unfinished_jobs_and_subscriptions_notify_nobody(
    connections: ModuleType, notifier: ModuleType, jobs: Any
) -> None:
    connect(connections, "conn-1", "job-1")
    records = [
        stream_record({"pk": "job-1", "sk": "job", "status": "running"}, "INSERT"),
        stream_record({"pk": "job-1", "sk": "job", "status": "pending", "error": "x"}),
        stream_record({"pk": "job-1", "sk": "connection#conn-1", "job_id": "job-1"}, "INSERT"),
    ]
    answer = notifier.handler(dynamodb_stream_event(records, STREAM_ARN), CONTEXT)
    assert answer == {"batchItemFailures": []}
    assert posted("conn-1") == []


# --- end to end: API message -> worker -> table stream -> notifier -> subscriber ----------


def test_each_subscriber_hears_once_whether_its_job_succeeded_or_failed_for_good(
    worker: ModuleType,
    notifications: ModuleType,
    connections: ModuleType,
    notifier: ModuleType,
    queues: Queues,
    jobs: Any,
    emulation: Emulation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole path as deployed: the worker's and the recorder's queue event sources, the
    table's stream event source (its filter, batch size and partial batch responses) and the
    notifier, each run by the emulation."""
    bodies = {"ok-1": WELCOME, "ok-2": RECEIPT, "bad-1": POISON, "bad-2": POISON}
    for job_id, body in bodies.items():
        connect(connections, f"watching-{job_id}", job_id)
        queues.send(body, job_id)
    connect(connections, "gone-watcher", "ok-1")
    gone({"gone-watcher"}, monkeypatch, notifier)

    queues.poll()
    [stream] = emulation.streams.values()
    stream.run()

    [call] = [c for c in emulation.invocations if c.function == stream.function.logical_id]
    assert call.result == {"batchItemFailures": []}
    assert len(call.event["Records"]) == 4  # the filter lets only the four outcomes through
    for job_id in bodies:
        [message] = posted(f"watching-{job_id}")
        assert message["job_id"] == job_id
        if job_id.startswith("ok"):
            assert message["status"] == "succeeded" and "message_id" in message["result"]
        else:
            assert message["status"] == "failed" and message["attempts"] == 5
            assert "needs data: amount, order_id" in message["error"]
    assert queues.count(queues.dead_letter_url) == 2
    assert not [i for i in items(jobs) if "gone-watcher" in i["sk"] + i["pk"]]


# --- API Gateway's WebSocket limits ---------------------------------------------------------

#: "Quotas for configuring and running a WebSocket API in API Gateway"
#: (apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html):
#: message payload size 128 KB; PostToConnection's ``Data`` is modelled with max 131,072 bytes.
WEBSOCKET_MESSAGE_BYTES = 128 * 1024


def refuse(
    code: str, status: int, connection_ids: set[str], notifier: ModuleType, monkeypatch: Any
) -> None:
    """API Gateway answers ``code`` for ``connection_ids``, or for any message over 128 KB."""
    client = notifier.connections()
    post = client.post_to_connection

    def post_or_refuse(*, ConnectionId: str, Data: bytes) -> Any:
        if ConnectionId in connection_ids or len(Data) > WEBSOCKET_MESSAGE_BYTES:
            too_large = len(Data) > WEBSOCKET_MESSAGE_BYTES
            raise ClientError(
                {
                    "Error": {"Code": "PayloadTooLargeException" if too_large else code},
                    "ResponseMetadata": {"HTTPStatusCode": 413 if too_large else status},
                },
                "PostToConnection",
            )
        return post(ConnectionId=ConnectionId, Data=Data)

    monkeypatch.setattr(client, "post_to_connection", post_or_refuse)


def test_a_result_near_the_storage_cap_is_left_out_of_a_message_that_fits(
    connections: ModuleType,
    notifier: ModuleType,
    status: ModuleType,
    jobs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A WebSocket message holds at most 128 KB (API Gateway WebSocket quotas, see above);
    a result of up to 300 kB is stored: every subscriber is told, the result stays on GET."""
    job = finished_job(jobs, "big-job")
    job["result"] = {"blob": "é" * 149_000}  # 298,000 bytes of UTF-8: just under the 300 kB cap
    jobs.put_item(Item=job)
    subscribers = [f"conn-{n}" for n in range(3)]
    for connection_id in subscribers:
        connect(connections, connection_id, "big-job")
    refuse("unused", 0, set(), notifier, monkeypatch)

    answer = notifier.handler(dynamodb_stream_event([stream_record(job)], STREAM_ARN), CONTEXT)

    assert answer == {"batchItemFailures": []}
    for connection_id in subscribers:
        [message] = posted(connection_id)
        assert len(json.dumps(message).encode()) <= WEBSOCKET_MESSAGE_BYTES
        assert message["status"] == "succeeded" and "result" not in message
        assert message["result_omitted"] is True
        assert message["status_path"] == "/notifications/big-job"
    code, body = get_status(status, "big-job")
    assert code == 200 and body["result"] == job["result"]


def test_a_result_that_fits_is_sent_inline(
    connections: ModuleType, notifier: ModuleType, jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = finished_job(jobs, "fits")
    job["result"] = {"blob": "x" * (WEBSOCKET_MESSAGE_BYTES - 1_000)}
    jobs.put_item(Item=job)
    connect(connections, "conn-1", "fits")
    refuse("unused", 0, set(), notifier, monkeypatch)

    notifier.handler(dynamodb_stream_event([stream_record(job)], STREAM_ARN), CONTEXT)

    [message] = posted("conn-1")
    assert message["result"] == job["result"] and "result_omitted" not in message


def test_a_payload_too_large_refusal_is_never_retried_and_others_are_still_told(
    connections: ModuleType, notifier: ModuleType, jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostToConnection answers 413 PayloadTooLargeException ("PostToConnection", API Gateway
    management API reference): retrying the same data can never succeed."""
    job = finished_job(jobs, "job-1")
    for connection_id in ("first", "refused", "last"):
        connect(connections, connection_id, "job-1")
    refuse("PayloadTooLargeException", 413, {"refused"}, notifier, monkeypatch)

    answer = notifier.handler(dynamodb_stream_event([stream_record(job)], STREAM_ARN), CONTEXT)

    assert answer == {"batchItemFailures": []}
    assert len(posted("first")) == len(posted("last")) == 1


def test_a_throttled_subscriber_does_not_keep_the_others_from_hearing(
    connections: ModuleType, notifier: ModuleType, jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = finished_job(jobs, "job-1")
    for connection_id in ("first", "throttled", "last"):
        connect(connections, connection_id, "job-1")
    refuse("LimitExceededException", 429, {"throttled"}, notifier, monkeypatch)

    answer = notifier.handler(dynamodb_stream_event([stream_record(job)], STREAM_ARN), CONTEXT)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "100000000000000000001"}]}
    assert len(posted("first")) == len(posted("last")) == 1  # told before the retry


def test_the_reply_to_a_message_fits_a_websocket_message(
    connections: ModuleType, jobs: Any
) -> None:
    """A route response is a WebSocket message too: 128 KB at most (quotas above)."""
    for n in range(3):
        job = finished_job(jobs, f"big-{n}")
        job["result"] = {"blob": "x" * 290_000}
        jobs.put_item(Item=job)
        say(connections, "conn-1", json.dumps({"job_id": f"big-{n}"}))

    answer = connections.handler(websocket_event("$default", "conn-1", body="{}"), CONTEXT)

    assert len(answer["body"].encode()) <= WEBSOCKET_MESSAGE_BYTES
    states = json.loads(answer["body"])["jobs"]
    assert [state["status"] for state in states] == ["succeeded"] * 3
    assert all(state["result_omitted"] and "result" not in state for state in states)
    assert states[0]["status_path"] == "/notifications/big-0"


# --- $connect answers are never delivered; the reply to a message is ----------------------


def test_connect_says_nothing_and_a_message_after_it_tells_a_finished_outcome(
    connections: ModuleType, jobs: Any, template: dict[str, Any]
) -> None:
    """API Gateway passes a backend response to the client only through a route response,
    and only the ``$default`` route can have one ("Set up route responses for WebSocket APIs
    in API Gateway", apigateway/latest/developerguide/apigateway-websocket-api-route-response
    .html): the body of a ``$connect`` answer never reaches the client."""
    routes = resources(template, "AWS::ApiGatewayV2::Route")
    [route_response] = resources(template, "AWS::ApiGatewayV2::RouteResponse").values()
    [default_id] = [k for k, r in routes.items() if r["RouteKey"] == "$default"]
    assert route_response["RouteId"] == {"Ref": default_id}
    assert route_response["RouteResponseKey"] == "$default"
    finished_job(jobs, "done-before-connecting")

    answer = connect(connections, "conn-1", "done-before-connecting")
    code, reply = say(connections, "conn-1", "{}")

    assert answer == {"statusCode": 200}  # no body: it would not be delivered
    assert code == 200
    assert reply["jobs"][0]["status"] == "succeeded"
    assert reply["jobs"][0]["result"] == {"message_id": "m-1"}
