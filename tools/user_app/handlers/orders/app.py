"""The orders function: a stand-in for the team's business code."""

import json


def handler(event: dict, context: object) -> dict:
    return {"statusCode": 200, "body": json.dumps({"path": event.get("path")})}
