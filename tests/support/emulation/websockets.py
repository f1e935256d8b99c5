"""What moto's API Gateway management API received (``PostToConnection``)."""

import json
from typing import Any

from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID

from tests.support.emulation.intrinsics import REGION


def posted(connection_id: str) -> list[dict[str, Any]]:
    """The JSON messages posted to ``connection_id``, in order."""
    backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION]
    connection = backend.connections.get(connection_id)
    data = connection.data.decode() if connection is not None else ""
    decoder, messages, position = json.JSONDecoder(), [], 0
    while position < len(data):
        message, position = decoder.raw_decode(data, position)
        messages.append(message)
    return messages
