"""What a template costs per month at zero traffic."""

from dataclasses import dataclass

from tools.catalog.templates import Template, resources_of

PRICES_AS_OF = "November 2026, us-east-1 list prices"

#: Monthly price of what is billed while idle. Everything else in these patterns (API Gateway,
#: Lambda, SQS, SNS, EventBridge, Step Functions, on-demand DynamoDB) bills per use.
MONTHLY = {
    "standard alarm metric": 0.10,
    "high-resolution alarm metric": 0.30,
    "customer-managed KMS key": 1.00,
    "dashboard": 3.00,
    "secret": 0.40,
    "WAF web ACL": 5.00,
    # "Amazon Kinesis Data Streams pricing" (aws.amazon.com/kinesis/data-streams/pricing/):
    # $0.04 per on-demand stream-hour, $0.015 per provisioned shard-hour, 730 hours a month.
    "on-demand Kinesis stream": 29.20,
    "provisioned Kinesis shard": 10.95,
}
GROWS_WITH_DATA = {
    "AWS::DynamoDB::Table": "DynamoDB storage and backups",
    "AWS::DynamoDB::GlobalTable": "DynamoDB storage and point-in-time-recovery backups",
    "AWS::Logs::LogGroup": "CloudWatch Logs storage",
    "AWS::Events::Archive": "EventBridge archive storage",
    "AWS::S3::Bucket": "S3 storage",
}


@dataclass(frozen=True)
class Line:
    item: str
    count: int
    unit_price: float

    @property
    def monthly(self) -> float:
        return self.count * self.unit_price


def idle_cost(template: Template) -> list[Line]:
    counts: dict[str, int] = {}
    for _, alarm in resources_of(template, "AWS::CloudWatch::Alarm"):
        properties = alarm["Properties"]
        metrics = [m for m in properties.get("Metrics", []) if "MetricStat" in m] or [properties]
        period = min(m.get("Period", m.get("MetricStat", {}).get("Period", 60)) for m in metrics)
        kind = "high-resolution alarm metric" if period < 60 else "standard alarm metric"
        counts[kind] = counts.get(kind, 0) + len(metrics)
    for resource_type, item in [
        ("AWS::KMS::Key", "customer-managed KMS key"),
        ("AWS::CloudWatch::Dashboard", "dashboard"),
        ("AWS::SecretsManager::Secret", "secret"),
        ("AWS::WAFv2::WebACL", "WAF web ACL"),
    ]:
        found = sum(1 for _ in resources_of(template, resource_type))
        if found:
            counts[item] = found
    for _, stream in resources_of(template, "AWS::Kinesis::Stream"):
        properties = stream["Properties"]
        if properties.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND":
            counts["on-demand Kinesis stream"] = counts.get("on-demand Kinesis stream", 0) + 1
        else:
            shards = properties.get("ShardCount", 1)
            counts["provisioned Kinesis shard"] = (
                counts.get("provisioned Kinesis shard", 0) + shards
            )
    return [Line(item, count, MONTHLY[item]) for item, count in sorted(counts.items())]


def total(template: Template) -> float:
    return round(sum(line.monthly for line in idle_cost(template)), 2)


def markdown(template: Template) -> str:
    rows = ["| Billed while idle | Count | Unit price / month | Per month |", "|---|---|---|---|"]
    for line in idle_cost(template):
        rows.append(
            f"| {line.item} | {line.count} | ${line.unit_price:.2f} | ${line.monthly:.2f} |"
        )
    rows.append(f"| **Total** | | | **${total(template):.2f}** |")
    growing = sorted(
        {
            text
            for _, resource in template["Resources"].items()
            if (text := GROWS_WITH_DATA.get(resource["Type"]))
        }
    )
    notes = [f"Prices: {PRICES_AS_OF}; requests, invocations and messages cost nothing at idle."]
    if growing:
        notes.append("Grows with stored data, zero when empty: " + "; ".join(growing) + ".")
    return "\n".join(rows) + "\n\n" + " ".join(notes)
