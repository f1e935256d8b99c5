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
}
GROWS_WITH_DATA = {
    "AWS::DynamoDB::Table": "DynamoDB storage and backups",
    "AWS::DynamoDB::GlobalTable": "DynamoDB storage and point-in-time-recovery backups",
    "AWS::Logs::LogGroup": "CloudWatch Logs storage",
    "AWS::Events::Archive": "EventBridge archive storage",
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
