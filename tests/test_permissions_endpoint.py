"""GET /permissions: every object the current user has permissions on, all pages.

The test server pages lists by 10, and the endpoint is enabled there with
``kinto.experimental_permissions_endpoint = true``.
"""

from __future__ import annotations

import pytest
from conftest import read_all

from kinto_client import Client

pytestmark = pytest.mark.functional

OTHER_AUTH = ("leplatrem", "s3cr3t")


def _raw_permissions(raw, server_url: str) -> list[dict]:
    return read_all(raw, server_url + "/permissions")


def test_get_permissions_follows_every_page(client, bucket, collection, raw):
    with client.batch(bucket=bucket, collection=collection) as batch:
        for i in range(22):
            batch.create_record({"n": i}, id=f"r{i}")
    permissions = client.get_permissions()
    expected = _raw_permissions(raw, client.server_url)
    # 22 records, the collection, the bucket, the root (bucket:create).
    assert len(expected) == 25
    assert sorted(p["uri"] for p in permissions) == sorted(p["uri"] for p in expected)
    by_uri = {p["uri"]: p for p in permissions}
    assert set(by_uri[f"/buckets/{bucket}"]["permissions"]) >= {"read", "write"}
    record = by_uri[f"/buckets/{bucket}/collections/{collection}/records/r7"]
    assert record["resource_name"] == "record"
    assert (record["bucket_id"], record["collection_id"], record["id"]) == (
        bucket,
        collection,
        "r7",
    )
    assert "write" in record["permissions"]


def test_get_permissions_filters(client, bucket, collection):
    client.create_record({"n": 1}, id="a", collection=collection, bucket=bucket)
    client.create_group("team", bucket=bucket, data={"members": []})
    records = client.get_permissions(resource_name="record")
    assert [p["uri"] for p in records] == [f"/buckets/{bucket}/collections/{collection}/records/a"]
    groups = client.get_permissions(resource_name="group", bucket_id=bucket)
    assert [p["id"] for p in groups] == ["team"]


def test_get_permissions_pages(client, bucket, collection):
    for i in range(5):
        client.create_record({"n": i}, id=f"r{i}", collection=collection, bucket=bucket)
    assert len(client.get_permissions(_limit=2, pages=1)) == 2
    assert len(client.get_permissions(_limit=2, pages=2)) == 4
    assert len(client.get_permissions(_limit=2)) == 8


def test_get_permissions_is_per_user(client, bucket, collection, server_url):
    client.create_record(
        {"public": True},
        id="shared",
        collection=collection,
        bucket=bucket,
        permissions={"read": ["system.Authenticated"]},
    )
    client.create_record({"public": False}, id="private", collection=collection, bucket=bucket)
    other = Client(server_url=server_url, auth=OTHER_AUTH)
    seen = {p["uri"]: p["permissions"] for p in other.get_permissions(resource_name="record")}
    assert seen == {f"/buckets/{bucket}/collections/{collection}/records/shared": ["read"]}
