"""S3 buckets for data a pattern keeps: encrypted, TLS only, private, versioned, retained."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from serverless_patterns.core.compliance import justify
from serverless_patterns.core.props import merge, options_of

#: Lifecycle: current objects move to Glacier Instant Retrieval (same millisecond reads, about
#: a sixth of S3 Standard's storage price) after 90 days; replaced or deleted versions are kept
#: 30 days for recovery; uploads left incomplete are aborted after 7 days.
ARCHIVE_AFTER = Duration.days(90)
NONCURRENT_VERSIONS_KEPT = Duration.days(30)
INCOMPLETE_UPLOADS_KEPT = Duration.days(7)


def bucket(
    scope: Construct, construct_id: str, *, props: s3.BucketProps | None = None
) -> s3.Bucket:
    """A bucket with the library's defaults; ``props`` override any of them.

    Defaults: SSE-KMS with the AWS-managed ``aws/s3`` key and an S3 Bucket Key (no key to
    pay for, few KMS requests), a policy refusing every request not made over TLS, public
    access blocked, ACLs disabled, versioning, the lifecycle above (no current object
    expires: give ``lifecycle_rules`` to expire data), and ``RemovalPolicy.RETAIN``.
    """
    created = s3.Bucket(
        scope,
        construct_id,
        **merge(
            {
                "encryption": s3.BucketEncryption.KMS_MANAGED,
                "bucket_key_enabled": True,
                "enforce_ssl": True,
                "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
                "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                "versioned": True,
                "lifecycle_rules": [
                    s3.LifecycleRule(
                        transitions=[
                            s3.Transition(
                                storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                                transition_after=ARCHIVE_AFTER,
                            )
                        ],
                        noncurrent_version_expiration=NONCURRENT_VERSIONS_KEPT,
                        abort_incomplete_multipart_upload_after=INCOMPLETE_UPLOADS_KEPT,
                    )
                ],
                "removal_policy": RemovalPolicy.RETAIN,
            },
            props,
        ),
    )
    if options_of(props).get("server_access_logs_bucket") is None:
        justify(created, "no-server-access-logs")
    return created
