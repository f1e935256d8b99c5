"""Pub/sub service with popular terms: a SyncApi in front, a FanOut behind, four tables.

Publishers and subscribers register through the API; subscribers subscribe to topics;
publishers publish messages to a topic. The publish path only hands the message to SNS (one
write, no fan-out work while the caller waits; a failed publish stores nothing). Behind the
topic, two queue subscribers work at their own pace:

- ``delivery`` copies each message into the inbox of every subscriber of its topic, then
  stores it in the messages table (so a stored message is a delivered one);
- ``popular-terms`` counts the message's words into the word-count table, once per message
  even when SQS delivers it twice (a per-message marker written in the same transaction as
  the counts).

``GET /terms`` answers the most popular terms from a GSI keyed by shard and count: one Query
per shard, merged, no scan whatever the number of terms. A term always lands in the same one
of ``TERMS_SHARDS`` shards, so the count updates spread over that many index partitions
instead of one hot one.

Resources passed between the constructs: the stack creates the four tables with the library's
table defaults; the SyncApi gets the messages table (``existing_table``) and grants to the
other three; the FanOut's topic is granted to the API's function for publishing; each FanOut
consumer is granted the tables it writes (delivery: subscribers and messages; popular terms:
word counts).
"""

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from serverless_patterns import FanOut, QueueSubscriber, Route, SyncApi, TableAccess
from serverless_patterns.core.alarms import notify_every_alarm, operations_topic
from serverless_patterns.core.functions import asset_code
from serverless_patterns.core.tables import grant, table

from examples.layers import rest_json_layer

HANDLERS = Path(__file__).parent / "handlers"
#: The GSI of the word-count table: the terms of each shard, sorted by count.
TERMS_INDEX = "by_count"
#: Shards of the terms index: each index partition takes about 1,000 writes a second, and
#: ``GET /terms`` reads the top N of each. Only ever increase it: a term moves to its new
#: shard at its next count, and the old shard numbers stay among the ones queried.
TERMS_SHARDS = 10
#: The GSI of the subscribers table: who subscribed to a topic.
SUBSCRIPTIONS_INDEX = "by_topic"
#: The counter retries throttling and transaction conflicts itself; SQS retries the rest.
COUNTER_MAX_RECEIVE_COUNT = 5

STRING = dynamodb.AttributeType.STRING


def name_schema() -> apigw.JsonSchema:
    return apigw.JsonSchema(
        schema=apigw.JsonSchemaVersion.DRAFT4,
        type=apigw.JsonSchemaType.OBJECT,
        required=["name"],
        additional_properties=False,
        properties={
            "name": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=64)
        },
    )


MESSAGE_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    type=apigw.JsonSchemaType.OBJECT,
    required=["publisher_id", "text"],
    additional_properties=False,
    properties={
        "publisher_id": apigw.JsonSchema(
            type=apigw.JsonSchemaType.STRING, min_length=1, max_length=64
        ),
        "text": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=2000),
    },
)

ROUTES = [
    Route("POST", "/publishers", request_schema=name_schema()),
    Route("POST", "/subscribers", request_schema=name_schema()),
    Route("PUT", "/subscribers/{subscriber_id}/topics/{topic}"),
    Route("DELETE", "/subscribers/{subscriber_id}/topics/{topic}"),
    Route("GET", "/subscribers/{subscriber_id}/messages"),
    Route("POST", "/topics/{topic}/messages", request_schema=MESSAGE_SCHEMA),
    Route("GET", "/messages/{message_id}"),
    Route("GET", "/terms"),
]


class PubSubServiceStack(Stack):
    """Publishers, subscribers, topics and the most popular terms of everything published."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description="serverless-patterns: pub/sub service with popular terms "
            "(SyncApi + FanOut)",
        )
        publishers = table(
            self,
            "Publishers",
            props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(name="id", type=STRING),
            ),
        )
        # A subscriber's profile (sk "profile"), subscriptions (sk "topic#<topic>") and inbox
        # (sk "inbox#<published at>#<message id>", expiring) in one partition.
        subscribers = table(
            self,
            "Subscribers",
            props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(name="pk", type=STRING),
                sort_key=dynamodb.Attribute(name="sk", type=STRING),
                time_to_live_attribute="expires_at",
                global_secondary_indexes=[
                    dynamodb.GlobalSecondaryIndexPropsV2(
                        index_name=SUBSCRIPTIONS_INDEX,
                        partition_key=dynamodb.Attribute(name="subscribed_topic", type=STRING),
                        sort_key=dynamodb.Attribute(name="pk", type=STRING),
                        projection_type=dynamodb.ProjectionType.KEYS_ONLY,
                    )
                ],
            ),
        )
        messages = table(
            self,
            "Messages",
            props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(name="id", type=STRING),
            ),
        )
        # Terms (pk "term#<term>", in the GSI) and counted-message markers (pk
        # "counted#<message id>#<part>", expiring, not in the GSI: no shard attribute).
        word_counts = table(
            self,
            "WordCounts",
            props=dynamodb.TablePropsV2(
                partition_key=dynamodb.Attribute(name="pk", type=STRING),
                time_to_live_attribute="expires_at",
                global_secondary_indexes=[
                    dynamodb.GlobalSecondaryIndexPropsV2(
                        index_name=TERMS_INDEX,
                        partition_key=dynamodb.Attribute(name="shard", type=STRING),
                        sort_key=dynamodb.Attribute(
                            name="count", type=dynamodb.AttributeType.NUMBER
                        ),
                        projection_type=dynamodb.ProjectionType.INCLUDE,
                        non_key_attributes=["term"],
                    )
                ],
            ),
        )

        messages_topic = FanOut(
            self,
            "PublishedMessages",
            subscribers=[
                QueueSubscriber(
                    "delivery",
                    raw_message_delivery=True,
                    code=asset_code(str(HANDLERS / "pubsub_delivery")),
                    function_options=lambda_.FunctionOptions(
                        environment={
                            "SUBSCRIBERS_TABLE": subscribers.table_name,
                            "SUBSCRIPTIONS_INDEX": SUBSCRIPTIONS_INDEX,
                            "MESSAGES_TABLE": messages.table_name,
                        }
                    ),
                ),
                QueueSubscriber(
                    "popular-terms",
                    raw_message_delivery=True,
                    code=asset_code(str(HANDLERS / "popular_terms")),
                    function_options=lambda_.FunctionOptions(
                        environment={
                            "WORD_COUNTS_TABLE": word_counts.table_name,
                            "TERMS_SHARDS": str(TERMS_SHARDS),
                        }
                    ),
                    # Few counters at once: fewer transaction conflicts on the hot terms.
                    max_concurrency=2,
                    max_receive_count=COUNTER_MAX_RECEIVE_COUNT,
                ),
            ],
        )
        delivery = messages_topic.subscribers["delivery"].function
        counter = messages_topic.subscribers["popular-terms"].function
        assert delivery is not None and counter is not None
        grant(subscribers, delivery, TableAccess.READ_WRITE)
        grant(messages, delivery, TableAccess.READ_WRITE)
        grant(word_counts, counter, TableAccess.READ_WRITE)

        api = SyncApi(
            self,
            "Api",
            code=asset_code(str(HANDLERS / "pubsub_api")),
            service_name="pubsub",
            existing_table=messages,
            function_options=lambda_.FunctionOptions(
                environment={
                    "PUBLISHERS_TABLE": publishers.table_name,
                    "SUBSCRIBERS_TABLE": subscribers.table_name,
                    "MESSAGES_TABLE": messages.table_name,
                    "WORD_COUNTS_TABLE": word_counts.table_name,
                    "TERMS_INDEX": TERMS_INDEX,
                    "TERMS_SHARDS": str(TERMS_SHARDS),
                    "TOPIC_ARN": messages_topic.topic.topic_arn,
                },
                layers=[rest_json_layer(self)],
            ),
            routes=ROUTES,
        )
        grant(publishers, api.function, TableAccess.READ_WRITE)
        grant(subscribers, api.function, TableAccess.READ_WRITE)
        grant(word_counts, api.function, TableAccess.READ)
        messages_topic.grant_publish(api.function)

        CfnOutput(self, "ApiUrl", value=api.api.url)
        CfnOutput(self, "TopicArn", value=messages_topic.topic.topic_arn)
        # Every alarm tells someone: subscribe the on-call address to the operations topic,
        # or pass a platform team's own topic to notify_every_alarm instead.
        notify_every_alarm(self, operations_topic(self))
