"""History (kinto.plugins.history): read over all pages, filter, purge, snapshots.

The test server pages lists by 10 (``kinto.paginate_by``), so 25 changes make
three pages.
"""

from __future__ import annotations

import pytest
from conftest import read_all

from kinto_client import Client
from kinto_client.exceptions import KintoHTTPError

pytestmark = pytest.mark.functional


def _history_url(client: Client, bucket: str) -> str:
    return f"{client.server_url}/buckets/{bucket}/history"


def _all_history(raw, client: Client, bucket: str) -> list[dict]:
    """Every entry, read with plain requests (following Next-Page)."""
    return read_all(raw, _history_url(client, bucket))


def test_get_history_follows_every_page(client, bucket, collection, raw):
    for i in range(24):
        client.create_record({"n": i}, id=f"r{i}", collection=collection, bucket=bucket)
    history = client.get_history(bucket=bucket)
    expected = _all_history(raw, client, bucket)
    assert len(expected) == 26  # the bucket, the collection, 24 records
    assert [e["id"] for e in history] == [e["id"] for e in expected]
    assert history[0]["action"] == "create" and history[0]["resource_name"] == "record"
    assert history[0]["target"]["data"]["n"] == 23  # newest first
    assert history.timestamp == int(
        raw.get(_history_url(client, bucket), timeout=10).headers["ETag"].strip('"')
    )


def test_get_history_filters(client, bucket, collection):
    client.create_record({"v": 1}, id="a", collection=collection, bucket=bucket)
    client.patch_record({"v": 2}, id="a", collection=collection, bucket=bucket)
    client.create_record({"v": 1}, id="b", collection=collection, bucket=bucket)
    client.delete_record("b", collection=collection, bucket=bucket)

    of_a = client.get_history(bucket=bucket, record_id="a", _sort="last_modified")
    assert [e["action"] for e in of_a] == ["create", "update"]
    assert [e["target"]["data"]["v"] for e in of_a] == [1, 2]

    deletes = client.get_history(bucket=bucket, action="delete")
    assert [(e["record_id"], e["resource_name"]) for e in deletes] == [("b", "record")]

    records = client.get_history(bucket=bucket, resource_name="record", collection_id=collection)
    assert len(records) == 4
    assert client.get_history(bucket=bucket, resource_name="group") == []


def test_get_history_pages_and_page_size(client, bucket, collection):
    for i in range(8):
        client.create_record({"n": i}, id=f"r{i}", collection=collection, bucket=bucket)
    first_page = client.get_history(bucket=bucket, _limit=3, pages=1)
    assert len(first_page) == 3
    two_pages = client.get_history(bucket=bucket, _limit=3, pages=2)
    assert len(two_pages) == 6
    assert two_pages[:3] == first_page
    assert len(client.get_history(bucket=bucket, _limit=3)) == 10


def test_get_history_uses_the_client_bucket(server_url, flush, bucket, collection):
    client = Client(server_url=server_url, auth=("alexis", "p4ssw0rd"), bucket=bucket)
    client.create_record({"x": 1}, id="r", collection=collection)
    assert {e["uri"] for e in client.get_history()} >= {
        f"/buckets/{bucket}/collections/{collection}/records/r"
    }


def test_get_history_since(client, bucket, collection):
    client.create_record({"v": 1}, id="a", collection=collection, bucket=bucket)
    since = client.get_history(bucket=bucket).timestamp
    client.patch_record({"v": 2}, id="a", collection=collection, bucket=bucket)
    newer = client.get_history(bucket=bucket, _since=since)
    assert [(e["action"], e["target"]["data"]["v"]) for e in newer] == [("update", 2)]


def test_purge_history_deletes_every_page(client, bucket, collection, raw):
    for i in range(23):
        client.create_record({"n": i}, id=f"r{i}", collection=collection, bucket=bucket)
    assert len(_all_history(raw, client, bucket)) == 25
    purged = client.purge_history(bucket=bucket)
    assert len(purged) == 25
    assert all(entry["deleted"] for entry in purged)
    assert _all_history(raw, client, bucket) == []
    # The data itself is untouched.
    assert len(client.get_records(collection=collection, bucket=bucket)) == 23


def test_purge_history_with_a_filter(client, bucket, collection, raw):
    client.create_record({"v": 1}, id="a", collection=collection, bucket=bucket)
    client.create_record({"v": 1}, id="b", collection=collection, bucket=bucket)
    client.purge_history(bucket=bucket, record_id="a")
    left = _all_history(raw, client, bucket)
    assert "a" not in {e.get("record_id") for e in left}
    assert "b" in {e.get("record_id") for e in left}


def test_history_of_another_users_bucket_is_forbidden(client, bucket, server_url):
    other = Client(server_url=server_url, auth=("leplatrem", "s3cr3t"))
    with pytest.raises(KintoHTTPError) as exc_info:
        other.get_history(bucket=bucket)
    assert exc_info.value.status_code == 403


def test_collection_snapshot_rebuilds_a_past_state(client, bucket, collection):
    client.create_record({"v": 1}, id="a", collection=collection, bucket=bucket)
    client.create_record({"v": 1}, id="b", collection=collection, bucket=bucket)
    before = client.get_records(collection=collection, bucket=bucket).timestamp
    client.patch_record({"v": 2}, id="a", collection=collection, bucket=bucket)
    client.delete_record("b", collection=collection, bucket=bucket)
    client.create_record({"v": 1}, id="c", collection=collection, bucket=bucket)

    snapshot = client.get_collection_snapshot(before, collection=collection, bucket=bucket)
    assert sorted((r["id"], r["v"]) for r in snapshot) == [("a", 1), ("b", 1)]
    now = client.get_records(collection=collection, bucket=bucket)
    assert sorted((r["id"], r["v"]) for r in now) == [("a", 2), ("c", 1)]


@pytest.mark.parametrize("timestamp", [-1, "123", 1.5, True, None])
def test_collection_snapshot_checks_the_timestamp(client, timestamp):
    with pytest.raises(ValueError, match="timestamp must be a collection timestamp"):
        client.get_collection_snapshot(timestamp, collection="c", bucket="b")
