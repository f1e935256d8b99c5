"""A function's execution role, enforced by moto while its handler runs.

:func:`acting_as` creates in moto the role a template gives a function, with every policy that
attaches to it, assumes it, and switches moto's IAM enforcement on: inside, every boto3 call
of the current thread (clients made before or after, Powertools' included) is signed with the
role's temporary credentials, as the Lambda runtime's are ("Lambda execution role",
lambda/latest/dg/lambda-intro-execution-role.html), and checked against its policies. The
emulation (tests/support/emulation) runs every handler so. A call the role does not allow
fails as AWS fails it: ``AccessDeniedException`` (HTTP 400) for the JSON-protocol services
(DynamoDB, SQS, EventBridge, Step Functions, ...; their "Common Errors" pages),
``AuthorizationError`` (HTTP 403) for SNS ("Publish", sns/latest/api/API_Publish.html),
``ForbiddenException`` (HTTP 403) for the WebSocket ``@connections`` API
("PostToConnection", apigatewayv2/latest/api-reference/apis-apiid-connections-connectionid.html).

Who calls is a per-thread stack: the innermost :func:`acting_as` or :func:`as_platform`
applies. Other threads (moto's Step Functions executions, a test polling meanwhile) are not
affected. :func:`as_platform` is AWS acting itself (a service delivering a handler's event to
its targets), unchecked; a function it invokes acts as its own role again.

Policies are evaluated by moto (moto/iam/access_control.py, moto 5.2.5): an explicit Deny
wins, else one Allow of the action on the resource is needed ("Policy evaluation logic",
IAM/latest/UserGuide/reference_policies_evaluation-logic.html). What moto does and does not
do, and what this module adds:

- Enforced: every service whose requests go through moto's generic ``call_action``
  (DynamoDB, SQS, SNS, EventBridge, Step Functions, SES, KMS, CloudWatch, Kinesis, Firehose,
  STS) and S3. moto never checks the WebSocket ``@connections`` API: added here as
  ``execute-api:ManageConnections`` on ``API/STAGE/METHOD/@connections/ID`` ("Use
  @connections commands in your backend service", apigateway/latest/developerguide/
  apigateway-how-to-call-websocket-api-connections.html).
- Resources: moto knows the resource of SQS and S3 requests only; every other request is
  checked against ``*``. Added here, from the request itself, as the services' "Actions,
  resources, and condition keys" pages define them (service-authorization/latest/reference/):
  DynamoDB ``table/NAME`` and ``table/NAME/index/INDEX`` (every table of a batch; each
  action of a transaction as its own ``PutItem``, ``UpdateItem`` ... permission), SNS
  topics, EventBridge buses, SES identities, Step Functions state machines and executions.
- Matching: ``*`` and ``?`` wildcards, actions case-insensitive, resources case-sensitive
  (moto's own matcher reads the pattern as a regular expression; replaced here).
- **Not evaluated, so refused loudly** (``PolicyNotEvaluable``, when the role is created):
  ``Condition``, ``NotResource``, ``NotPrincipal``, policy variables (``${...}``), a role
  given by ARN instead of by the template. And at call time: a request whose resource moto
  cannot tell while the role's statements for that action are resource-scoped.
- Not emulated: resource-based policies (queue, topic, key policies), permissions
  boundaries, SCPs, session policies, and the KMS permissions AWS checks behind SSE-KMS
  queues, topics and tables (moto does not call KMS for them).
"""

import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlsplit

import boto3
from botocore.credentials import Credentials
from botocore.signers import RequestSigner
from moto.apigatewaymanagementapi.responses import ApiGatewayManagementApiResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin, enable_iam_authentication
from moto.core.exceptions import AccessDeniedError, JsonRESTError, _RESTError
from moto.iam.access_control import IAMPolicyStatement, IAMRequest, IAMRequestBase
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.ses.models import ses_backends
from moto.sts.models import sts_backends

_NOT_EVALUATED = ("Condition", "NotResource", "NotPrincipal")


#: ``Fn::GetAtt [id, Arn]`` of a resource created in moto under its logical id (as
#: tests/support/aws.py creates tables).
_ARNS = {
    "AWS::DynamoDB::GlobalTable": "arn:aws:dynamodb:{region}:{account}:table/{id}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{id}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{id}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{id}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{id}:*",
    "AWS::Events::EventBus": "arn:aws:events:{region}:{account}:event-bus/{id}",
    "AWS::KMS::Key": "arn:aws:kms:{region}:{account}:key/{id}",
}
#: What ``Ref`` is where it is not the name (CloudFormation's "Return values" of each type).
_REFS = {
    "AWS::SNS::Topic": _ARNS["AWS::SNS::Topic"],
    "AWS::SQS::Queue": "https://sqs.{region}.amazonaws.com/{account}/{id}",
}
_APIS = {"AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"}


def by_logical_id(
    template: dict[str, Any], region: str = "us-east-1", account: str = "123456789012"
) -> Callable[[Any], Any]:
    """A ``resolve`` for resources created in moto under their logical ids: ``Ref`` is the
    name (the logical id; in lower case for an API), a topic's ARN or a queue's URL, or the
    pseudo parameter; ``Fn::GetAtt [id, Arn]`` the ARN, a table's ``StreamArn`` moto's;
    ``Fn::Join`` joined. Anything else fails."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account}

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            name = value["Ref"]
            if name in pseudo:
                return pseudo[name]
            kind = template["Resources"][name]["Type"]
            if kind in _REFS:
                return _REFS[kind].format(region=region, account=account, id=name)
            # API ids are lower case: they are host names (``ID.execute-api...``).
            return name.lower() if kind in _APIS else name
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            kind = template["Resources"][logical_id]["Type"]
            if attribute == "StreamArn":  # the stream moto made for the table
                table = boto3.client("dynamodb").describe_table(TableName=logical_id)
                return table["Table"]["LatestStreamArn"]
            assert attribute == "Arn" and kind in _ARNS, f"cannot resolve {value}"
            return _ARNS[kind].format(region=region, account=account, id=logical_id)
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(resolve(part)) for part in parts)
        assert not any(key.startswith("Fn::") for key in value), f"cannot resolve {value}"
        return {key: resolve(item) for key, item in value.items()}

    return resolve


class PolicyNotEvaluable(AssertionError):
    """A policy, or a request, that moto cannot evaluate the way IAM would."""


def role_of(template: dict[str, Any], function_logical_id: str) -> str:
    """The logical id of the function's execution role."""
    role = template["Resources"][function_logical_id]["Properties"]["Role"]
    if not (isinstance(role, dict) and "Fn::GetAtt" in role):
        raise PolicyNotEvaluable(f"{function_logical_id}'s role {role} is not in the template")
    return str(role["Fn::GetAtt"][0])


def policies_of(
    template: dict[str, Any], role_logical_id: str, resolve: Callable[[Any], Any]
) -> dict[str, dict[str, Any]]:
    """``{name: resolved policy document}`` of every policy attached to the role."""
    resources = template["Resources"]
    role = resources[role_logical_id]["Properties"]
    documents = {p["PolicyName"]: p["PolicyDocument"] for p in role.get("Policies", [])}
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        attached = {"Ref": role_logical_id} in properties.get("Roles", [])
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and attached:
            documents[logical_id] = properties["PolicyDocument"]
    for reference in role.get("ManagedPolicyArns", []):
        mine = isinstance(reference, dict) and reference.get("Ref") in resources
        if mine:  # a customer managed policy of the template
            documents[reference["Ref"]] = resources[reference["Ref"]]["Properties"][
                "PolicyDocument"
            ]
            continue
        arn = resolve(reference)
        name = arn.split(":policy/")[-1].split("/")[-1]
        known = _aws_managed_policies()
        if not arn.startswith("arn:aws:iam::aws:policy/") or name not in known:
            raise PolicyNotEvaluable(f"{role_logical_id}: moto does not know policy {arn}")
        documents[name] = known[name]["Document"]
    resolved = {name: resolve(document) for name, document in documents.items()}
    for name, document in resolved.items():
        for statement in _statements(document):
            refused = [key for key in _NOT_EVALUATED if key in statement]
            if refused or "${" in json.dumps(statement.get("Resource", "")):
                raise PolicyNotEvaluable(
                    f"{role_logical_id} policy {name}: moto cannot evaluate "
                    f"{refused or 'policy variables'} in {statement}"
                )
    return resolved


@cache
def _aws_managed_policies() -> dict[str, Any]:
    """The AWS managed policies moto ships (a few MB of JSON: parsed once)."""
    return dict(json.loads(aws_managed_policies_data))


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    """IAM's matching: ``*`` any run of characters, ``?`` one character, nothing else special."""
    return _compiled(pattern, ignore_case).fullmatch(value) is not None


@cache
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _element_matches(statement: IAMPolicyStatement, element: str, value: str) -> bool:
    patterns = statement._statement[element]
    patterns = patterns if isinstance(patterns, list) else [patterns]
    return any(_wildcard(p, value, ignore_case="Action" in element) for p in patterns)


#: "Using IAM with DynamoDB transactions" (amazondynamodb/latest/developerguide/
#: transaction-apis-iam.html): each action of a transaction needs its own permission.
_TRANSACTED = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def _request_checks(request: IAMRequestBase, moto_resource: str) -> list[tuple[str, str]]:
    """``(action, resource)`` pairs the request needs allowed."""
    if request._action in ("dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"):
        prefix = f"arn:aws:dynamodb:{request._region}:{request.account_id}:table"
        items = json.loads(request._body)["TransactItems"]
        return sorted(
            {
                (_TRANSACTED[kind], f"{prefix}/{o['TableName']}")
                for i in items
                for kind, o in i.items()
            }
        )
    return [(request._action, resource) for resource in _request_resources(request, moto_resource)]


def _request_resources(request: IAMRequestBase, moto_resource: str) -> list[str]:
    """The ARNs the request acts on (moto's own where it knows them)."""
    if moto_resource != "*":
        return [moto_resource]
    prefix = f"arn:aws:{request._service}:{request._region}:{request.account_id}"
    service, action = request._action.split(":")
    if service == "sns":
        arn = (request._data.get("TopicArn") or request._data.get("TargetArn") or [None])[0]
        return [arn] if arn else ["*"]
    body = json.loads(request._body or b"{}")
    if service == "dynamodb" and "StreamArn" in body:
        return [body["StreamArn"]]
    if service == "dynamodb":
        tables = {body["TableName"]} if "TableName" in body else set(body.get("RequestItems", {}))
        index = f"/index/{body['IndexName']}" if "IndexName" in body else ""
        return [f"{prefix}:table/{table}{index}" for table in sorted(tables)] or ["*"]
    if service == "events" and action == "PutEvents":
        buses = {entry.get("EventBusName", "default") for entry in body["Entries"]}
        return sorted(b if b.startswith("arn:") else f"{prefix}:event-bus/{b}" for b in buses)
    if service == "ses" and "FromEmailAddress" in body:
        address = body["FromEmailAddress"].rpartition("<")[2].rstrip(">")
        verified = ses_backends[request.account_id][request._region].email_identities
        identity = address if address in verified else address.rpartition("@")[2]
        return [f"{prefix}:identity/{identity}"]
    if service == "states":
        arn = body.get("stateMachineArn") or body.get("executionArn")
        return [arn] if arn else ["*"]
    return ["*"]


class _AuthorizationError(_RESTError):
    code = 403

    def __init__(self, message: str) -> None:
        super().__init__("AuthorizationError", message)


class _ForbiddenException(JsonRESTError):
    code = 403


def _denied(request: IAMRequestBase, resource: str) -> _RESTError:
    """The error AWS answers an unauthorized call with, for the request's protocol."""
    message = (
        f"User: {request._access_key.arn} is not authorized to perform: {request._action}"
        f" on resource: {resource}"
    )
    if request._service == "execute-api":
        return _ForbiddenException("ForbiddenException", message)
    if request._headers.get("Content-Type", "").startswith(
        ("application/x-amz-json", "application/json")
    ):
        return JsonRESTError("AccessDeniedException", message)
    if request._service == "sns":
        return _AuthorizationError(message)
    return AccessDeniedError(user_arn=request._access_key.arn, action=request._action)


class _Enforcement:
    """moto's policy check, with the request's resources, IAM's matching and AWS's errors."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents
        self.problems: list[str] = []
        #: Every refused call, as ``"<action> on <resource>"``.
        self.denied: list[str] = []

    def check(self, request: IAMRequestBase, moto_resource: str) -> None:
        for action, resource in _request_checks(request, moto_resource):
            if resource == "*" and self._scoped(action):
                self.problems.append(
                    f"moto cannot tell which resource {action} acts on, and the role's "
                    "statements for it name resources"
                )
                raise PolicyNotEvaluable(self.problems[-1])
            request._action = action
            try:
                _CHECK_ACTION_PERMITTED(request, resource)
            except AccessDeniedError as error:
                self.denied.append(f"{action} on {resource}")
                raise _denied(request, resource) from error

    def _scoped(self, action: str) -> bool:
        return any(
            _wildcard(str(pattern), action, ignore_case=True)
            and statement.get("Resource") not in ("*", ["*"])
            for document in self.documents.values()
            for statement in _statements(document)
            for pattern in _as_list(statement.get("Action", []))
        )


def _manage_connections(operation: str) -> Callable[..., Any]:
    """moto's ``@connections`` operation, behind an ``execute-api:ManageConnections`` check of
    the calling thread's role."""
    run = getattr(ApiGatewayManagementApiResponse, operation)

    def checked(response: ApiGatewayManagementApiResponse) -> Any:
        caller = _caller()
        if caller is None:
            return run(response)
        url = urlsplit(response.uri)
        api_id, _, region = url.netloc.split(".")[:3]
        stage, _, connection = unquote(url.path).lstrip("/").partition("/@connections/")
        resource = (
            f"arn:aws:execute-api:{region}:{DEFAULT_ACCOUNT_ID}:{api_id}/{stage}/"
            f"{response.method}/@connections/{connection}"
        )
        request = IAMRequest(
            account_id=DEFAULT_ACCOUNT_ID,
            method=response.method,
            path=url.path,
            data={},
            body=response.raw_body,
            headers=response.headers,
            action="ManageConnections",
        )
        caller.enforcement.check(request, resource)
        return run(response)

    return checked


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _assume(
    template: dict[str, Any],
    role_id: str,
    documents: dict[str, dict[str, Any]],
    function_logical_id: str,
) -> Credentials:
    """The role in moto's IAM with exactly ``documents`` as its policies (validated by moto as
    PutRolePolicy validates them), assumed: its temporary credentials. moto's backends are
    called directly: through boto3 this took ~0.3 s per entry on a busy machine."""
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    name = role_id[:64]
    try:
        role = iam.get_role(name)
    except NotFoundException:
        trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
        role = iam.create_role(name, json.dumps(trust), "/", None, "", [], None)
    for stale in set(iam.list_role_policies(name)) - set(documents):
        iam.delete_role_policy(name, stale)
    for policy, document in documents.items():
        iam.put_role_policy(name, policy, json.dumps(document))
    assumed = sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assume_role(
        region_name="us-east-1",
        role_session_name=function_logical_id[:64].ljust(2, "-"),
        role_arn=role.arn,
        policy="",
        duration=3600,
        external_id="",
    )
    return Credentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)


@contextmanager
def _environment(credentials: Credentials) -> Iterator[None]:
    """The role's credentials in the variables the Lambda runtime sets, restored after."""
    names = {
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "AWS_SESSION_TOKEN": credentials.token,
    }
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class _Role:
    """A role a thread acts as: its credentials and its enforcement."""

    credentials: Credentials
    enforcement: _Enforcement


#: Per thread, who is calling: a :class:`_Role`, or ``None`` for the platform (AWS itself).
_callers = threading.local()
_installed = {"count": 0, "patches": ExitStack()}
_install_lock = threading.Lock()
_CHECK_ACTION_PERMITTED = IAMRequestBase.check_action_permitted
_AUTHORIZE = ActionAuthenticatorMixin._authenticate_and_authorize_action
_SIGN = RequestSigner.get_auth_instance


def _caller() -> _Role | None:
    """The role the current thread acts as; ``None`` for the platform or the test itself."""
    stack = getattr(_callers, "stack", [])
    return stack[-1] if stack else None


def _get_auth_instance(signer: RequestSigner, *args: Any, **kwargs: Any) -> Any:
    caller = _caller()
    if caller is not None:
        kwargs["request_credentials"] = caller.credentials
    return _SIGN(signer, *args, **kwargs)


def _authorize(response: Any, iam_request_cls: type, resource: str = "*") -> None:
    """moto's authentication and authorization, for a thread acting as a role only."""
    if _caller() is not None:
        _AUTHORIZE(response, iam_request_cls, resource)


def _check_action_permitted(request: IAMRequestBase, resource: str) -> None:
    caller = _caller()
    assert caller is not None, "moto checked a call no role made"
    caller.enforcement.check(request, resource)


@contextmanager
def _calling(caller: _Role | None) -> Iterator[None]:
    """``caller`` on top of the current thread's stack; moto's enforcement and the signer
    patched while any thread's stack is not empty."""
    with _install_lock:
        if _installed["count"] == 0:
            _installed["patches"] = _install()
        _installed["count"] += 1
    stack = _callers.__dict__.setdefault("stack", [])
    stack.append(caller)
    try:
        yield
    finally:
        stack.pop()
        with _install_lock:
            _installed["count"] -= 1
            if _installed["count"] == 0:
                _installed["patches"].close()


def _install() -> ExitStack:
    patches = ExitStack()
    for target, name, value in [
        (RequestSigner, "get_auth_instance", _get_auth_instance),
        (ActionAuthenticatorMixin, "_authenticate_and_authorize_action", _authorize),
        (IAMRequestBase, "check_action_permitted", _check_action_permitted),
        (IAMPolicyStatement, "_check_element_matches", _element_matches),
        *[
            (ApiGatewayManagementApiResponse, operation, _manage_connections(operation))
            for operation in ("post_to_connection", "get_connection", "delete_connection")
        ],
    ]:
        patches.enter_context(mock.patch.object(target, name, value))
    patches.enter_context(enable_iam_authentication())
    return patches


@contextmanager
def as_platform() -> Iterator[None]:
    """Inside, the current thread's calls are AWS's own (a service delivering an event, a
    poller reading a queue): signed with the test's credentials and not checked, even when
    a role is active further out. A function invoked inside acts as its own role again."""
    with _calling(None):
        yield


@contextmanager
def acting_as(
    template: dict[str, Any], function_logical_id: str, resolve: Callable[[Any], Any]
) -> Iterator[list[str]]:
    """Inside, the current thread's boto3 calls carry the credentials of the function's
    execution role (its policies from the template, references resolved by ``resolve`` to the
    moto resources), and moto checks them against its policies; other threads' calls are not
    affected. Nested, the innermost :func:`acting_as` or :func:`as_platform` applies.

    Yields the list of calls refused so far (``"dynamodb:PutItem on arn:..."``), for the
    failures a handler catches. Needs an active moto mock. Entering again for the same role
    reuses it, with the policies of ``template``.
    """
    role_id = role_of(template, function_logical_id)
    documents = policies_of(template, role_id, resolve)
    credentials = _assume(template, role_id, documents, function_logical_id)
    enforcement = _Enforcement(documents)
    with _environment(credentials), _calling(_Role(credentials, enforcement)):
        yield enforcement.denied
    if enforcement.problems:
        raise PolicyNotEvaluable("; ".join(enforcement.problems))
