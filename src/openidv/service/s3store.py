"""Encrypted blobs in an S3 bucket through ``boto3`` (``OPENIDV_BLOB_BACKEND=s3``).

Objects are ``<prefix><case_id>/<blob_id>.bin`` and hold ciphertext only, as the folder
backend's files do (:mod:`openidv.service.blobstore`). A ``PutObject`` is atomic: an object
is either there whole or not at all. The client is made once per store and is thread-safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from openidv.service.blobstore import BlobStoreUnavailableError, StoredObject, check_ids, well_formed
from openidv.service.settings import ServiceSettings

#: error codes S3 servers use for a missing object
_MISSING = {"NoSuchKey", "404", "NotFound"}
#: DeleteObjects takes at most this many keys per call
_DELETE_BATCH = 1000


@contextmanager
def _unavailable_on_error(action: str, key: str) -> Iterator[None]:
    """S3 and transport errors as :class:`BlobStoreUnavailableError` (the service answers 503, nothing kept)."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        raise BlobStoreUnavailableError(f"S3 {action} of {key} failed: {code}") from exc
    except BotoCoreError as exc:
        raise BlobStoreUnavailableError(f"S3 {action} of {key} failed: {exc}") from exc


class S3BlobStore:
    """The S3 backend: same interface and guarantees as :class:`openidv.service.blobstore.BlobStore`."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> S3BlobStore:
        """A client for ``settings``' endpoint, region and credentials (bounded timeouts and attempts)."""
        secret = settings.s3_secret_access_key.get_secret_value()
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=secret or None,
            config=Config(
                connect_timeout=settings.s3_timeout_s,
                read_timeout=settings.s3_timeout_s,
                retries={"max_attempts": settings.s3_max_attempts, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )
        return cls(client, settings.s3_bucket, settings.s3_prefix)

    def _key(self, case_id: str, blob_id: str) -> str:
        check_ids(case_id, blob_id)
        return f"{self.prefix}{case_id}/{blob_id}.bin"

    def put(self, case_id: str, blob_id: str, ciphertext: bytes) -> None:
        key = self._key(case_id, blob_id)
        with _unavailable_on_error("put", key):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=ciphertext, ContentType="application/octet-stream")

    def get(self, case_id: str, blob_id: str) -> bytes:
        key = self._key(case_id, blob_id)
        with _unavailable_on_error("get", key):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _MISSING:
                    raise FileNotFoundError(f"no object {key} in bucket {self.bucket}") from exc
                raise
            data: bytes = answer["Body"].read()
        return data

    def delete(self, case_id: str, blob_id: str) -> None:
        key = self._key(case_id, blob_id)
        with _unavailable_on_error("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_case(self, case_id: str) -> None:
        """Delete every object under the case's prefix (also orphans whose row was never written)."""
        check_ids(case_id)
        prefix = f"{self.prefix}{case_id}/"
        with _unavailable_on_error("listing", prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": k} for k in keys[start : start + _DELETE_BATCH]]
            with _unavailable_on_error("delete", prefix):
                answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise BlobStoreUnavailableError(f"could not delete {first.get('Key')}: {first.get('Code')}")

    def objects(self) -> Iterator[StoredObject]:
        """The objects under the prefix named ``<case_id>/<blob_id>.bin`` (``ListObjectsV2``, page by page)."""
        with _unavailable_on_error("listing", self.prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    case_id, _, name = item["Key"][len(self.prefix) :].partition("/")
                    blob_id = name.removesuffix(".bin")
                    if name.endswith(".bin") and well_formed(case_id, blob_id):
                        yield StoredObject(case_id, blob_id, item["LastModified"])

    def check(self) -> None:
        """The bucket exists and these credentials may use it (``HeadBucket``)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise BlobStoreUnavailableError(f"S3 bucket {self.bucket!r} is not usable: {exc}") from exc
