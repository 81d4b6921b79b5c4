"""Hostile servers and networks (issue 12): no lost update, no duplicate, no
leaked credential, no hang.

One section per item of the issue (item 12, authentication, is tested with
``auth.py``). Each test drives the real Kinto server through the fault proxy
(``tests/fault_proxy.py``), which injects what a server cannot produce: lost
replies, a slow drip, a cut body, bad gzip, redirects and ``Next-Page``
links of its choosing. Each test also checks on the server, read directly
(not through the proxy), what happened to the data.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from conftest import AUTH
from fault_proxy import FaultProxy, running

from kinto_client import Client
from kinto_client.exceptions import (
    BackoffException,
    KintoBatchException,
    KintoConnectionError,
    KintoException,
    KintoHTTPError,
    KintoTimeout,
)

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def records_url(server_url: str, bucket: str, collection: str) -> str:
    """The collection's records, on the server itself (not through the proxy)."""
    return f"{server_url}/buckets/{bucket}/collections/{collection}/records"


@pytest.fixture
def other(server_url: str) -> Iterator[FaultProxy]:
    """A second origin (another port), in front of the same server: it records
    whatever reaches it."""
    with running(server_url) as p:
        yield p


def proxied(proxy: FaultProxy, records_url: str, server_url: str) -> str:
    """``records_url`` as seen through ``proxy``."""
    return proxy.url + records_url[len(server_url) :]


def finishes(call: Callable[[], Any], within: float = 30.0) -> Any:
    """Run ``call`` in a thread and return what it returned or raised.

    A guard, not a timing assertion: code that sleeps for a day, or loops
    forever, fails here instead of hanging the suite.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), f"still running after {within}s (it waits or loops)"
    return outcome


def header(seen_headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in seen_headers.items() if k.lower() == name.lower()), None)


# -- 1. A safe write that never landed is not a success ------------------------------


def test_item1_replayed_put_that_never_landed_raises_the_412(make_client, proxy, raw, records_url):
    client = make_client()
    ts = client.create_record({"title": "v1"}, id="r1")["data"]["last_modified"]

    def another_client_writes() -> None:
        # A superset of what our PUT sends: 4.0's subset check took it for ours.
        data = {"title": "mine", "by": "other"}
        assert raw.put(f"{records_url}/r1", json={"data": data}, timeout=10).ok

    proxy.add("drop_before", method="PUT", path="/records/r1", on_fire=another_client_writes)
    with pytest.raises(KintoHTTPError) as error:
        client.update_record({"id": "r1", "title": "mine", "last_modified": ts}, safe=True)
    assert error.value.response.status_code == 412
    assert proxy.count("PUT", "/records/r1") == 3  # create, the lost attempt, the replay
    stored = raw.get(f"{records_url}/r1", timeout=10).json()["data"]
    assert stored["by"] == "other"  # the other client's version: ours never landed


def test_item1_replayed_permissions_only_write_that_never_landed_raises(
    make_client, proxy, raw, records_url
):
    client = make_client()
    ts = client.create_record({"title": "v1"}, id="r2")["data"]["last_modified"]

    def another_client_writes() -> None:
        assert raw.patch(f"{records_url}/r2", json={"data": {"n": 2}}, timeout=10).ok

    proxy.add("drop_before", method="PUT", path="/records/r2", on_fire=another_client_writes)
    with pytest.raises(KintoHTTPError) as error:
        client.update_record(
            {"id": "r2", "last_modified": ts},
            permissions={"read": ["system.Everyone"]},
            safe=True,
        )
    assert error.value.response.status_code == 412
    stored = raw.get(f"{records_url}/r2", timeout=10).json()
    assert "system.Everyone" not in stored["permissions"].get("read", [])
    assert stored["data"]["n"] == 2


def test_item1_in_a_batch_a_replay_that_never_landed_is_a_failure(
    make_client, proxy, raw, records_url
):
    client = make_client()
    ts = client.create_record({"title": "v1"}, id="r3")["data"]["last_modified"]

    def another_client_writes() -> None:
        data = {"title": "mine", "by": "other"}
        assert raw.put(f"{records_url}/r3", json={"data": data}, timeout=10).ok

    proxy.add(
        "batch",
        method="POST",
        sub_match=lambda sub: sub["path"].endswith("/records/r3"),
        status=503,
        on_fire=another_client_writes,
    )
    with pytest.raises(KintoBatchException) as error:
        with client.batch() as batch:
            batch.update_record({"id": "r3", "title": "mine", "last_modified": ts}, safe=True)
    assert error.value.results[0]["status"] == 412
    stored = raw.get(f"{records_url}/r3", timeout=10).json()["data"]
    assert stored["by"] == "other"  # ours never landed


# -- 2. After a 5xx a write may have landed ---------------------------------------------


def test_item2_post_answered_503_after_landing_is_not_sent_again(make_client, proxy, stored):
    client = make_client()
    proxy.add("fail_after", method="POST", path="/records", status=503)
    with pytest.raises(KintoHTTPError) as error:
        client.create_record({"title": "once"}, server_id=True)
    assert "may have been applied" in str(error.value)
    assert proxy.count("POST", "/records") == 1
    assert [r["title"] for r in stored()] == ["once"]  # one record, not two


def test_item2_create_with_known_id_answered_503_after_landing_succeeds(make_client, proxy, stored):
    client = make_client()
    proxy.add("fail_after", method="PUT", path="/records/k1", status=503)
    created = client.create_record({"title": "known"}, id="k1")
    assert created["data"]["title"] == "known"
    assert [(r["id"], r["title"]) for r in stored()] == [("k1", "known")]


def test_item2_batch_operation_answered_503_that_cannot_be_resent_is_unknown(
    make_client, proxy, stored
):
    client = make_client()
    proxy.add("batch", method="POST", sub_match=lambda sub: sub["method"] == "POST", status=503)
    with pytest.raises(KintoBatchException) as error:
        with client.batch() as batch:
            batch.create_record({"title": "a"}, id="a")
            batch.create_record({"title": "posted"}, server_id=True)
    outcomes = [r["outcome"] for r in error.value.results]
    assert outcomes == ["committed", "unknown"]
    assert [r["id"] for r in stored()] == ["a"]  # the POST never reached the server


# -- 3. Links to another origin ----------------------------------------------------------


def test_item3_next_page_to_another_origin_is_refused(
    make_client, proxy, other, records_url, server_url, stored
):
    client = make_client(headers={"X-Api-Key": "k3y"})
    for i in range(3):
        client.create_record({"n": i})
    elsewhere = proxied(other, records_url, server_url) + "?_limit=10"
    proxy.add("set_headers", method="GET", path="/records", headers={"Next-Page": elsewhere})
    with pytest.raises(KintoException) as error:
        client.get_records()
    assert "another origin" in str(error.value)
    assert other.count() == 0  # neither the credentials nor the key went there
    assert len(stored()) == 3


def test_item3_attachment_on_another_origin_gets_no_credentials(make_client, other, tmp_path):
    content = b"attachment bytes"
    other.add("respond", method="GET", path="/file.bin", status=200, body=content)
    client = make_client(headers={"X-Api-Key": "k3y"})
    record = {
        "id": "r",
        "attachment": {
            "location": other.url + "/file.bin",
            "size": len(content),
            "hash": hashlib.sha256(content).hexdigest(),
        },
    }
    written = client.download_attachment(record, tmp_path / "f.bin")
    assert open(written, "rb").read() == content
    [seen] = other.seen
    assert header(seen.headers, "Authorization") is None
    assert header(seen.headers, "X-Api-Key") is None


# -- 4. Next-Page loops ---------------------------------------------------------------------


def test_item4_next_page_loop_raises(make_client, proxy, records_url, server_url, stored):
    client = make_client()
    client.create_record({"n": 1}, id="a")
    same = proxied(proxy, records_url, server_url) + "?_limit=10"
    proxy.add("set_headers", method="GET", path="/records", headers={"Next-Page": same}, times=50)
    outcome = finishes(client.get_records)
    assert isinstance(outcome.get("error"), KintoException), outcome
    assert "loop" in str(outcome["error"])
    assert proxy.count("GET", "/records") == 2
    assert [r["id"] for r in stored()] == ["a"]


def test_item4_delete_records_answering_the_same_objects_again_raises(
    make_client, proxy, records_url, server_url, stored
):
    client = make_client()
    client.create_record({"n": 1}, id="a")
    client.create_record({"n": 2}, id="b")
    again = proxied(proxy, records_url, server_url)
    proxy.add("set_headers", method="DELETE", path="/records", headers={"Next-Page": again})
    tombstones = json.dumps({"data": [{"id": "a", "deleted": True}, {"id": "b", "deleted": True}]})
    proxy.add(
        "respond",
        method="DELETE",
        path="/records",
        status=200,
        body=tombstones.encode(),
        headers={**JSON, "Next-Page": again},
        times=50,
    )
    outcome = finishes(client.delete_records)
    assert isinstance(outcome.get("error"), KintoException), outcome
    assert "already deleted" in str(outcome["error"])
    assert proxy.count("DELETE", "/records") == 2
    assert stored() == []  # the first page was deleted for real


# -- 5. Redirects to another origin ---------------------------------------------------------


def test_item5_redirect_to_another_origin_is_not_followed(
    make_client, proxy, other, records_url, server_url, stored
):
    client = make_client(headers={"X-Api-Key": "k3y"})
    client.create_record({"n": 1}, id="a")
    target = proxied(other, records_url, server_url)
    proxy.add("respond", method="GET", path="/records", status=307, headers={"Location": target})
    with pytest.raises(KintoException) as error:
        client.get_records()
    assert "redirected" in str(error.value) and "another origin" in str(error.value)
    assert "k3y" not in str(error.value)
    assert other.count() == 0  # neither X-Api-Key nor Authorization went there
    assert [r["id"] for r in stored()] == ["a"]


def test_item5_write_redirected_to_another_origin_is_not_sent_there(
    make_client, proxy, other, records_url, server_url, stored
):
    client = make_client(headers={"X-Api-Key": "k3y"})
    target = proxied(other, records_url, server_url) + "/w"
    proxy.add("respond", method="PUT", path="/records/w", status=308, headers={"Location": target})
    with pytest.raises(KintoException):
        client.create_record({"secret": "body"}, id="w")
    assert other.count() == 0
    assert stored() == []  # not written anywhere


def test_item5_same_origin_redirect_is_followed_with_the_headers(
    make_client, proxy, records_url, server_url
):
    """Guard: 4.0 behaviour kept (same-origin redirects are followed)."""
    client = make_client(headers={"X-Api-Key": "k3y"})
    client.create_record({"n": 1}, id="a")
    real = proxied(proxy, records_url, server_url)
    proxy.add("respond", method="GET", path="/moved", status=307, headers={"Location": real})
    body, _ = client.session.request("get", real.replace("/records", "/moved"))
    assert [r["id"] for r in body["data"]] == ["a"]
    followed = proxy.requests("GET", "/records")[-1]
    assert header(followed.headers, "X-Api-Key") == "k3y"


def test_item5_allow_redirects_false_passes_through(
    make_client, proxy, other, records_url, server_url
):
    """Guard: 4.0's ``Session.request(..., allow_redirects=False)`` still works."""
    client = make_client(headers={"X-Api-Key": "k3y"})
    target = proxied(other, records_url, server_url)
    proxy.add("respond", method="GET", path="/records", status=307, headers={"Location": target})
    path = records_url[len(server_url) :]
    _, headers = client.session.request("get", path, allow_redirects=False)
    assert headers["Location"] == target
    assert other.count() == 0


# -- 6. Waits the server chooses ------------------------------------------------------------


def test_item6_backoff_of_a_day_raises_instead_of_sleeping(make_client, proxy, stored):
    client = make_client()
    proxy.add("headers", method="GET", path="/records", headers={"Backoff": "86400"})
    client.get_records()
    outcome = finishes(lambda: client.create_record({"n": 1}, id="late"))
    assert isinstance(outcome.get("error"), BackoffException), outcome
    assert "max_server_wait" in str(outcome["error"])
    assert stored() == []  # the write was not sent


def test_item6_retry_after_of_a_day_raises_naming_the_wait(make_client, proxy, stored):
    client = make_client()
    day = {"Retry-After": "86400"}
    proxy.add("respond", method="GET", path="/records", status=503, headers=day)
    outcome = finishes(client.get_records)
    error = outcome.get("error")
    assert isinstance(error, KintoHTTPError), outcome
    assert "86400" in str(error) and "max_server_wait" in str(error)
    assert proxy.count("GET", "/records") == 1


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "Infinity"])
def test_item6_non_finite_backoff_is_ignored(make_client, proxy, stored, value):
    client = make_client()
    proxy.add("headers", method="GET", path="/records", headers={"Backoff": value})
    client.get_records()
    outcome = finishes(lambda: client.create_record({"n": 1}, id="next"))
    assert "error" not in outcome, outcome
    outcome = finishes(lambda: client.clone().create_record({"n": 2}, id="clone"))
    assert "error" not in outcome, outcome
    assert sorted(r["id"] for r in stored()) == ["clone", "next"]


def test_item6_huge_finite_backoff_raises_a_kinto_exception(make_client, proxy, stored):
    client = make_client()
    proxy.add("headers", method="GET", path="/records", headers={"Backoff": "1e308"})
    client.get_records()
    for c in (client, client.clone()):
        outcome = finishes(lambda c=c: c.create_record({"n": 1}, id="x"))
        assert isinstance(outcome.get("error"), BackoffException), outcome
    assert stored() == []


def test_item6_retry_after_is_capped_by_the_budget(make_client, proxy, stored):
    from kinto_client import Retry

    client = make_client(retry=Retry(total=3, budget=5))
    proxy.add("respond", method="GET", path="/records", status=503, headers={"Retry-After": "60"})
    outcome = finishes(client.get_records)
    assert isinstance(outcome.get("error"), KintoHTTPError), outcome
    assert "budget" in str(outcome["error"])
    assert proxy.count("GET", "/records") == 1


# -- 7. A slow drip does not defeat the timeout ------------------------------------------


def test_item7_dripping_list_answer_raises_kinto_timeout(make_client, proxy, stored):
    client = make_client(timeout=(0.5, 0.5), retry=0)  # deadline: 2 x (0.5 + 0.5) = 2 s
    client.create_record({"title": "x" * 40}, id="a")
    proxy.add("drip", method="GET", path="/records", delay=0.2)
    outcome = finishes(client.get_records)
    assert isinstance(outcome.get("error"), KintoTimeout), outcome
    assert "deadline" in str(outcome["error"])
    assert [r["id"] for r in stored()] == ["a"]


def test_item7_dripping_write_is_resolved_once(make_client, proxy, stored):
    client = make_client(timeout=(0.5, 0.5))
    proxy.add("drip", method="PUT", path="/records/d", delay=0.2)
    outcome = finishes(lambda: client.create_record({"title": "x" * 40}, id="d"))
    assert outcome.get("value", {}).get("data", {}).get("id") == "d", outcome
    assert proxy.count("PUT", "/records/d") == 2  # the drip, then the replay (412, settled)
    assert [r["id"] for r in stored()] == ["d"]


def test_item7_explicit_deadline(make_client, proxy, stored):
    client = make_client(timeout=(5, 5), deadline=1, retry=0)
    client.create_record({"title": "x" * 40}, id="a")
    proxy.add("drip", method="GET", path="/records", delay=0.2)
    outcome = finishes(client.get_records)
    assert isinstance(outcome.get("error"), KintoTimeout), outcome
    assert [r["id"] for r in stored()] == ["a"]


def test_item7_dripping_streamed_download_raises_kinto_timeout(make_client, proxy, tmp_path):
    content = b"y" * 60
    proxy.add("drip", method="GET", path="/files/f.bin", body=content, status=200, delay=0.2)
    client = make_client(timeout=(0.5, 0.5), retry=0)  # deadline: 2 s
    record = {
        "id": "r",
        "attachment": {
            "location": proxy.url + "/files/f.bin",
            "size": len(content),
            "hash": hashlib.sha256(content).hexdigest(),
        },
    }
    outcome = finishes(lambda: client.download_attachment(record, tmp_path / "f.bin"))
    assert isinstance(outcome.get("error"), KintoTimeout), outcome
    assert list(tmp_path.iterdir()) == []  # nothing written


# -- 8. Truncated or corrupt bodies are transport failures ---------------------------------


@pytest.mark.parametrize("fault", ["cut_length", "cut_chunked", "bad_gzip"])
def test_item8_broken_list_answer_is_retried(make_client, proxy, stored, fault):
    client = make_client()
    client.create_record({"n": 1}, id="a")
    proxy.add(fault, method="GET", path="/records")
    assert [r["id"] for r in client.get_records()] == ["a"]
    assert proxy.count("GET", "/records") == 2


@pytest.mark.parametrize("fault", ["cut_length", "cut_chunked", "bad_gzip"])
def test_item8_broken_answer_to_a_put_is_retried_and_lands_once(make_client, proxy, stored, fault):
    client = make_client()
    proxy.add(fault, method="PUT", path="/records/p")
    assert client.create_record({"n": 1}, id="p")["data"]["id"] == "p"
    assert [r["id"] for r in stored()] == ["p"]


@pytest.mark.parametrize("fault", ["cut_length", "cut_chunked", "bad_gzip"])
def test_item8_broken_answer_to_a_post_raises_a_connection_error(make_client, proxy, stored, fault):
    client = make_client()
    proxy.add(fault, method="POST", path="/records")
    with pytest.raises(KintoConnectionError) as error:
        client.create_record({"n": 1}, server_id=True)
    assert "may have been applied" in str(error.value)
    assert proxy.count("POST", "/records") == 1
    assert len(stored()) == 1  # it did land, once


def test_item8_broken_batch_answer_reports_each_operation(make_client, proxy, stored):
    client = make_client(retry=0)
    size = client.server_info()["settings"]["batch_max_requests"]
    proxy.add("cut_length", method="POST", path="/batch", skip=1)
    with pytest.raises(KintoBatchException) as error:
        with client.batch() as batch:
            for i in range(2 * size + 10):
                batch.create_record({"n": i}, id=f"r{i:03d}")
    outcomes = [r["outcome"] for r in error.value.results]
    assert outcomes == ["committed"] * size + ["unknown"] * size + ["not sent"] * 10
    assert isinstance(error.value.exceptions[0], KintoConnectionError)
    assert len(stored()) == 2 * size  # the second chunk landed; its answer was lost


def test_item8_broken_batch_answer_is_retried_and_settled(make_client, proxy, stored):
    client = make_client()
    size = client.server_info()["settings"]["batch_max_requests"]
    proxy.add("cut_chunked", method="POST", path="/batch", skip=1)
    with client.batch() as batch:
        for i in range(2 * size + 10):
            batch.create_record({"n": i}, id=f"r{i:03d}")
    assert len(batch.results()) == 2 * size + 10
    assert sorted(r["n"] for r in stored()) == list(range(2 * size + 10))  # each once


# -- 9. Malformed 200 answers -------------------------------------------------------------


MALFORMED = [
    pytest.param("GET", "/records", b"[1, 2]", "get_records", "JSON list", id="list-body"),
    pytest.param("GET", "/records", b'{"data": "x"}', "get_records", '"x"', id="data-string"),
    pytest.param("GET", "/records", b"<html>hi</html>", "get_records", "html", id="not-json"),
    pytest.param("GET", "/records/a", b"[]", "get_record", "JSON list", id="record-list"),
    pytest.param("GET", "/v1/", b'"hello"', "server_info", "hello", id="string-root"),
    pytest.param("GET", "/v1/", b"[1]", "server_info", "JSON list", id="list-root"),
    pytest.param("POST", "/batch", b'{"responses": [1]}', "batch", "responses", id="responses-1"),
    pytest.param("POST", "/batch", b'{"responses": "x"}', "batch", "responses", id="responses-str"),
    pytest.param("POST", "/batch", b'{"responses": []}', "batch", "responses", id="responses-few"),
    pytest.param("POST", "/batch", b"[]", "batch", "answered []", id="batch-list"),
    pytest.param(
        "GET",
        "/v1/",
        b'{"settings": {"batch_max_requests": null}, "capabilities": {}}',
        "batch",
        "batch_max_requests",
        id="batch-max-null",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "call", "shown"), MALFORMED)
def test_item9_malformed_200_raises_a_kinto_exception(
    make_client, proxy, stored, method, path, body, call, shown
):
    client = make_client()
    client.create_record({"n": 1}, id="a")
    headers = {"Content-Type": "text/html"} if body.startswith(b"<") else JSON
    proxy.add("respond", method=method, path=path, status=200, body=body, headers=headers)
    calls: dict[str, Callable[[], Any]] = {
        "get_records": client.get_records,
        "get_record": lambda: client.get_record("a"),
        "server_info": client.server_info,
        "batch": lambda: batch_of_two(client),
    }
    with pytest.raises(KintoException) as error:
        calls[call]()
    assert shown.lower() in str(error.value).lower()
    assert [r["id"] for r in stored()] == ["a"]  # nothing else was written


def batch_of_two(client: Client) -> None:
    with client.batch() as batch:
        batch.create_record({"n": 2}, id="b")
        batch.create_record({"n": 3}, id="c")


# -- 10. server_url is parsed when the client is built --------------------------------------


def test_item10_password_with_slash_hash_and_question_mark(proxy, server_url, flush):
    password = "p/a#s?s@w"
    port = proxy.url.split(":")[2].split("/")[0]
    client = Client(server_url=f"http://alexis:{password}@127.0.0.1:{port}/v1")
    for shown in (repr(client), client.server_url, repr(client.session)):
        assert password not in shown and "p/a" not in shown
    assert client.server_url == f"http://127.0.0.1:{port}/v1"
    client.create_bucket(bucket="pw")
    mine = requests.get(f"{server_url}/buckets/pw", auth=("alexis", password), timeout=10)
    assert mine.status_code == 200  # created, and owned by those credentials


BAD_URLS = [
    pytest.param("alexis:S3CRET@127.0.0.1:8888/v1", id="no-scheme"),
    pytest.param("//alexis:S3CRET@127.0.0.1:8888/v1", id="no-scheme-slashes"),
    pytest.param("ftp://alexis:S3CRET@127.0.0.1/v1", id="ftp"),
    pytest.param("http://alexis:S3CRET@127.0.0.1:99999/v1", id="port-out-of-range"),
    pytest.param("http://alexis:S3CRET@127.0.0.1:0/v1", id="port-0"),
    pytest.param("http://alexis:S3CRET@127.0.0.1:abc/v1", id="port-not-a-number"),
    pytest.param("http://alexis:S3CRET@127.0.0.1:88:88/v1", id="two-ports"),
    pytest.param("http://alexis:S3CRET@127.0.0.1:8888/v1?x=1", id="query"),
    pytest.param("http://alexis:S3CRET@127.0.0.1:8888/v1#top", id="fragment"),
    pytest.param("http://alexis:S3CRET@/v1", id="no-host"),
    pytest.param("http://alexis:S3CRET@exa mple.com/v1", id="space-in-host"),
    pytest.param("http://alexis:S3CRET@.example.com/v1", id="empty-label"),
    pytest.param("http://alexis:S3/CRET@127.0.0.1:abc/v1", id="slash-password-bad-port"),
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_item10_bad_server_url_refused_when_built_without_the_password(url):
    with pytest.raises(ValueError) as error:
        Client(server_url=url)
    text = "".join(traceback.format_exception(error.value))
    assert "S3CRET" not in text and "S3/CRET" not in text
    assert "server_url" in str(error.value)


# -- 11. The account password hash never shows -------------------------------------------------


@pytest.fixture
def accounts(plugins_server_url: str, plugins_flush: None) -> Client:
    anonymous = Client(server_url=plugins_server_url)
    anonymous.create_account("bob11", "s3cr3t")
    return anonymous


HASH = re.compile(r"\$2[aby]?\$")


def whoami(url: str, auth: tuple[str, str]) -> str:
    return requests.get(url + "/", auth=auth, timeout=10).json().get("user", {}).get("id")


def test_item11_batch_exception_masks_the_password_hash(accounts, plugins_server_url):
    with pytest.raises(KintoBatchException) as error:
        with accounts.batch() as batch:
            batch.create_account("bob11", "other")
    assert error.value.results[0]["status"] == 412
    assert not HASH.search(str(error.value)) and "***" in str(error.value)
    assert whoami(plugins_server_url, ("bob11", "s3cr3t")) == "account:bob11"  # unchanged


def test_item11_ignored_4xx_warning_masks_the_password_hash(accounts, plugins_server_url, caplog):
    with caplog.at_level("WARNING", logger="kinto_client"):
        with accounts.batch(ignore_4xx=True) as batch:
            batch.create_account("bob11", "other")
    assert batch.failures()[0]["status"] == 412
    assert caplog.records and not HASH.search(caplog.text)
    assert whoami(plugins_server_url, ("bob11", "s3cr3t")) == "account:bob11"


# -- 13. Client certificates (mTLS) -----------------------------------------------------------


def self_signed(folder: Any, name: str, cn: str) -> tuple[str, str]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={cn}", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def test_item13_client_certificate(server_url, flush, tmp_path):
    server_cert = self_signed(tmp_path, "server", "127.0.0.1")
    client_cert = self_signed(tmp_path, "client", "kinto-client")
    with running(server_url, tls=server_cert, client_ca=client_cert[0]) as tls:
        client = Client(server_url=tls.url, auth=AUTH, verify=server_cert[0], cert=client_cert)
        client.create_bucket(bucket="mtls")
        anonymous = Client(server_url=tls.url, auth=AUTH, verify=server_cert[0])
        with pytest.raises(KintoConnectionError):
            anonymous.create_bucket(bucket="refused")
    assert requests.get(f"{server_url}/buckets/mtls", auth=AUTH, timeout=10).status_code == 200
    assert requests.get(f"{server_url}/buckets/refused", auth=AUTH, timeout=10).status_code == 403


# -- 14. Ids of the wrong type ----------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [1.5, b"abc", {"x": 1}, object(), True, None.__class__, [1]], ids=repr
)
def test_item14_ids_of_the_wrong_type_are_refused_before_sending(make_client, proxy, stored, bad):
    client = make_client()
    for target in ("15", "babc", "x-1", "1", "true"):
        client.create_record({"n": 1}, id=target)
    sent = proxy.count()
    with pytest.raises(TypeError):
        client.delete_record(bad)
    assert proxy.count() == sent  # nothing sent
    assert sorted(r["id"] for r in stored()) == ["1", "15", "babc", "true", "x-1"]


def test_item14_int_and_str_ids_still_work(make_client, stored):
    """Guard: ints and strings (slugified as in 4.0) stay valid ids."""
    client = make_client()
    client.create_record({"n": 1}, id=15)
    client.create_record({"n": 2}, id="Hôtel de ville")
    assert sorted(r["id"] for r in stored()) == ["15", "hotel-de-ville"]


# -- 15. Bad values refused where they enter ---------------------------------------------------


@pytest.mark.parametrize("method", ["delete", "post", "GET", "gett", None])
def test_item15_update_method_other_than_put_or_patch_is_refused(
    make_client, proxy, stored, method
):
    client = make_client()
    client.create_record({"n": 1}, id="a")
    sent = proxy.count()
    with pytest.raises(ValueError):
        client.update_record({"id": "a", "n": 2}, method=method)
    assert proxy.count() == sent
    assert [(r["id"], r["n"]) for r in stored()] == [("a", 1)]


@pytest.mark.parametrize("method", ["GETT", "", "get /x", 5])
def test_item15_unknown_http_method_is_refused_before_sending(make_client, proxy, method):
    client = make_client()
    with pytest.raises(ValueError) as error:
        client.session.request(method, "/")
    assert "method" in str(error.value).lower()
    assert proxy.count() == 0


@pytest.mark.parametrize(
    "timeout",
    [math.inf, math.nan, (1, 2, 3), (1,), (math.inf, 1), (1, math.nan), -1, 0, "5", (1, None)],
    ids=repr,
)
def test_item15_bad_timeout_is_refused_when_built(proxy, timeout):
    with pytest.raises(ValueError):
        Client(server_url=proxy.url, auth=AUTH, timeout=timeout)
    assert proxy.count() == 0


@pytest.mark.parametrize("pages", ["2", -1, 0, 1.5, True], ids=repr)
def test_item15_bad_pages_is_refused_before_sending(make_client, proxy, pages):
    client = make_client()
    with pytest.raises((TypeError, ValueError)):
        client.get_records(pages=pages)
    assert proxy.count() == 0


def test_item15_keys_colliding_in_json_are_refused(make_client, proxy, stored):
    client = make_client()
    with pytest.raises(TypeError) as error:
        client.create_record({1: "int", "1": "str"}, id="dup")
    assert "'1'" in str(error.value) or '"1"' in str(error.value)
    assert proxy.count() == 0
    assert stored() == []
