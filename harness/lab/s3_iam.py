"""Real credentials on the lab's moto S3 server: IAM users, their access keys, and enforcement.

moto's server accepts any key until authentication is turned on. ``enforce_auth`` turns it on
the way moto documents it (``POST /moto-api/reset-auth`` with the number of requests still let
through unauthenticated: 0): from then on every S3 and IAM request is checked against moto's
IAM, so a request signed with a deleted access key fails with ``InvalidAccessKeyId`` exactly as
AWS answers it. Before that, while requests are still free, the harness makes its own IAM user
(every action allowed) and key: the harness keeps working whatever happens to the keys it
issues to backup jobs (``issue_key``: s3:* on one bucket) and later deletes (``delete_key``,
the ``upload_credentials_expired`` fault; an Inactive key would still be accepted by moto).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from harness.errors import InfrastructureError

HARNESS_USER = "rd-harness"
IAM_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
RESET_TIMEOUT_S = 10.0


def iam_client(endpoint_url: str, access_key: str, secret_key: str, region: str) -> Any:
    """A boto3 IAM client on the lab's server (moto serves IAM on the same port as S3)."""
    return boto3.client(
        "iam",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=botocore.config.Config(retries={"max_attempts": 3}, connect_timeout=5),
    )


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def create_user_key(iam: Any, user: str, document: str) -> tuple[str, str]:
    """Create IAM ``user`` with an inline policy ``document`` and one access key (id, secret)."""
    try:
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName=f"{user}-policy", PolicyDocument=document)
        key = iam.create_access_key(UserName=user)["AccessKey"]
    except IAM_ERRORS as exc:
        raise InfrastructureError(f"could not create the S3 user {user}: {exc}") from exc
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])


def harness_key(iam: Any) -> tuple[str, str]:
    """The harness's own user: every action (buckets, verification, restores, IAM)."""
    document = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    return create_user_key(iam, HARNESS_USER, document)


def bucket_key(iam: Any, user: str, bucket: str) -> tuple[str, str]:
    """A backup job's user: s3:* on ``bucket`` and its objects, nothing else."""
    document = policy(
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        }
    )
    return create_user_key(iam, user, document)


def new_key(iam: Any, user: str) -> tuple[str, str]:
    """Another access key for ``user`` (id, secret)."""
    try:
        key = iam.create_access_key(UserName=user)["AccessKey"]
    except IAM_ERRORS as exc:
        raise InfrastructureError(f"could not create an access key for {user}: {exc}") from exc
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])


def delete_key(iam: Any, user: str, access_key: str) -> None:
    """Delete ``user``'s access key: every later request signed with it is refused."""
    try:
        iam.delete_access_key(UserName=user, AccessKeyId=access_key)
    except IAM_ERRORS as exc:
        raise InfrastructureError(f"could not delete the access key of {user}: {exc}") from exc


def enforce_auth(host_endpoint: str) -> None:
    """From now on moto authenticates every request (none is let through unchecked)."""
    request = urllib.request.Request(
        f"{host_endpoint}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    try:
        with urllib.request.urlopen(request, timeout=RESET_TIMEOUT_S) as answer:
            body = json.loads(answer.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InfrastructureError(
            f"could not turn on authentication on {host_endpoint}: {exc}"
        ) from exc
    if body.get("status") != "ok":
        raise InfrastructureError(f"moto refused to turn on authentication: {body}")
