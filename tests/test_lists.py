"""Lists, plural deletes, if_exists / if_not_exists at every level, in and out of batches."""

from __future__ import annotations

import pytest
import requests
from conftest import read_all

from kinto_client import Client, KintoBatchException, KintoHTTPError

PAGE = 10  # kinto.paginate_by of the test server


def ids(raw: requests.Session, url: str) -> list[str]:
    """Every id of a list, read with plain HTTP (all pages)."""
    return sorted(o["id"] for o in read_all(raw, url))


def fill(client: Client, n: int, collection: str, bucket: str) -> None:
    with client.batch(bucket=bucket, collection=collection) as batch:
        for i in range(n):
            batch.create_record({"id": f"r{i:02d}", "n": i, "even": i % 2 == 0})


@pytest.fixture
def records_url(client, bucket, collection) -> str:
    return f"{client.server_url}/buckets/{bucket}/collections/{collection}/records"


# -- lists ---------------------------------------------------------------------------


def test_get_buckets_lists_every_page(client):
    with client.batch() as batch:
        for i in range(PAGE * 2 + 3):
            batch.create_bucket(f"b{i:02d}")
    names = {b["id"] for b in client.get_buckets()}
    assert {f"b{i:02d}" for i in range(23)} <= names
    assert client.count_buckets() == len(names)
    assert len(client.get_buckets(pages=1)) == PAGE


def test_get_collections_lists_every_page(client, bucket):
    with client.batch(bucket=bucket) as batch:
        for i in range(23):
            batch.create_collection(f"c{i:02d}")
    collections = client.get_collections(bucket=bucket)
    assert sorted(c["id"] for c in collections) == [f"c{i:02d}" for i in range(23)]
    assert client.count_collections(bucket=bucket) == 23


def test_get_records_lists_every_page(client, bucket, collection):
    fill(client, 25, collection, bucket)
    records = client.get_records(collection=collection, bucket=bucket)
    assert sorted(r["id"] for r in records) == [f"r{i:02d}" for i in range(25)]
    assert records["data"] is records  # the 4.0 documentation's records['data']


def test_get_paginated_records_yields_each_page_as_sent(client, bucket, collection):
    fill(client, 25, collection, bucket)
    pages = client.get_paginated_records(collection, bucket, _limit=10, _sort="id")
    first = next(pages)  # one page fetched, not the next ones yet
    assert [r["id"] for r in first["data"]] == [f"r{i:02d}" for i in range(10)]
    rest = list(pages)
    assert [len(page["data"]) for page in rest] == [10, 5]
    assert [r["id"] for r in rest[-1]["data"]] == [f"r{i:02d}" for i in range(20, 25)]
    two = client.get_paginated_records(collection, bucket, pages=2, _limit=10)
    assert [len(page["data"]) for page in two] == [10, 10]


def test_get_paginated_records_yields_nothing_when_nothing_changed(client, bucket, collection):
    fill(client, 3, collection, bucket)
    timestamp = client.get_records(collection=collection, bucket=bucket).timestamp
    pages = client.get_paginated_records(collection, bucket, if_none_match=timestamp)
    assert list(pages) == []
    client.create_record({"id": "new"}, collection=collection, bucket=bucket)
    pages = client.get_paginated_records(collection, bucket, if_none_match=timestamp)
    assert sorted(r["id"] for page in pages for r in page["data"]) == ["new", "r00", "r01", "r02"]


# -- plural deletes ------------------------------------------------------------------


def test_delete_records_without_records_deletes_all_pages(client, raw, bucket, collection):
    fill(client, 25, collection, bucket)
    deleted = client.delete_records(collection=collection, bucket=bucket)
    assert sorted(d["id"] for d in deleted) == [f"r{i:02d}" for i in range(25)]
    assert all(d["deleted"] for d in deleted)
    url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records"
    assert ids(raw, url) == []


def test_delete_records_with_filters_deletes_only_matching(
    client, raw, records_url, bucket, collection
):
    fill(client, 25, collection, bucket)
    deleted = client.delete_records(collection=collection, bucket=bucket, even=True)
    assert len(deleted) == 13
    assert ids(raw, records_url) == [f"r{i:02d}" for i in range(1, 25, 2)]


def test_delete_records_with_a_small_limit_still_deletes_everything(
    client, raw, records_url, bucket, collection
):
    fill(client, 12, collection, bucket)
    deleted = client.delete_records(collection=collection, bucket=bucket, _limit=5)
    assert len(deleted) == 12
    assert ids(raw, records_url) == []


def test_delete_records_given_records_and_ids(client, raw, records_url, bucket, collection):
    fill(client, 5, collection, bucket)
    records = client.get_records(collection=collection, bucket=bucket, in_id=["r00", "r01"])
    deleted = client.delete_records([*records, "r02"], collection=collection, bucket=bucket)
    assert sorted(d["id"] for d in deleted) == ["r00", "r01", "r02"]
    assert ids(raw, records_url) == ["r03", "r04"]


def test_delete_records_rejects_records_and_filters_together(client, bucket, collection):
    with pytest.raises(TypeError, match="either records or filters"):
        client.delete_records(["r1"], collection=collection, bucket=bucket, even=True)


def test_delete_collections_deletes_all_pages(client, raw, bucket):
    with client.batch(bucket=bucket) as batch:
        for i in range(23):
            batch.create_collection(f"c{i:02d}")
    assert len(client.delete_collections(bucket=bucket)) == 23
    assert ids(raw, f"{client.server_url}/buckets/{bucket}/collections") == []


def test_delete_buckets_deletes_all_pages(client, raw):
    with client.batch() as batch:
        for i in range(23):
            batch.create_bucket(f"b{i:02d}")
    deleted = client.delete_buckets()
    assert {f"b{i:02d}" for i in range(23)} <= {d["id"] for d in deleted}
    assert ids(raw, f"{client.server_url}/buckets") == []


def test_delete_buckets_spares_buckets_of_others(client, server_url, raw):
    other = Client(server_url=server_url, auth=("leplatrem", "s3cr3t"))
    other.create_bucket("theirs")
    client.create_bucket("mine")
    assert [d["id"] for d in client.delete_buckets()] == ["mine"]
    assert other.get_bucket("theirs")["data"]["id"] == "theirs"


# -- if_exists on every delete ---------------------------------------------------------


def test_delete_bucket_if_exists(client):
    with pytest.raises(KintoHTTPError):
        client.delete_bucket("missing")
    assert client.delete_bucket("missing", if_exists=True) is None


def test_delete_bucket_if_exists_still_fails_on_a_visible_bucket_of_another(client, server_url):
    other = Client(server_url=server_url, auth=("leplatrem", "s3cr3t"))
    other.create_bucket("theirs", permissions={"read": ["system.Authenticated"]})
    with pytest.raises(KintoHTTPError) as error:
        client.delete_bucket("theirs", if_exists=True)
    assert error.value.status_code == 403
    assert other.get_bucket("theirs")["data"]["id"] == "theirs"


def test_delete_collection_if_exists(client, bucket):
    with pytest.raises(KintoHTTPError):
        client.delete_collection("missing", bucket=bucket)
    assert client.delete_collection("missing", bucket=bucket, if_exists=True) is None
    assert client.delete_collection("c", bucket="missing-bucket", if_exists=True) is None


def test_delete_record_if_exists(client, bucket, collection):
    with pytest.raises(KintoHTTPError):
        client.delete_record("missing", collection=collection, bucket=bucket)
    assert (
        client.delete_record("missing", collection=collection, bucket=bucket, if_exists=True)
        is None
    )


def test_plural_deletes_if_exists_on_missing_parents(client, bucket):
    assert client.delete_collections(bucket="missing", if_exists=True) == []
    assert client.delete_records(collection="missing", bucket=bucket, if_exists=True) == []
    with pytest.raises(KintoHTTPError):
        client.delete_records(collection="missing", bucket=bucket)


def test_delete_records_given_ids_if_exists(client, raw, records_url, bucket, collection):
    fill(client, 2, collection, bucket)
    with pytest.raises(KintoBatchException):
        client.delete_records(["r00", "nope"], collection=collection, bucket=bucket)
    deleted = client.delete_records(
        ["r01", "nope"], collection=collection, bucket=bucket, if_exists=True
    )
    assert deleted[0]["id"] == "r01" and deleted[1] is None
    assert ids(raw, records_url) == []


# -- if_not_exists on every create ---------------------------------------------------------


def test_create_if_not_exists_at_every_level(client, raw, bucket, collection):
    assert client.create_bucket(bucket, data={"x": 1}, if_not_exists=True)["data"]["id"] == bucket
    again = client.create_collection(collection, bucket=bucket, data={"x": 1}, if_not_exists=True)
    assert "x" not in again["data"]
    client.create_record({"id": "r", "v": 1}, collection=collection, bucket=bucket)
    existing = client.create_record(
        {"id": "r", "v": 2}, collection=collection, bucket=bucket, if_not_exists=True
    )
    assert existing["data"]["v"] == 1
    url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records/r"
    assert raw.get(url).json()["data"]["v"] == 1


def test_if_not_exists_and_if_exists_inside_a_batch(client, raw, bucket, collection):
    client.create_record({"id": "kept", "v": 1}, collection=collection, bucket=bucket)
    with client.batch(bucket=bucket, collection=collection) as batch:
        batch.create_bucket(bucket, if_not_exists=True)
        batch.create_collection(collection, if_not_exists=True)
        batch.create_group("g", data={"members": []}, if_not_exists=True)
        batch.create_group("g", data={"members": ["x"]}, if_not_exists=True)
        batch.create_record({"id": "kept", "v": 2}, if_not_exists=True)
        batch.delete_record("missing", if_exists=True)
        batch.delete_collection("missing", if_exists=True)
        batch.delete_group("missing", if_exists=True)
        batch.delete_bucket("missing-bucket", if_exists=True)
        batch.delete_records(if_exists=True, collection="missing")
    results = batch.results()
    assert results[0]["data"]["id"] == bucket
    assert results[1]["data"]["id"] == collection
    assert results[2]["data"]["members"] == []
    assert results[3]["data"]["members"] == []  # the existing group, not overwritten
    assert results[4]["data"]["v"] == 1
    assert results[5:] == [None] * 5
    url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records/kept"
    assert raw.get(url).json()["data"]["v"] == 1
    assert raw.get(f"{client.server_url}/buckets/{bucket}/groups/g").json()["data"]["members"] == []


def test_without_if_exists_a_batch_delete_of_a_missing_object_fails(client, bucket, collection):
    with pytest.raises(KintoBatchException) as error:
        with client.batch(bucket=bucket, collection=collection) as batch:
            batch.delete_record("missing")
    assert error.value.failures[0]["status"] == 404
