"""The Express workflow API's integration responses, rendered as API Gateway renders them.

The Express API answers with the synchronous execution's result (StartSyncExecution, Step
Functions API reference: apireference/API_StartSyncExecution.html: ``status`` SUCCEEDED,
FAILED or TIMED_OUT, ``output``, ``error``, ``cause``). Its response templates (CDK's
``StepFunctionsIntegration``) are rendered with airspeed and API Gateway's ``$input``
(tests/support/vtl.py); ``$input.path`` returns a string value as it is, unescaped
("Variables for data transformations for API Gateway", apigateway/latest/developerguide/
api-gateway-mapping-template-reference.html).
"""

import json
from typing import Any

import pytest

from tests.support.cdk import only
from tests.support.vtl import integration_response, render


@pytest.fixture(scope="module")
def responses(variants: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    _, method = only(variants["Express"], "AWS::ApiGateway::Method")
    return method["Integration"]["IntegrationResponses"]


def answer(responses: list[dict[str, Any]], status: int, body: dict[str, Any]) -> tuple[int, str]:
    """API Gateway's status and body for StartSyncExecution's HTTP ``status`` and ``body``."""
    chosen = integration_response(responses, status)
    context: dict[str, Any] = {"responseOverride": {}}
    text = render(chosen["ResponseTemplates"]["application/json"], json.dumps(body), context)
    return int(context["responseOverride"].get("status", chosen["StatusCode"])), text


@pytest.mark.parametrize(
    "output",
    [
        {"order": "o-1", "total": 12.5},
        {"customer": "O'Brien", "note": 'say "hi"', "path": "C:\\orders", "city": "Zürich 🎉"},
        [1, "two"],
    ],
)
def test_a_succeeded_execution_answers_its_output(
    responses: list[dict[str, Any]], output: Any
) -> None:
    status, text = answer(
        responses, 200, {"status": "SUCCEEDED", "output": json.dumps(output, ensure_ascii=False)}
    )
    assert status == 200
    assert json.loads(text) == output


def test_a_failed_execution_answers_500_with_its_error(responses: list[dict[str, Any]]) -> None:
    status, text = answer(
        responses,
        200,
        {"status": "FAILED", "error": "OrderRejected", "cause": "the order has no items"},
    )
    assert status == 500
    assert json.loads(text) == {"error": "OrderRejected", "cause": "the order has no items"}


def test_a_failed_lambda_task_answers_500_with_json(responses: list[dict[str, Any]]) -> None:
    """A Lambda task's ``cause`` is the function's error as JSON ("Handling errors in Step
    Functions workflows", step-functions/latest/dg/concepts-error-handling.html). CDK's own
    template put it in quotes unescaped, so the 500 body was no JSON."""
    cause = json.dumps({"errorMessage": "no stock for 'book-42'", "errorType": "OutOfStock"})
    status, text = answer(
        responses, 200, {"status": "FAILED", "error": "OutOfStock", "cause": cause}
    )
    assert status == 500
    assert json.loads(text) == {"error": "OutOfStock", "cause": cause}


@pytest.mark.parametrize(("status", "answered"), [(400, 400), (403, 400), (500, 500), (503, 500)])
def test_refusals_and_service_errors_reach_the_caller(
    responses: list[dict[str, Any]], status: int, answered: int
) -> None:
    """StartSyncExecution refuses bad input with HTTP 400 (``InvalidExecutionInput``, its
    "Errors"): the caller gets a 4xx, never 200, and a service error stays a 5xx."""
    assert int(integration_response(responses, status)["StatusCode"]) == answered
    _, text = answer(responses, status, {"__type": "InvalidExecutionInput", "message": "x"})
    assert set(json.loads(text)) == {"error"}
