"""Batch results: one body per operation, in order, across chunks; reads; server ids."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from conftest import AUTH
from fault_proxy import FaultProxy, running

from kinto_client import Client, KintoBatchException, KintoException

CHUNK = 25  # kinto.batch_max_requests of the test server


@pytest.fixture
def proxy(server_url: str) -> Iterator[FaultProxy]:
    """A recording proxy in front of the test server."""
    with running(server_url) as p:
        yield p


@pytest.fixture
def scoped(client: Client, bucket: str, collection: str) -> Client:
    return client.clone(bucket=bucket, collection=collection)


def test_results_one_body_per_operation_in_order_across_chunks(scoped, raw):
    n = CHUNK * 2 + 7
    with scoped.batch() as batch:
        for i in range(n):
            batch.create_record({"id": f"r{i:03d}", "n": i})
    results = batch.results()
    assert len(results) == n
    assert [r["data"]["n"] for r in results] == list(range(n))
    assert len(scoped.get_records()) == n


def test_results_mix_writes_and_reads(scoped):
    scoped.create_record({"id": "before", "v": 1})
    with scoped.batch() as batch:
        batch.get_record("before")
        batch.update_record({"id": "before", "v": 2})
        batch.get_record("before")
        batch.get_records()
        batch.get_collection()
        batch.get_bucket()
        batch.get_collections()
        batch.get_groups()
        batch.get_buckets()
    results = batch.results()
    assert results[0]["data"]["v"] == 1
    assert results[1]["data"]["v"] == 2
    assert results[2]["data"]["v"] == 2  # reads see the writes queued before them
    assert [r["id"] for r in results[3]["data"]] == ["before"]
    assert results[4]["data"]["id"] == scoped.collection_name
    assert results[5]["data"]["id"] == scoped.bucket_name
    assert [c["id"] for c in results[6]["data"]] == [scoped.collection_name]
    assert results[7]["data"] == []
    assert scoped.bucket_name in [b["id"] for b in results[8]["data"]]


def test_reads_in_a_batch_return_none_until_sent(scoped):
    scoped.create_record({"id": "r"})
    with scoped.batch() as batch:
        assert batch.get_record("r") is None
        assert batch.get_records() is None
    assert batch.results()[0]["data"]["id"] == "r"


def test_list_read_in_a_batch_takes_filters_and_gives_the_first_page(scoped):
    with scoped.batch() as batch:
        for i in range(15):
            batch.create_record({"id": f"r{i:02d}", "n": i})
    with scoped.batch() as batch:
        batch.get_records(min_n=12, _sort="-n")
        batch.get_records()
    filtered, everything = batch.results()
    assert [r["n"] for r in filtered["data"]] == [14, 13, 12]
    assert len(everything["data"]) == 10  # one page: a batch cannot follow Next-Page


def test_failed_read_in_a_batch_with_ignore_4xx(scoped):
    with scoped.batch(ignore_4xx=True) as batch:
        batch.get_record("missing")
        batch.create_record({"id": "ok"})
    missing, created = batch.results()
    assert missing["code"] == 404
    assert created["data"]["id"] == "ok"
    assert [f["status"] for f in batch.failures()] == [404]


def test_results_are_only_on_batch_clients(scoped):
    with pytest.raises(KintoException, match="batch client"):
        scoped.results()


def test_nested_batch_shares_the_queue(scoped):
    with scoped.batch() as outer:
        outer.create_record({"id": "a"})
        with outer.batch() as inner:
            inner.create_record({"id": "b"})
        assert scoped.get_records() == []  # nothing sent yet
    assert [r["data"]["id"] for r in outer.results()] == ["a", "b"]


def test_update_records_returns_one_body_each(scoped):
    scoped.create_record({"id": "a", "v": 0})
    results = scoped.update_records([{"id": "a", "v": 1}, {"id": "b", "v": 2}])
    assert [r["data"]["v"] for r in results] == [1, 2]
    assert sorted(r["v"] for r in scoped.get_records()) == [1, 2]


# -- server-generated ids --------------------------------------------------------------------


def test_create_record_default_id_is_a_client_side_uuid(scoped):
    created = scoped.create_record({"title": "x"})
    record_id = created["data"]["id"]
    assert str(uuid.UUID(record_id)) == record_id
    assert scoped.get_record(record_id)["data"]["title"] == "x"


def test_create_record_server_id(scoped):
    created = scoped.create_record({"title": "x"}, server_id=True)
    record_id = created["data"]["id"]
    assert scoped.get_record(record_id)["data"]["title"] == "x"
    assert created["permissions"]["write"]


def test_create_record_server_id_in_a_batch(scoped):
    with scoped.batch() as batch:
        for i in range(3):
            batch.create_record({"n": i}, server_id=True)
    server_ids = [r["data"]["id"] for r in batch.results()]
    assert len(set(server_ids)) == 3
    assert sorted(r["id"] for r in scoped.get_records()) == sorted(server_ids)


def test_create_record_server_id_is_ignored_when_an_id_is_given(scoped):
    created = scoped.create_record({"id": "mine"}, server_id=True)
    assert created["data"]["id"] == "mine"


def test_batch_error_names_each_failed_operation(scoped):
    scoped.create_record({"id": "exists"})
    with pytest.raises(KintoBatchException) as error:
        with scoped.batch() as batch:
            batch.create_record({"id": "new"})
            batch.create_record({"id": "exists"})
    assert [f["status"] for f in error.value.failures] == [412]
    assert [c["status"] for c in error.value.committed] == [201]


def test_a_batch_refuses_a_method_it_cannot_carry(scoped, raw):
    with pytest.raises(KintoException, match="cannot carry a 'TRACE' request"):
        with scoped.batch() as batch:
            batch.session.request("trace", "/buckets/x")
    assert scoped.get_records() == []


def test_queued_records_are_not_the_callers_dicts(scoped):
    # The caller's dicts are encoded when queued: changing them afterwards
    # changes nothing sent, and the client never writes into them.
    plain = {"id": "plain", "n": 1}
    renamed = {"id": "Hôtel de ville", "n": 2}
    with scoped.batch() as batch:
        batch.create_record(plain)
        batch.create_record(renamed)
        plain["n"] = 99
        renamed["n"] = 99
    assert renamed == {"id": "Hôtel de ville", "n": 99}
    assert scoped.get_record("plain")["data"]["n"] == 1
    assert scoped.get_record("hotel-de-ville")["data"]["n"] == 2


def test_an_unencodable_record_raises_when_queued(scoped):
    looped: dict[str, object] = {"id": "loop"}
    looped["self"] = looped
    circular = r"at data\.self \(a circular reference\): a value contains itself"
    with pytest.raises(TypeError, match=circular):
        with scoped.batch() as batch:
            batch.create_record({"id": "fine"})
            batch.create_record(looped)
    assert scoped.get_records() == []  # nothing was sent


# -- what each /batch request carries ------------------------------------------------------


def batch_bodies(proxy: FaultProxy) -> list[dict[str, object]]:
    return [json.loads(seen.body) for seen in proxy.requests("POST", "/batch")]


def test_a_chunk_sharing_method_and_headers_sends_them_once(proxy, bucket, collection, raw):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    with client.batch() as batch:
        for i in range(3):
            batch.create_record({"id": f"r{i}", "n": i})

    (body,) = batch_bodies(proxy)
    assert body["defaults"] == {"method": "PUT", "headers": {"If-None-Match": "*"}}
    assert all(set(sub) == {"path", "body"} for sub in body["requests"]), body
    assert [r["data"]["n"] for r in batch.results()] == [0, 1, 2]
    assert sorted(r["id"] for r in client.get_records()) == ["r0", "r1", "r2"]


def test_a_chunk_mixing_methods_and_headers_sends_each_its_own(
    proxy, bucket, collection, raw, server_url
):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    kept = client.create_record({"id": "kept", "v": 1})["data"]
    client.create_record({"id": "over", "v": 1})
    client.create_record({"id": "gone"})
    proxy.reset()

    with client.batch() as batch:
        batch.create_record({"id": "new"})  # PUT, If-None-Match: *
        batch.create_record({"id": "over", "v": 2}, safe=False)  # PUT, no header
        batch.update_record({"id": "kept", "v": 2}, last_modified=kept["last_modified"])
        batch.patch_record(id="kept", data={"w": 3})  # PATCH
        batch.delete_record("gone")  # DELETE

    (body,) = batch_bodies(proxy)
    subs = body["requests"]
    assert "defaults" not in body, body
    assert [sub["method"] for sub in subs] == ["PUT", "PUT", "PUT", "PATCH", "DELETE"]
    assert subs[0]["headers"] == {"If-None-Match": "*"}
    assert "headers" not in subs[1]
    assert subs[2]["headers"] == {"If-Match": f'"{kept["last_modified"]}"'}
    # Each one did what it says, no more: the unguarded PUT overwrote "over".
    records = {r["id"]: r for r in client.get_records()}
    assert set(records) == {"new", "over", "kept"}
    assert records["over"]["v"] == 2
    assert (records["kept"]["v"], records["kept"]["w"]) == (2, 3)


def test_a_chunk_sharing_the_method_only_puts_headers_in_each(proxy, bucket, collection):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    client.create_record({"id": "old", "v": 1})
    proxy.reset()
    with client.batch() as batch:
        batch.create_record({"id": "fresh"})  # If-None-Match: *
        batch.create_record({"id": "old", "v": 2}, safe=False)  # none

    (body,) = batch_bodies(proxy)
    assert body["defaults"] == {"method": "PUT"}
    assert body["requests"][0]["headers"] == {"If-None-Match": "*"}
    assert "headers" not in body["requests"][1]
    assert client.get_record("old")["data"]["v"] == 2
