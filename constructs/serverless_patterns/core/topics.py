"""SNS topics: encrypted, TLS-only, publishing only by grant, a DLQ on every subscription."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_patterns.core import alarms
from serverless_patterns.core.props import merge
from serverless_patterns.core.validation import Problems, is_alias, is_token

#: The AWS-managed SNS key: no monthly fee, and SNS decrypts before it delivers, so the
#: SSE-SQS queues of ``core.queues`` receive the messages. Its key policy cannot be changed:
#: AWS services (CloudWatch alarms, EventBridge, S3) and other accounts cannot publish to a
#: topic encrypted with it; give a customer-managed key (``master_key``) for those.
AWS_MANAGED_KEY_ALIAS = "alias/aws/sns"
#: SNS limits on one filter policy (as aws-cdk-lib computes them).
MAX_FILTER_KEYS = 5
MAX_FILTER_COMBINATIONS = 150
#: Options of ``sns.TopicProps`` / ``sqs.QueueProps`` that only FIFO topics / queues accept.
FIFO_TOPIC_OPTIONS = ("content_based_deduplication", "fifo_throughput_scope")
FIFO_QUEUE_OPTIONS = ("content_based_deduplication", "deduplication_scope", "fifo_throughput_limit")


def topic(scope: Construct, construct_id: str, *, props: sns.TopicProps | None = None) -> sns.Topic:
    """A topic with the library's defaults; ``props`` override any of them.

    Defaults: server-side encryption with the AWS-managed key ``alias/aws/sns`` and a topic
    policy that denies every request not made over TLS. The policy grants nothing: only
    principals given ``sns:Publish`` (``topic.grant_publish``) can publish.

    The AWS-managed key is set on the resource, not as ``topic.master_key``: its key policy
    already lets every principal of the account use it through SNS, so a publish grant needs
    no KMS statement (for an imported alias CDK grants ``kms:Decrypt`` and
    ``kms:GenerateDataKey*`` on every key of the account, conditioned on the alias). A
    ``props.master_key`` of your own is used as CDK uses it: grants include the key.
    """
    settings = merge({"enforce_ssl": True}, props)
    created = sns.Topic(scope, construct_id, **settings)
    if settings.get("master_key") is None:
        resource = created.node.default_child
        assert isinstance(resource, sns.CfnTopic)
        resource.kms_master_key_id = AWS_MANAGED_KEY_ALIAS
    return created


def uses_aws_managed_key(topic: sns.ITopic) -> bool:
    """True if ``topic`` is known to be encrypted with ``alias/aws/sns``."""
    if topic.master_key is not None:
        return is_alias(topic.master_key, AWS_MANAGED_KEY_ALIAS)
    resource = topic.node.default_child if isinstance(topic, sns.Topic) else None
    key_id = resource.kms_master_key_id if isinstance(resource, sns.CfnTopic) else None
    return (
        isinstance(key_id, str) and not is_token(key_id) and key_id.endswith(AWS_MANAGED_KEY_ALIAS)
    )


def validate_alarm_topic(problems: Problems, topic: sns.ITopic | None) -> None:
    """CloudWatch must be able to publish to ``topic``: never through ``alias/aws/sns``.

    A topic encrypted with the AWS-managed key accepts nothing from CloudWatch: its key
    policy cannot grant ``cloudwatch.amazonaws.com`` the ``kms:Decrypt`` and
    ``kms:GenerateDataKey*`` that publishing needs, and the alarm action fails silently.
    """
    if topic is not None and uses_aws_managed_key(topic):
        problems.add(
            "alarm_topic",
            "encrypted with alias/aws/sns",
            "CloudWatch cannot publish to it: use a customer-managed key whose policy allows "
            "cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*, or no encryption",
        )


def is_fifo(topic_props: sns.TopicProps | None, existing_topic: sns.ITopic | None) -> bool:
    if existing_topic is not None:
        return bool(existing_topic.fifo)
    return bool(topic_props is not None and topic_props.fifo)


def validate_fifo_only_options(
    problems: Problems, option: str, props: Any | None, names: tuple[str, ...]
) -> None:
    """``names`` set on the non-FIFO ``props`` (``option``): SNS / SQS would reject them."""
    if props is None or props.fifo:
        return
    for name in names:
        value = getattr(props, name, None)
        if value is not None and value is not False:
            problems.add(
                f"{option}.{name}", value, "only FIFO accepts it; set fifo=True or drop it"
            )


def validate_filter_policies(
    problems: Problems,
    option: str,
    attributes: Mapping[str, sns.SubscriptionFilter] | None,
    body: Mapping[str, sns.FilterOrPolicy] | None,
) -> None:
    """One filter policy at most, on attributes or on the body, non-empty and within limits."""
    if attributes is not None and body is not None:
        problems.add(
            f"{option}.filter_policy",
            "and filter_policy_with_message_body",
            "a subscription filters on attributes or on the body, not both: keep one",
        )
        return
    if attributes is not None:
        _validate_attribute_policy(problems, f"{option}.filter_policy", attributes)
    if body is not None:
        _validate_body_policy(problems, f"{option}.filter_policy_with_message_body", body)


def _non_empty_map(problems: Problems, option: str, policy: Any, shape: str) -> bool:
    if isinstance(policy, Mapping) and policy:
        return True
    problems.add(option, policy, f"give a non-empty {shape} map")
    return False


def _validate_attribute_policy(
    problems: Problems, option: str, policy: Mapping[str, sns.SubscriptionFilter]
) -> None:
    if not _non_empty_map(problems, option, policy, "{attribute: sns.SubscriptionFilter}"):
        return
    combinations = 1
    for key, condition in policy.items():
        if not isinstance(condition, sns.SubscriptionFilter):
            problems.add(
                f"{option}[{key!r}]",
                condition,
                "use sns.SubscriptionFilter.string_filter(allowlist=[...]) or another "
                "sns.SubscriptionFilter",
            )
            continue
        if not condition.conditions:
            problems.add(f"{option}[{key!r}]", "no conditions", "give at least one condition")
        combinations *= max(len(condition.conditions), 1)
    _validate_limits(problems, option, len(policy), combinations)


def _validate_body_policy(
    problems: Problems, option: str, policy: Mapping[str, sns.FilterOrPolicy]
) -> None:
    if not _non_empty_map(problems, option, policy, "{field: sns.FilterOrPolicy}"):
        return
    combinations = _body_combinations(problems, option, policy, depth=1)
    _validate_limits(problems, option, len(policy), combinations)


def _body_combinations(
    problems: Problems, option: str, policy: Mapping[str, Any], depth: int
) -> int:
    combinations = 1
    for key, value in policy.items():
        where = f"{option}[{key!r}]"
        if isinstance(value, sns.FilterOrPolicy) and value.is_policy():
            nested = value.policy_doc  # type: ignore[attr-defined]
            if not nested:
                problems.add(where, "empty policy", "give at least one nested field")
                continue
            combinations *= _body_combinations(problems, where, nested, depth + 1)
        elif isinstance(value, sns.FilterOrPolicy) and value.is_filter():
            conditions = value.filter_doc.conditions  # type: ignore[attr-defined]
            if not conditions:
                problems.add(where, "no conditions", "give at least one condition")
            combinations *= max(len(conditions), 1) * depth
        else:
            problems.add(
                where,
                value,
                "use sns.FilterOrPolicy.filter(sns.SubscriptionFilter...) for a field or "
                "sns.FilterOrPolicy.policy({...}) for a nested object",
            )
    return combinations


def _validate_limits(problems: Problems, option: str, keys: int, combinations: int) -> None:
    if keys > MAX_FILTER_KEYS:
        problems.add(
            option, f"{keys} keys", f"SNS allows at most {MAX_FILTER_KEYS}; split the subscriber"
        )
    if combinations > MAX_FILTER_COMBINATIONS:
        problems.add(
            option,
            f"{combinations} combinations",
            f"SNS allows at most {MAX_FILTER_COMBINATIONS}; use fewer values or prefix matching",
        )


def subscribe_queue(
    topic: sns.ITopic,
    queue: sqs.IQueue,
    *,
    dead_letter_queue: sqs.IQueue,
    raw_message_delivery: bool = False,
    filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
    filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
) -> sns.Subscription:
    """Subscribe ``queue``; what SNS cannot deliver goes to ``dead_letter_queue``.

    Only this topic may send to the queue and to the DLQ (``aws:SourceArn``).
    """
    subscription = topic.add_subscription(
        subscriptions.SqsSubscription(
            queue,
            raw_message_delivery=raw_message_delivery,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
            dead_letter_queue=dead_letter_queue,
        )
    )
    # SNS may redrive only once the DLQ's policy lets it.
    subscription.node.add_dependency(dead_letter_queue)
    return subscription


def subscribe_function(
    topic: sns.ITopic,
    function: lambda_.IFunction,
    *,
    dead_letter_queue: sqs.IQueue,
    filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
    filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
) -> sns.Subscription:
    """Subscribe ``function`` (invoked asynchronously, only by this topic).

    ``dead_letter_queue`` receives what SNS cannot hand to Lambda; what the function fails to
    process after Lambda's retries goes to the function's own DLQ or on-failure destination.
    """
    subscription = topic.add_subscription(
        subscriptions.LambdaSubscription(
            function,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
            dead_letter_queue=dead_letter_queue,
        )
    )
    # SNS may redrive only once the DLQ's policy lets it.
    subscription.node.add_dependency(dead_letter_queue)
    return subscription


def lost_messages_alarm(scope: Construct, construct_id: str, topic: sns.ITopic) -> cloudwatch.Alarm:
    """A message SNS could deliver neither to a subscriber nor to its DLQ: it is lost."""
    return alarms.alarm(
        scope,
        construct_id,
        topic.metric(
            "NumberOfNotificationsFailedToRedriveToDlq",
            period=alarms.PERIOD,
            statistic="Sum",
        ),
        "SNS could not move an undeliverable message to its dead-letter queue: the message is "
        "lost. Check the DLQ's policy and encryption.",
    )
