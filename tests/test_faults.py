"""Faults injected by a real proxy on loopback in front of a real Kinto server.

For each scenario: the data on the server afterwards (read directly, not
through the proxy) is exactly what the caller asked for, the number of
attempts the proxy saw matches the retry policy, and the error raised (if
any) says what happened.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
import traceback
import warnings
from collections.abc import Callable

import pytest
import requests
from conftest import AUTH
from fault_proxy import HTML_502
from kinto_server import free_port

from kinto_client import (
    BackoffException,
    Client,
    KintoConnectionError,
    KintoHTTPError,
    KintoTimeout,
    Retry,
    Session,
)

#: Fast retries: tiny backoff, no fixed wait.


@pytest.fixture
def waits(caplog: pytest.LogCaptureFixture) -> Callable[[], list[float]]:
    """The waits the session computed before each retry (from its INFO log records)."""
    caplog.set_level(logging.INFO, logger="kinto_client")

    def read() -> list[float]:
        return [
            r.kinto_wait
            for r in caplog.records
            if hasattr(r, "kinto_wait") and hasattr(r, "kinto_attempt")
        ]

    return read


def records_path(bucket: str, collection: str) -> str:
    return f"/buckets/{bucket}/collections/{collection}/records"


# -- throttling and server errors -----


def test_503_with_retry_after_seconds_waits_what_the_server_asked(
    proxy, make_client, stored, waits, bucket, collection
):
    proxy.add("respond", method="PUT", status=503, headers={"Retry-After": "1"})
    client = make_client(retry=Retry(total=2, backoff_factor=10))
    record = client.create_record(data={"title": "one"}, id="r1")
    assert record["data"]["title"] == "one"
    assert proxy.count("PUT", "/records/r1") == 2
    assert waits() == [1.0]
    assert [(r["id"], r["title"]) for r in stored()] == [("r1", "one")]


def test_retry_after_as_an_http_date(proxy, make_client, waits):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    proxy.add("respond", method="GET", status=503, headers={"Retry-After": when})
    client = make_client(retry=Retry(total=1, backoff_factor=10))
    assert client.get_records() == []
    assert proxy.count("GET") == 2
    [wait] = waits()
    assert 0.5 < wait <= 2.0  # the date, not the 5-10 s backoff


def test_no_retry_after_gives_exponential_backoff_with_jitter(proxy, make_client, stored, waits):
    proxy.add("respond", method="PUT", status=503, times=3)
    client = make_client(retry=Retry(total=3, backoff_factor=0.01))
    client.create_record(data={"n": 1}, id="r1")
    assert proxy.count("PUT") == 4
    observed = waits()
    assert len(observed) == 3
    for n, wait in enumerate(observed):
        ceiling = 0.01 * 2**n
        assert ceiling / 2 <= wait <= ceiling  # never 0: no tight loop
    assert len(stored()) == 1


def test_fixed_retry_after_argument_overrides_the_server(proxy, make_client, waits):
    proxy.add("respond", method="GET", status=503, headers={"Retry-After": "30"}, times=2)
    client = make_client(retry=2, retry_after=0)
    assert client.get_records() == []
    assert proxy.count("GET") == 3
    assert waits() == [0.0, 0.0]


def test_retries_exhausted_say_how_many_attempts(proxy, make_client, stored):
    proxy.add("respond", method="PUT", status=503, times=10)
    client = make_client(retry=Retry(total=2, backoff_factor=0.01))
    with pytest.raises(KintoHTTPError) as error:
        client.create_record(data={"n": 1}, id="r1")
    assert error.value.status_code == 503
    message = str(error.value)
    assert message.startswith("503 - ")
    assert "after 3 attempts" in message and "all 2 retries used" in message
    assert proxy.count("PUT") == 3
    assert stored() == []


def test_retry_budget_stops_before_a_wait_that_would_exceed_it(proxy, make_client):
    proxy.add("respond", method="GET", status=503, headers={"Retry-After": "5"}, times=10)
    client = make_client(retry=Retry(total=5, budget=1.0))
    with pytest.raises(KintoHTTPError) as error:
        client.get_records()
    assert proxy.count("GET") == 1
    assert "retry budget of 1s would be exceeded" in str(error.value)


@pytest.mark.parametrize("status", [400, 403, 404, 412])
def test_other_4xx_are_not_retried(proxy, make_client, status):
    proxy.add("respond", method="GET", status=status, times=10)
    client = make_client(retry=Retry(total=3, backoff_factor=0.01))
    with pytest.raises(KintoHTTPError) as error:
        client.get_records()
    assert error.value.status_code == status
    assert proxy.count("GET") == 1
    assert "attempts" not in str(error.value)


def test_real_412_from_the_server_is_not_retried(proxy, make_client, stored):
    client = make_client()
    client.create_record(data={"v": 1}, id="r1")
    with pytest.raises(KintoHTTPError) as error:
        client.create_record(data={"v": 2}, id="r1")
    assert error.value.status_code == 412
    assert proxy.count("PUT", "/records/r1") == 2  # one per call
    assert [r["v"] for r in stored()] == [1]


def test_retry_stops_at_the_first_success(proxy, make_client, stored):
    proxy.add("respond", method="PUT", status=500, times=1)
    client = make_client(retry=Retry(total=5, backoff_factor=0.01))
    client.create_record(data={"n": 1}, id="r1")
    assert proxy.count("PUT") == 2
    assert len(stored()) == 1


def test_html_502_gives_a_readable_message(proxy, make_client):
    proxy.add(
        "respond", method="GET", status=502, body=HTML_502, times=10,
        headers={"Content-Type": "text/html"},
    )  # fmt: skip
    client = make_client(retry=Retry(total=1, backoff_factor=0.01))
    try:
        client.get_records()
    except KintoHTTPError as error:
        text = "".join(traceback.format_exception(error))
        message = str(error)
    else:
        pytest.fail("a 502 must raise")
    assert message.startswith("502 - Bad Gateway (the server sent text/html instead of JSON: ")
    assert "502 Bad Gateway" in message and "after 2 attempts" in message
    assert "JSONDecodeError" not in text
    assert proxy.count("GET") == 2


def test_502_on_a_post_is_not_retried(proxy, make_client, stored):
    proxy.add("respond", method="POST", status=502, body=HTML_502, times=10)
    client = make_client(retry=Retry(total=3, backoff_factor=0.01))
    with pytest.raises(KintoHTTPError) as error:
        client.create_record(data={"n": 1}, server_id=True)
    assert proxy.count("POST") == 1
    assert "not retried: a POST answered 502 may have been applied" in str(error.value)
    assert stored() == []


def test_connection_refused_is_retried_then_reported(waits):
    client = Client(
        server_url=f"http://127.0.0.1:{free_port()}/v1",
        retry=Retry(total=2, backoff_factor=0.01),
    )
    with pytest.raises(KintoConnectionError) as error:
        client.get_records(bucket="b", collection="c")
    assert isinstance(error.value, requests.ConnectionError)
    assert "connection refused" in str(error.value)
    assert "after 3 attempts" in str(error.value)
    assert "may have been applied" not in str(error.value)
    assert len(waits()) == 2


# -- exactly once -----


def test_create_record_reply_lost_is_retried_into_exactly_one_record(
    proxy, make_client, stored, bucket, collection
):
    """The id is drawn before the first attempt; the replayed If-None-Match
    create gets 412 and is a success because the stored object equals it."""
    proxy.add("drop_after", method="PUT", path="/records/")
    client = make_client()
    record = client.create_record(data={"title": "once"})
    puts = proxy.requests("PUT", "/records/")
    assert len(puts) == 2
    assert puts[0].path == puts[1].path  # same id on both attempts
    assert puts[1].headers.get("If-None-Match") == "*"
    assert [(r["id"], r["title"]) for r in stored()] == [(record["data"]["id"], "once")]
    assert puts[0].path.endswith("/records/" + record["data"]["id"])


def test_create_record_reply_delayed_past_the_timeout_is_not_duplicated(proxy, make_client, stored):
    proxy.add("delay", method="PUT", path="/records/", delay=1.5)
    client = make_client(timeout=0.3)
    record = client.create_record(data={"title": "slow"})
    assert proxy.count("PUT", "/records/") == 2
    assert [(r["id"], r["title"]) for r in stored()] == [(record["data"]["id"], "slow")]


def test_create_record_behind_a_504_that_committed_is_not_duplicated(proxy, make_client, stored):
    proxy.add("fail_after", method="PUT", path="/records/", status=504)
    client = make_client()
    record = client.create_record(data={"title": "gateway"})
    assert proxy.count("PUT", "/records/") == 2
    assert [(r["id"], r["title"]) for r in stored()] == [(record["data"]["id"], "gateway")]


def test_replayed_create_that_finds_another_object_is_an_error(
    proxy, make_client, stored, raw, server_url, bucket, collection
):
    url = f"{server_url}{records_path(bucket, collection)}/r1"
    assert raw.put(url, json={"data": {"owner": "someone else"}}, timeout=10).status_code == 201
    proxy.add("drop_before", method="PUT", path="/records/r1")
    client = make_client()
    with pytest.raises(KintoHTTPError) as error:
        client.create_record(data={"owner": "me"}, id="r1")
    assert error.value.status_code == 412
    assert "An earlier attempt's reply was lost: it may have been applied." in str(error.value)
    assert proxy.count("PUT", "/records/r1") == 2
    assert [r["owner"] for r in stored()] == ["someone else"]


def test_create_without_retries_says_the_write_may_have_landed(proxy, make_client, stored):
    proxy.add("drop_after", method="PUT", path="/records/")
    client = make_client(retry=0)
    with pytest.raises(KintoConnectionError) as error:
        client.create_record(data={"title": "lost reply"}, id="r1")
    message = str(error.value)
    assert "connection dropped by the server" in message
    assert "may have been applied" in message
    assert proxy.count("PUT") == 1
    assert [r["id"] for r in stored()] == ["r1"]


def test_server_id_post_is_never_sent_twice(proxy, make_client, stored):
    proxy.add("drop_after", method="POST", path="/records")
    client = make_client()
    with pytest.raises(KintoConnectionError) as error:
        client.create_record(data={"title": "posted"}, server_id=True)
    assert "may have been applied" in str(error.value)
    assert "not sent twice" in str(error.value)
    assert proxy.count("POST") == 1
    assert [r["title"] for r in stored()] == ["posted"]  # committed once, not duplicated


def test_delete_replay_is_a_success(proxy, make_client, stored):
    client = make_client()
    client.create_record(data={"n": 1}, id="r1")
    client.create_record(data={"n": 2}, id="r2")
    proxy.add("drop_after", method="DELETE", path="/records/r1")
    deleted = client.delete_record(id="r1")
    assert deleted["deleted"] is True
    assert proxy.count("DELETE", "/records/r1") == 2
    assert [r["id"] for r in stored()] == ["r2"]


def test_safe_update_replay_is_a_success(proxy, make_client, stored):
    client = make_client()
    created = client.create_record(data={"v": 1}, id="r1")
    proxy.add("drop_after", method="PUT", path="/records/r1")
    updated = client.update_record(data={**created["data"], "v": 2})
    assert updated["data"]["v"] == 2
    puts = proxy.requests("PUT", "/records/r1")
    assert len(puts) == 3  # create, then the update and its replay
    assert puts[2].headers.get("If-Match") == f'"{created["data"]["last_modified"]}"'
    assert [(r["id"], r["v"]) for r in stored()] == [("r1", 2)]


def test_connection_dropped_before_forwarding_a_read_is_retried(proxy, make_client):
    client = make_client()
    client.create_record(data={"n": 1}, id="r1")
    proxy.add("drop_before", method="GET", path="/records/r1")
    assert client.get_record(id="r1")["data"]["n"] == 1
    assert proxy.count("GET", "/records/r1") == 2


def test_upload_is_reread_from_the_start_on_each_attempt(proxy, tmp_path):
    content = b"attachment bytes " * 100
    path = tmp_path / "file.bin"
    path.write_bytes(content)
    proxy.add("respond", method="POST", path="/__echo__", status=503, times=2)
    session = Session(proxy.url, auth=AUTH, retry=Retry(total=2, backoff_factor=0.01))
    with path.open("rb") as handle:
        handle.read(5)  # the upload starts where the caller left the file
        body, _ = session.request(
            "post",
            "/__echo__",
            data={"name": "file.bin"},
            files={"attachment": ("file.bin", handle, "application/octet-stream")},
            idempotent=True,  # a POST is never sent again after a 5xx unless said so
        )
    session.close()
    assert proxy.count("POST", "/__echo__") == 3
    sent = [s.body for s in proxy.requests("POST", "/__echo__")]
    assert all(content[5:] in s for s in sent)
    assert content[5:] in body["body"].encode("latin-1")
    assert sent[0] != b"" and len({len(s) for s in sent}) == 1


# -- timeouts -----


def test_timeout_raises_kinto_timeout(proxy, make_client):
    proxy.add("delay", method="GET", delay=3)
    client = make_client(retry=0, timeout=0.2)
    with pytest.raises(KintoTimeout) as error:
        client.get_records()
    assert isinstance(error.value, requests.Timeout)
    assert "read timed out" in str(error.value)
    assert proxy.count("GET") == 1


def test_timeout_is_retried(proxy, make_client):
    proxy.add("delay", method="GET", delay=3)
    client = make_client(timeout=0.2)
    assert client.get_records() == []
    assert proxy.count("GET") == 2


def test_session_options_with_a_shared_session_are_refused(proxy):
    client = Client(server_url=proxy.url, auth=AUTH)
    with pytest.raises(TypeError, match="timeout cannot be combined with session="):
        Client(session=client.session, timeout=0.2)
    with pytest.raises(TypeError, match="retry cannot be combined with session="):
        Client(session=client.session, retry=3)
    assert client.clone(server_url=proxy.url, timeout=0.2).session.timeout == 0.2


def test_clone_with_session_options_makes_a_new_session(proxy):
    client = Client(server_url=proxy.url, auth=AUTH, collection="c")
    faster = client.clone(timeout=0.2, retry=2)
    assert faster.session is not client.session
    assert faster.session.timeout == 0.2
    assert faster.session.retry.total == 2
    assert faster.session.auth == client.session.auth
    assert faster.collection_name == "c"
    assert client.session.timeout != 0.2
    assert client.session.retry.total == 0
    assert client.clone(collection="d").session is client.session


def test_every_call_has_a_default_timeout(proxy):
    session = Session(proxy.url)
    assert session.timeout is not None
    assert all(0 < t < 300 for t in session.timeout)


# -- Backoff and Alert -----


def test_backoff_header_makes_the_next_request_wait(proxy, make_client, caplog, waits):
    caplog.set_level(logging.INFO, logger="kinto_client")
    proxy.add("headers", method="GET", headers={"Backoff": "1"})
    client = make_client()
    client.get_records()
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "back off for 1s" in warned[0].getMessage()
    client.get_records()
    backoff_waits = [
        r.kinto_wait
        for r in caplog.records
        if hasattr(r, "kinto_wait") and not hasattr(r, "kinto_attempt")
    ]
    assert len(backoff_waits) == 1 and 0 < backoff_waits[0] <= 1.0
    assert proxy.count("GET") == 2


def test_backoff_header_in_raise_mode(proxy, make_client, caplog):
    caplog.set_level(logging.WARNING, logger="kinto_client")
    proxy.add("headers", method="GET", headers={"Backoff": "30"})
    client = make_client(on_backoff="raise")
    client.get_records()
    assert any("back off for 30s" in r.getMessage() for r in caplog.records)
    with pytest.raises(BackoffException) as error:
        client.get_records()
    assert 0 < error.value.backoff <= 30
    assert "back off" in str(error.value)
    assert proxy.count("GET") == 1  # nothing sent while backing off


def test_alert_header_is_logged_as_a_warning(proxy, make_client, caplog):
    caplog.set_level(logging.WARNING, logger="kinto_client")
    alert = {
        "code": "soft-eol",
        "message": "This service will soon be decommissioned",
        "url": "https://example.com/eol",
    }
    proxy.add("headers", method="GET", headers={"Alert": json.dumps(alert)})
    client = make_client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning instead of the log
        client.get_records()
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = record.getMessage()
    assert "This service will soon be decommissioned" in message
    assert "https://example.com/eol" in message and "soft-eol" in message


# -- pagination -----


def _fill(raw: requests.Session, server_url: str, bucket: str, collection: str, n: int) -> None:
    requests_ = [
        {"method": "PUT", "path": f"{records_path(bucket, collection)}/r{i:02d}", "body": {}}
        for i in range(n)
    ]
    response = raw.post(f"{server_url}/batch", json={"requests": requests_}, timeout=10)
    assert response.status_code == 200
    assert all(r["status"] == 201 for r in response.json()["responses"])


def test_a_503_on_page_3_costs_one_request(proxy, make_client, raw, server_url, bucket, collection):
    _fill(raw, server_url, bucket, collection, 25)  # paginate_by = 10 on the test server
    proxy.add("respond", method="GET", path="/records", status=503, skip=2)
    client = make_client()
    records = client.get_records()
    assert sorted(r["id"] for r in records) == [f"r{i:02d}" for i in range(25)]
    assert proxy.count("GET", "/records") == 3 + 1
    pages = [s.path for s in proxy.requests("GET", "/records")]
    assert pages[2] == pages[3]  # the same page again, not a restart


def test_a_page_that_keeps_failing_is_not_multiplied_across_pages(
    proxy, make_client, raw, server_url, bucket, collection
):
    _fill(raw, server_url, bucket, collection, 25)
    proxy.add("respond", method="GET", path="/records", status=503, skip=2, times=100)
    client = make_client(retry=Retry(total=2, backoff_factor=0.01))
    with pytest.raises(KintoHTTPError) as error:
        client.get_records()
    assert "after 3 attempts" in str(error.value)
    assert proxy.count("GET", "/records") == 2 + 3
