"""The e2e harness's template adaptations (tools/e2e/adapt.py): what is dropped must be unused,
and the list of drops must match what the emulator refuses. Fast: part of `make test`."""

import pytest

from tools.e2e import adapt

ARCHIVE = "AWS::Events::Archive"


def template(**resources):
    return {"Resources": resources, "Outputs": {}}


def bus():
    return {"Type": "AWS::Events::EventBus", "Properties": {"Name": "b"}}


def archive():
    return {"Type": ARCHIVE, "Properties": {"SourceArn": {"Fn::GetAtt": ["Bus", "Arn"]}}}


def test_a_listed_type_is_dropped_from_a_copy():
    original = template(Bus=bus(), Archive=archive())
    adapted = adapt.adapt(original)
    assert set(adapted["Resources"]) == {"Bus"}
    assert set(original["Resources"]) == {"Bus", "Archive"}  # the original is untouched


@pytest.mark.parametrize(
    "user",
    [
        {"Type": "AWS::SNS::Topic", "DependsOn": "Archive"},
        {"Type": "AWS::SNS::Topic", "DependsOn": ["Bus", "Archive"]},
        {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Archive"}}},
        {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": {"Fn::GetAtt": ["Archive", "Arn"]}},
        },
        {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": "Archive.Arn"}}},
        {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::Sub": "x-${Archive.Arn}"}}},
        {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::Sub": ["${Archive}", {}]}}},
    ],
)
def test_dropping_a_resource_something_refers_to_fails_loudly(user):
    with pytest.raises(adapt.DropNeeded, match="Topic -> Archive"):
        adapt.adapt(template(Bus=bus(), Archive=archive(), Topic=user), "S")


def test_an_output_that_refers_to_a_dropped_resource_fails_loudly():
    original = template(Bus=bus(), Archive=archive())
    original["Outputs"] = {"ArchiveName": {"Value": {"Ref": "Archive"}}}
    with pytest.raises(adapt.DropNeeded, match=r"Outputs\.ArchiveName -> Archive"):
        adapt.adapt(original)


def test_sub_variables_that_are_not_resources_are_not_references():
    topic = {
        "Type": "AWS::SNS::Topic",
        "Properties": {"DisplayName": {"Fn::Sub": "${AWS::Region}"}},
    }
    assert set(adapt.adapt(template(Archive=archive(), Topic=topic))["Resources"]) == {"Topic"}


def test_queues_get_the_shortened_visibility_timeout():
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 120}}
    adapted = adapt.adapt(template(Queue=queue))
    assert adapted["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] == 5


#: A stack using (and refused) every other listed drop, so that each test is about one.
OTHERS = {"U": set(adapt.DROPS) - {ARCHIVE, "AWS::ApiGatewayV2::RouteResponse"}}


def test_a_refused_type_that_is_not_listed_is_a_problem():
    problems = adapt.drop_problems(
        {"S": {ARCHIVE, "AWS::X::Y"}, "T": {"AWS::ApiGatewayV2::RouteResponse"}, **OTHERS},
        {"S": {ARCHIVE, "AWS::X::Y"}, "T": {"AWS::ApiGatewayV2::RouteResponse"}, **OTHERS},
    )
    assert len(problems) == 1 and "S: the emulator refuses AWS::X::Y" in problems[0]


def test_a_listed_type_the_emulator_accepts_now_is_a_problem():
    problems = adapt.drop_problems(
        {"S": {ARCHIVE}, "T": {"AWS::ApiGatewayV2::RouteResponse"}, **OTHERS},
        {"S": set(), "T": {"AWS::ApiGatewayV2::RouteResponse"}, **OTHERS},
    )
    assert problems == [
        f"S: the emulator now accepts {ARCHIVE}: remove it from DROPS and its entry in "
        "tests/e2e/EMULATOR_GAPS.md"
    ]


def test_a_listed_type_no_stack_uses_is_a_problem():
    problems = adapt.drop_problems({"S": {ARCHIVE}, **OTHERS}, {"S": {ARCHIVE}, **OTHERS})
    assert problems == [
        "DROPS lists AWS::ApiGatewayV2::RouteResponse, which no reference stack uses: drop it"
    ]


def test_every_drop_says_why_and_how_to_reproduce():
    for resource_type, drop in adapt.DROPS.items():
        assert drop.reason and resource_type in drop.reproduction


def scaling(**extra):
    """A scaling policy (a listed drop) and the alarm that only triggers it."""
    return template(
        Target={"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {}},
        Policy={
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {"ScalingTargetId": {"Ref": "Target"}},
        },
        Trigger={
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {"AlarmActions": [{"Ref": "Policy"}]},
        },
        **extra,
    )


def test_an_alarm_that_only_triggers_a_dropped_policy_is_dropped_with_it():
    assert adapt.adapt(scaling(Bus=bus()))["Resources"].keys() == {"Bus"}


def test_a_dependent_something_else_refers_to_still_fails_loudly():
    user = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Trigger"}}}
    with pytest.raises(adapt.DropNeeded, match="Topic -> Trigger"):
        adapt.adapt(scaling(Topic=user), "S")


def test_container_images_are_left_out_of_the_deployed_copy(tmp_path):
    manifest = tmp_path / "S.assets.json"
    manifest.write_text(
        '{"version": "55.0.0", "files": {"f": {}},'
        ' "dockerImages": {"h": {"displayName": "Worker/AssetImage"}}}'
    )
    assert adapt.without_images(manifest) == ["Worker/AssetImage"]
    assert manifest.read_text().replace(" ", "").replace("\n", "") == (
        '{"version":"55.0.0","files":{"f":{}}}'
    )


def test_an_alarm_with_metric_math_is_dropped_and_a_plain_one_kept():
    plain = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors"}}
    math = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [{"Expression": "a"}]}}
    assert adapt.adapt(template(Plain=plain, Math=math))["Resources"].keys() == {"Plain"}
