"""Batches that half-fail, through the fault proxy, against a real Kinto server.

The test server's ``batch_max_requests`` is 25, so 80 operations are sent in
four chunks (25, 25, 25, 5).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fault_proxy import HTML_502, FaultProxy, batch_subs

from kinto_client import KintoBatchException, Retry

FAST = Retry(total=2, backoff_factor=0.01)


@pytest.fixture
def fast_retry() -> Retry:
    return FAST


@pytest.fixture
def stored(
    stored: Callable[[], list[dict[str, Any]]],
) -> Callable[[], dict[str, dict[str, Any]]]:
    """The records of the collection by id, read from the server directly."""
    return lambda: {r["id"]: r for r in stored()}


def path_is(*ids: str) -> Callable[[dict[str, Any]], bool]:
    return lambda sub: sub["path"].rsplit("/", 1)[-1] in ids


def sub_requests(proxy: FaultProxy) -> list[list[str]]:
    """The record ids carried by each ``POST /batch`` the proxy saw."""
    import json

    return [
        [sub["path"].rsplit("/", 1)[-1] for sub in batch_subs(json.loads(s.body))]
        for s in proxy.requests("POST", "/batch")
    ]


# -- sub-request retries -------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_failed_sub_requests_are_retried_alone(proxy, make_client, stored, status):
    proxy.add("batch", sub_match=path_is("r1", "r3"), status=status)
    client = make_client()
    with client.batch() as batch:
        for i in range(5):
            batch.create_record(data={"n": i}, id=f"r{i}")
    assert sub_requests(proxy) == [["r0", "r1", "r2", "r3", "r4"], ["r1", "r3"]]
    assert [body["data"]["id"] for body in batch.results()] == [f"r{i}" for i in range(5)]
    assert batch.failures() == []
    assert sorted(stored()) == [f"r{i}" for i in range(5)]


def test_a_409_sub_response_resends_the_writes_kinto_rolled_back(proxy, make_client, stored):
    """Kinto aborts a /batch transaction on a 409 sub-response (PostgreSQL
    conflict): the writes answered before it are undone, so they are sent
    again with it. The memory backend keeps them: the resent creates then get
    412 and count as landed, since the stored objects equal what was sent."""
    proxy.add("batch", sub_match=path_is("r2"), status=409)
    client = make_client()
    with client.batch() as batch:
        for i in range(5):
            batch.create_record(data={"n": i}, id=f"r{i}")
    assert sub_requests(proxy) == [["r0", "r1", "r2", "r3", "r4"], ["r0", "r1", "r2"]]
    assert [body["data"]["n"] for body in batch.results()] == list(range(5))
    assert {k: v["n"] for k, v in stored().items()} == {f"r{i}": i for i in range(5)}


def test_writes_rolled_back_by_a_persistent_409_are_reported(proxy, make_client, stored):
    proxy.add("batch", sub_match=path_is("r2"), status=409, times=100)
    client = make_client(retry=Retry(total=1, backoff_factor=0.01))
    with pytest.raises(KintoBatchException) as caught:
        with client.batch(ignore_4xx=True) as batch:  # a rollback is never ignored
            for i in range(4):
                batch.create_record(data={"n": i}, id=f"r{i}")
    outcomes = [r["outcome"] for r in caught.value.results]
    assert outcomes == ["rolled back", "rolled back", "failed", "committed"]
    assert "r0: rolled back (a later 409 in the same /batch request undid it)" in str(caught.value)
    assert sub_requests(proxy) == [["r0", "r1", "r2", "r3"], ["r0", "r1", "r2"]]


def test_sub_response_retry_after_is_honoured(proxy, make_client, caplog):
    caplog.set_level(logging.INFO, logger="kinto_client")
    proxy.add("batch", sub_match=path_is("r1"), status=429, headers={"Retry-After": "0"})
    client = make_client(retry=Retry(total=1, backoff_factor=10))  # 5-10 s if ignored
    with client.batch() as batch:
        batch.create_record(data={}, id="r0")
        batch.create_record(data={}, id="r1")
    assert sub_requests(proxy) == [["r0", "r1"], ["r1"]]
    assert "in 0.00s" in caplog.text


def test_batch_reply_lost_is_replayed_without_duplicates(proxy, make_client, stored):
    proxy.add("drop_after", method="POST", path="/batch")
    client = make_client()
    with client.batch() as batch:
        batch.create_record(data={"title": "a"})  # ids drawn once, at queue time
        batch.create_record(data={"title": "b"})
        batch.delete_record(id="missing", if_exists=True)
    assert proxy.count("POST", "/batch") == 2
    first, second = sub_requests(proxy)
    assert first == second
    ids = [body["data"]["id"] for body in batch.results()[:2]]
    assert sorted(stored()) == sorted(ids)
    assert [stored()[i]["title"] for i in ids] == ["a", "b"]


def test_batch_with_a_server_id_post_is_not_replayed(proxy, make_client, stored):
    proxy.add("drop_after", method="POST", path="/batch")
    client = make_client()
    with pytest.raises(KintoBatchException) as error:
        with client.batch() as batch:
            batch.create_record(data={"title": "posted"}, server_id=True)
    assert proxy.count("POST", "/batch") == 1
    [result] = error.value.results
    assert result["outcome"] == "unknown"
    assert "may have been applied" in str(error.value)
    assert [r["title"] for r in stored().values()] == ["posted"]


# -- failures that remain -----


def test_sending_stops_at_the_first_chunk_holding_a_failure(
    proxy, make_client, stored, raw, server_url, bucket, collection
):
    """As in kinto-client 4.0: chunk 1 holds a 412 (r03 exists), so the
    chunks after it are not sent; every operation is reported."""
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/r03"
    assert raw.put(url, json={"data": {"n": "original"}}, timeout=10).status_code == 201
    client = make_client()
    with pytest.raises(KintoBatchException) as caught:
        with client.batch() as batch:
            for i in range(80):
                batch.create_record(data={"n": i}, id=f"r{i:02d}")
    error = caught.value
    assert [len(ids) for ids in sub_requests(proxy)] == [25]
    outcomes = {r["request"]["path"].rsplit("/", 1)[-1]: r for r in error.results}
    assert len(error.results) == 80
    assert outcomes["r03"]["outcome"] == "failed" and outcomes["r03"]["status"] == 412
    assert outcomes["r03"]["response"]["body"]["details"]["existing"]["n"] == "original"
    assert all(outcomes[f"r{i:02d}"]["outcome"] == "not sent" for i in range(25, 80))
    committed = {r["request"]["path"].rsplit("/", 1)[-1] for r in error.committed}
    assert committed == {f"r{i:02d}" for i in range(25)} - {"r03"}
    assert len(error.not_sent) == 55 and error.request == outcomes["r03"]["request"]
    message = str(error)
    assert "56 of 80 batch operations did not succeed (1 failed, 55 not sent); 24 committed" in (
        message
    )
    assert "/records/r03: 412" in message and "55 operation(s) never sent" in message
    data = stored()
    assert sorted(data) == sorted(committed | {"r03"}) and data["r03"]["n"] == "original"


def test_every_operation_is_reported_across_chunks(
    proxy, make_client, stored, raw, server_url, bucket, collection
):
    """With ignore_4xx, chunk 1's 412 does not stop the batch. Chunk 2: r30
    keeps failing (503: it may have been applied, so its outcome is unknown),
    and that stops the batch: chunks 3 and 4 are never sent."""
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/r03"
    assert raw.put(url, json={"data": {"n": "original"}}, timeout=10).status_code == 201
    proxy.add("batch", sub_match=path_is("r30"), status=503, times=100)
    client = make_client()
    with pytest.raises(KintoBatchException) as caught:
        with client.batch(ignore_4xx=True) as batch:
            for i in range(80):
                batch.create_record(data={"n": i}, id=f"r{i:02d}")
    error = caught.value
    # Attempts: chunk 1 once; chunk 2 once + r30 alone twice; then stop.
    assert [len(ids) for ids in sub_requests(proxy)] == [25, 25, 1, 1]
    outcomes = {r["request"]["path"].rsplit("/", 1)[-1]: r for r in error.results}
    assert outcomes["r03"]["outcome"] == "failed" and outcomes["r03"]["status"] == 412
    assert outcomes["r30"]["outcome"] == "unknown" and outcomes["r30"]["status"] == 503
    assert all(outcomes[f"r{i:02d}"]["outcome"] == "not sent" for i in range(50, 80))
    committed = {r["request"]["path"].rsplit("/", 1)[-1] for r in error.committed}
    assert committed == {f"r{i:02d}" for i in range(50)} - {"r03", "r30"}
    message = str(error)
    assert "32 of 80 batch operations did not succeed" in message
    assert "/records/r30: 503" in message and "30 operation(s) never sent" in message
    assert sorted(stored()) == sorted(committed | {"r03"})


def test_a_failed_batch_request_reports_unknown_then_not_sent(proxy, make_client, stored):
    """Chunk 2's /batch request itself fails (HTML 502, after it may have
    reached Kinto): its operations are unknown, the next chunks not sent."""
    proxy.add("respond", method="POST", path="/batch", status=502, body=HTML_502, skip=1, times=100)
    client = make_client()
    with pytest.raises(KintoBatchException) as caught:
        with client.batch() as batch:
            for i in range(80):
                batch.create_record(data={"n": i}, id=f"r{i:02d}")
    error = caught.value
    assert [len(ids) for ids in sub_requests(proxy)] == [25, 25, 25, 25]
    outcomes = [r["outcome"] for r in error.results]
    assert outcomes == ["committed"] * 25 + ["unknown"] * 25 + ["not sent"] * 30
    message = str(error)
    assert "25 operation(s) in a /batch request that failed: outcome unknown" in message
    assert "chunk error: 502 - Bad Gateway" in message
    assert sorted(stored()) == [f"r{i:02d}" for i in range(25)]


def test_a_failed_chunk_never_hides_earlier_failures(
    proxy, make_client, raw, server_url, bucket, collection
):
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/r01"
    assert raw.put(url, json={"data": {}}, timeout=10).status_code == 201
    proxy.add("respond", method="POST", path="/batch", status=500, skip=1, times=100)
    client = make_client(retry=0)
    with pytest.raises(KintoBatchException) as caught:
        with client.batch(ignore_4xx=True) as batch:
            for i in range(30):
                batch.create_record(data={}, id=f"r{i:02d}")
    failed = [r for r in caught.value.failures if r["outcome"] == "failed"]
    assert [(r["request"]["path"][-3:], r["status"]) for r in failed] == [("r01", 412)]
    assert len(caught.value.exceptions) == 1
    assert str(caught.value.exceptions[0]).startswith("500 - ")


@pytest.mark.parametrize("how", ["batch_argument", "client_option"])
def test_ignored_4xx_are_still_reported(proxy, server_url, make_client, stored, how):
    client = make_client(ignore_batch_4xx=how == "client_option")
    client.create_record(data={"n": "first"}, id="r1")
    options = {"ignore_4xx": True} if how == "batch_argument" else {}
    with client.batch(**options) as batch:
        batch.create_record(data={"n": "second"}, id="r1")
        batch.create_record(data={"n": "new"}, id="r2")
    [failure] = batch.failures()
    assert failure["status"] == 412 and failure["outcome"] == "failed"
    assert failure["request"]["path"].endswith("/records/r1")
    assert failure["response"]["body"]["details"]["existing"]["n"] == "first"
    assert {k: v["n"] for k, v in stored().items()} == {"r1": "first", "r2": "new"}


def test_4xx_raise_without_the_option(proxy, make_client, stored):
    client = make_client()
    client.create_record(data={}, id="r1")
    with pytest.raises(KintoBatchException) as caught:
        with client.batch() as batch:
            batch.create_record(data={}, id="r1")
            batch.create_record(data={}, id="r2")
    assert [r["outcome"] for r in caught.value.results] == ["failed", "committed"]
    assert caught.value.response["status"] == 412
    assert sorted(stored()) == ["r1", "r2"]


def test_nothing_is_sent_when_the_block_raises(proxy, make_client, stored):
    client = make_client()
    with pytest.raises(RuntimeError):
        with client.batch() as batch:
            batch.create_record(data={"n": 1}, id="r1")
            raise RuntimeError("changed my mind")
    with pytest.raises(TypeError):
        with client.batch() as batch:
            batch.create_record(data={"n": 1}, id="r1")
            batch.create_record(data=["not", "a", "dict"], id="r2")
    assert proxy.count("POST", "/batch") == 0
    assert proxy.count("PUT") == 0
    assert stored() == {}
