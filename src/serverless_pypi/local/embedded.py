"""An embedded S3 (moto's server on loopback) wired like the module: bucket (tagged
with this release) -> SNS -> reindex, SSM for the users, and on request an
EventBridge bus for the index's events, with a queue that a rule fills to watch them.

Nothing here reads or changes the process environment: the embedded S3 hands
out clients, readers and the settings that point at it. Any process of this
machine can reach it (no credentials are checked): see the README's security
notes on ``serve --auth``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from ..changeevents import SOURCE
from ..eventbus import BUS_TAG
from ..layout import NOTIFY_SUFFIXES
from ..logs import get_logger
from ..release import THIS
from ..s3http import S3Reader
from ..sigv4 import Credentials
from ..ssm import SsmReader
from ..storage import CLIENT_CONFIG, Storage

logger = get_logger(__name__)

REGION = "us-east-1"
_KEYS = Credentials("embedded", "embedded")


class MissingMoto(RuntimeError):
    """The embedded S3 needs moto's server, which is an optional extra."""


class EmbeddedS3:
    """moto's server on loopback, wired like the module: bucket -> SNS -> reindex.

    Notifications reach an SQS queue subscribed to the topic; a thread hands
    them to a reindex handler as SNS would hand them to Lambda.
    """

    def __init__(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise MissingMoto(
                "the embedded S3 needs moto's server: pip install 'moto[server]>=5' "
                "(the serve extra), or pass --bucket"
            ) from None
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.url = ""
        self.queue_url = ""

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` on the embedded server."""
        import boto3

        make: Any = boto3.client  # one call for any service name
        return make(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=_KEYS.access_key,
            aws_secret_access_key=_KEYS.secret_key,
            config=CLIENT_CONFIG if service == "s3" else None,
        )

    def reader(self, bucket: str) -> S3Reader:
        """The api's S3 reader, signing for the embedded server."""
        return S3Reader(bucket, REGION, self.url, credentials=lambda: _KEYS)

    @property
    def environment(self) -> str:
        """The variables that point an AWS tool (the AWS CLI, ``serverless-pypi user``)
        at the embedded server, as a shell prefix."""
        return (
            f"AWS_ENDPOINT_URL={self.url} AWS_ACCESS_KEY_ID={_KEYS.access_key} "
            f"AWS_SECRET_ACCESS_KEY={_KEYS.secret_key} AWS_DEFAULT_REGION={REGION}"
        )

    def parameters(self) -> SsmReader:
        """The authorizer's SSM reader, on the embedded server."""
        return SsmReader(REGION, self.url, credentials=lambda: _KEYS)

    def storage(self, bucket: str) -> Storage:
        return Storage(self.client("s3"), bucket)

    def start(self, bucket: str) -> None:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        s3, sns, sqs = self.client("s3"), self.client("sns"), self.client("sqs")
        s3.create_bucket(Bucket=bucket)
        # The release, as the module tags its bucket: the commands see a deployment.
        tag_set = [{"Key": key, "Value": value} for key, value in THIS.tags().items()]
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_set})
        topic = sns.create_topic(Name="serverless-pypi-local")["TopicArn"]
        self.queue_url = sqs.create_queue(QueueName="serverless-pypi-local")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "TopicConfigurations": [
                    {
                        "TopicArn": topic,
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": suffix}]}},
                    }
                    for suffix in NOTIFY_SUFFIXES
                ]
            },
        )

    def watch_events(self, bucket: str, name: str) -> tuple[str, str]:
        """The bus ``name`` (made unless it is "default"), named by the bucket's tags
        as the module names it, and a rule that sends every event of the index to a
        queue: the bus's ARN and the queue's URL."""
        events, sqs, s3 = self.client("events"), self.client("sqs"), self.client("s3")
        if name != "default":
            events.create_event_bus(Name=name)
        arn = events.describe_event_bus(Name=name)["Arn"]
        tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        tags = [tag for tag in tags if tag["Key"] != BUS_TAG] + [{"Key": BUS_TAG, "Value": arn}]
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
        queue_url = sqs.create_queue(QueueName="serverless-pypi-events")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        pattern = json.dumps({"source": [SOURCE]})
        events.put_rule(Name="serverless-pypi-events", EventBusName=name, EventPattern=pattern)
        events.put_targets(
            Rule="serverless-pypi-events",
            EventBusName=name,
            Targets=[{"Id": "queue", "Arn": queue["Attributes"]["QueueArn"]}],
        )
        return arn, queue_url

    def deliver(self, reindex: Callable[[dict[str, Any]], object]) -> int:
        """Hand the queued notifications to ``reindex``; return how many."""
        sqs = self.client("sqs")
        delivered = 0
        while True:
            found = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not found:
                return delivered
            for message in found:
                envelope = json.loads(message["Body"])
                try:
                    reindex({"Records": [{"EventSource": "aws:sns", "Sns": envelope}]})
                except Exception:
                    logger.exception("reindexing failed")
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                delivered += 1

    def start_delivery(self, reindex: Callable[[dict[str, Any]], object]) -> None:
        def loop() -> None:
            while not self._stop.wait(0.5):
                self.deliver(reindex)

        self._thread = threading.Thread(target=loop, name="reindex", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.stop()
