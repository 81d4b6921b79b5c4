"""What kinto-client 4.0 code relies on (issue 10, items 1, 4, 5, 6 and 7), on a real server.

Each test writes through the client as 4.0 code would, then reads the effect
back with plain HTTP (``raw``). What goes over the wire (the HTTP method, a
``Cookie`` header, a multipart body) is observed through the fault proxy
(``tests/fault_proxy.py``), a real HTTP proxy on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest
import requests
from conftest import AUTH, read_all
from fault_proxy import FaultProxy

import kinto_client
from kinto_client import Client, KintoBatchException, KintoException, Session
from kinto_client.client import NOT_MODIFIED

# -- helpers ---------------------------------------------------------------------------------


def read_data(raw: requests.Session, url: str) -> dict[str, Any]:
    response = raw.get(url, timeout=10)
    assert response.status_code == 200, (url, response.status_code, response.text)
    return response.json()["data"]  # type: ignore[no-any-return]


def methods_seen(proxy: FaultProxy, path: str) -> list[str]:
    """The methods of the requests the proxy saw whose path ends with ``path``."""
    return [s.method for s in proxy.requests() if s.path.split("?")[0].endswith(path)]


def record_ids(raw: requests.Session, server_url: str, bucket: str, collection: str) -> set[str]:
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    return {r["id"] for r in read_all(raw, url)}


def chunk_size(server_url: str) -> int:
    """The server's ``batch_max_requests`` (tests/config/kinto.ini), read with plain HTTP."""
    settings = requests.get(server_url + "/", timeout=10).json()["settings"]
    return int(settings["batch_max_requests"])


@pytest.fixture
def via_proxy(proxy: FaultProxy) -> Client:
    """A client talking to the test server through ``proxy``."""
    return Client(server_url=proxy.url, auth=AUTH)


# -- 1. update_bucket merges; update_collection/update_record replace ---------------------------


def test_update_bucket_sends_patch_and_keeps_existing_data(via_proxy, proxy, raw, server_url):
    url = f"{server_url}/buckets/shop"
    raw.put(url, json={"data": {"kept": 1, "changed": 1}}, timeout=10).raise_for_status()

    via_proxy.update_bucket("shop", data={"changed": 2})

    stored = read_data(raw, url)
    assert stored["kept"] == 1  # 4.0 sends a PATCH: nothing is dropped
    assert stored["changed"] == 2
    assert methods_seen(proxy, "/buckets/shop") == ["PATCH"]


def test_update_collection_replaces_by_default(via_proxy, proxy, raw, server_url, bucket):
    url = f"{server_url}/buckets/{bucket}/collections/c"
    raw.put(url, json={"data": {"old": 1}}, timeout=10).raise_for_status()

    via_proxy.update_collection({"new": 2}, collection="c", bucket=bucket)

    stored = read_data(raw, url)
    assert "old" not in stored
    assert stored["new"] == 2
    assert methods_seen(proxy, "/collections/c") == ["PUT"]


def test_update_record_replaces_by_default(via_proxy, proxy, raw, server_url, bucket, collection):
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/r1"
    raw.put(url, json={"data": {"old": 1}}, timeout=10).raise_for_status()

    via_proxy.update_record({"new": 2}, id="r1", collection=collection, bucket=bucket)

    stored = read_data(raw, url)
    assert "old" not in stored
    assert stored["new"] == 2
    assert methods_seen(proxy, "/records/r1") == ["PUT"]


@pytest.mark.parametrize("kind", ["bucket", "collection", "record"])
def test_patch_methods_still_merge(kind, via_proxy, proxy, raw, server_url, bucket, collection):
    urls = {
        "bucket": f"{server_url}/buckets/{bucket}",
        "collection": f"{server_url}/buckets/{bucket}/collections/{collection}",
        "record": f"{server_url}/buckets/{bucket}/collections/{collection}/records/r1",
    }
    raw.put(urls[kind], json={"data": {"old": 1}}, timeout=10).raise_for_status()

    if kind == "bucket":
        via_proxy.patch_bucket(bucket, data={"new": 2})
    elif kind == "collection":
        via_proxy.patch_collection({"new": 2}, collection=collection, bucket=bucket)
    else:
        via_proxy.patch_record({"new": 2}, id="r1", collection=collection, bucket=bucket)

    stored = read_data(raw, urls[kind])
    assert (stored["old"], stored["new"]) == (1, 2)
    assert methods_seen(proxy, urls[kind].rsplit("/v1", 1)[1]) == ["PATCH"]


# -- 4. a batch stops at the first chunk holding a failure it does not tolerate -----------------


def test_batch_stops_after_the_chunk_that_failed(client, raw, server_url, bucket, collection):
    size = chunk_size(server_url)
    ids = [f"r{i:03}" for i in range(size + 5)]  # two chunks: size, then 5
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/{ids[0]}"
    raw.put(url, json={"data": {"n": -1}}, timeout=10).raise_for_status()

    with pytest.raises(KintoBatchException) as info:
        with client.batch(bucket=bucket, collection=collection) as batch:
            for n, record_id in enumerate(ids):
                batch.create_record({"n": n}, id=record_id)  # ids[0] exists: 412

    first, second = ids[:size], ids[size:]
    assert record_ids(raw, server_url, bucket, collection) == set(first)  # second: never sent
    assert read_data(raw, url)["n"] == -1
    exc = info.value
    assert [r["request"]["path"].rsplit("/", 1)[1] for r in exc.not_sent] == second
    assert [r["request"]["path"].rsplit("/", 1)[1] for r in exc.committed] == first[1:]
    failed = [r for r in exc.failures if r["outcome"] == "failed"]
    assert [(r["request"]["path"].rsplit("/", 1)[1], r["status"]) for r in failed] == [
        (ids[0], 412)
    ]


def test_batch_failure_in_a_middle_chunk(client, raw, server_url, bucket, collection):
    size = chunk_size(server_url)
    ids = [f"r{i:03}" for i in range(2 * size + 3)]  # three chunks
    existing = ids[size + 1]  # in the second chunk
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/{existing}"
    raw.put(url, json={"data": {"n": -1}}, timeout=10).raise_for_status()

    with pytest.raises(KintoBatchException) as info:
        with client.batch(bucket=bucket, collection=collection) as batch:
            for n, record_id in enumerate(ids):
                batch.create_record({"n": n}, id=record_id)

    assert record_ids(raw, server_url, bucket, collection) == set(ids[: 2 * size])
    assert len(info.value.not_sent) == 3
    assert len(info.value.committed) == 2 * size - 1


def test_batch_tolerated_failures_do_not_stop_it(client, raw, server_url, bucket, collection):
    size = chunk_size(server_url)
    ids = [f"r{i:03}" for i in range(size + 5)]
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/{ids[0]}"
    raw.put(url, json={"data": {"n": -1}}, timeout=10).raise_for_status()

    with client.batch(bucket=bucket, collection=collection, ignore_4xx=True) as batch:
        for n, record_id in enumerate(ids):
            batch.create_record({"n": n}, id=record_id)

    assert record_ids(raw, server_url, bucket, collection) == set(ids)
    assert [f["status"] for f in batch.failures()] == [412]


# -- 5. Session.request passes other keyword arguments on to requests -----------------------------


@pytest.mark.parametrize(
    "option",
    [
        {"verify": True},
        {"allow_redirects": True},
        {"stream": True},
        {"stream": False},
        {"cookies": {"flavour": "oat"}},
    ],
    ids=["verify", "allow_redirects", "stream_true", "stream_false", "cookies"],
)
def test_session_request_accepts_requests_options(option, client, bucket):
    body, headers = client.session.request("get", f"/buckets/{bucket}", **option)
    assert body["data"]["id"] == bucket  # the JSON body is read, as in 4.0
    assert headers["ETag"]


def test_session_request_sends_cookies(via_proxy, proxy, bucket):
    via_proxy.session.request("get", f"/buckets/{bucket}", cookies={"flavour": "oat"})
    (seen,) = proxy.requests("GET", f"/buckets/{bucket}")
    assert seen.headers.get("Cookie") == "flavour=oat"


def test_session_request_allow_redirects_false_is_honoured(via_proxy, proxy):
    # Control: Kinto redirects "/buckets/" to "/buckets", and by default it is followed.
    via_proxy.session.request("get", "/buckets/")
    assert [s.path for s in proxy.requests("GET")] == ["/v1/buckets/", "/v1/buckets"]
    proxy.reset()

    # The 307 answer is HTML, not JSON: the call may raise, but must not follow it.
    with contextlib.suppress(KintoException):
        via_proxy.session.request("get", "/buckets/", allow_redirects=False)
    assert [s.path for s in proxy.requests("GET")] == ["/v1/buckets/"]


def multipart_field(body: str, name: str) -> str:
    match = re.search(rf'name="{name}"\r\n(?:[^\r\n]+\r\n)*\r\n(.*?)\r\n--', body, re.S)
    assert match, f"no multipart field {name!r} in {body!r}"
    return match.group(1)


def test_json_text_data_with_files_is_the_form_field_data(proxy):
    session = Session(proxy.url, auth=AUTH)
    text = '{"title": "report", "tags": ["a"]}'
    body, _ = session.request(
        "post",
        "/__echo__",
        data=text,
        files={"attachment": ("hello.txt", b"hello world", "text/plain")},
    )
    (seen,) = proxy.requests("POST", "/__echo__")
    assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert multipart_field(body["body"], "data") == text  # sent as given, not re-encoded
    assert "hello world" in body["body"]


def test_kinto_attachment_upload_of_the_40_era(plugins_client, plugins_server_url):
    plugins_client.create_bucket("files")
    plugins_client.create_collection("docs", bucket="files")
    endpoint = "/buckets/files/collections/docs/records/r1/attachment"

    plugins_client.session.request(
        "post",
        endpoint,
        data=json.dumps({"title": "report"}),
        files={"attachment": ("hello.txt", b"hello world", "text/plain")},
    )

    url = f"{plugins_server_url}/buckets/files/collections/docs/records/r1"
    record = requests.get(url, auth=AUTH, timeout=10).json()["data"]
    assert record["title"] == "report"
    assert record["attachment"]["filename"] == "hello.txt"
    assert record["attachment"]["size"] == len(b"hello world")


# -- 6. an unchanged list with if_none_match iterates as empty ------------------------------------


def test_unchanged_list_iterates_as_empty_and_is_falsy(client, raw, server_url, bucket, collection):
    client.create_record({"id": "r1"}, collection=collection, bucket=bucket)
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    timestamp = int(raw.get(url, timeout=10).headers["ETag"].strip('"'))

    result = client.get_records(collection=collection, bucket=bucket, if_none_match=timestamp)

    assert result is NOT_MODIFIED  # new code tells it apart
    assert list(result) == []  # 4.0 code iterates it
    assert [r["id"] for r in result] == []
    assert len(result) == 0
    assert not result


def test_changed_list_with_if_none_match_is_read(client, raw, server_url, bucket, collection):
    client.create_record({"id": "r1"}, collection=collection, bucket=bucket)
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    timestamp = int(raw.get(url, timeout=10).headers["ETag"].strip('"'))
    client.create_record({"id": "r2"}, collection=collection, bucket=bucket)

    result = client.get_records(collection=collection, bucket=bucket, if_none_match=timestamp)

    assert result is not NOT_MODIFIED
    assert sorted(r["id"] for r in result) == ["r1", "r2"]


# -- 7. 4.0's public attributes and module-level names ---------------------------------------------


def test_client_session_kwargs(server_url, flush, raw):
    c = Client(server_url=server_url, auth=AUTH, retry=2, retry_after=1)
    kwargs = c.session_kwargs
    assert set(kwargs) == {"server_url", "auth", "session", "retry", "retry_after"}
    assert kwargs["server_url"] == server_url
    assert kwargs["session"] is None
    assert (kwargs["retry"], kwargs["retry_after"]) == (2, 1)

    # 4.0 code builds a second client from them: same server, same user.
    other = Client(bucket="from-kwargs", **kwargs)
    other.create_bucket()
    assert raw.get(f"{server_url}/buckets/from-kwargs", timeout=10).status_code == 200


def test_client_session_kwargs_with_a_session(client):
    c = Client(session=client.session)
    assert c.session_kwargs["session"] is client.session
    assert c.session_kwargs["server_url"] is None
    assert c.session_kwargs["auth"] is None


def test_module_level_names_of_40():
    assert kinto_client.DO_NOT_OVERWRITE == {"If-None-Match": "*"}
    assert kinto_client.ID_FIELD == "id"
    assert kinto_client.OBJECTS_PERMISSIONS == {
        "bucket": ["group:create", "collection:create", "write", "read"],
        "group": ["write", "read"],
        "collection": ["write", "read", "record:create"],
        "record": ["read", "write"],
    }


def test_do_not_overwrite_as_headers(client, raw, server_url):
    client.session.request("put", "/buckets/once", headers=kinto_client.DO_NOT_OVERWRITE)
    with pytest.raises(KintoException) as info:
        client.session.request("put", "/buckets/once", headers=kinto_client.DO_NOT_OVERWRITE)
    assert info.value.response.status_code == 412
    assert raw.get(f"{server_url}/buckets/once", timeout=10).status_code == 200


def test_batch_class_is_exported():
    from kinto_client.batch import Batch

    assert kinto_client.Batch is Batch


def test_batch_request_then_send(client, raw, server_url, bucket, collection):
    from kinto_client.batch import Batch

    batch = Batch(client, batch_max_requests=0)
    endpoint = client.endpoints.get("record", bucket=bucket, collection=collection, id="r1")
    other = client.endpoints.get("record", bucket=bucket, collection=collection, id="r2")
    batch.request("put", endpoint, {"title": "one"}, {"read": ["system.Everyone"]})
    batch.request("put", other, data={"title": "two"}, headers=kinto_client.DO_NOT_OVERWRITE)
    assert len(batch.requests) == 2

    result = batch.send()

    assert len(result) == 1  # one (body, headers) per /batch request sent
    body, _ = result[0]
    assert [r["status"] for r in body["responses"]] == [201, 201]
    base = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    assert read_data(raw, f"{base}/r1")["title"] == "one"
    assert read_data(raw, f"{base}/r2")["title"] == "two"
    r1 = raw.get(f"{base}/r1", timeout=10).json()
    assert r1["permissions"]["read"] == ["system.Everyone"]


def test_batch_sends_chunks_of_batch_max_requests(client, raw, server_url, bucket, collection):
    from kinto_client.batch import Batch

    batch = Batch(client, batch_max_requests=2)
    for i in range(5):
        endpoint = client.endpoints.get("record", bucket=bucket, collection=collection, id=f"r{i}")
        batch.request("put", endpoint, data={"n": i})

    result = batch.send()

    assert [len(body["responses"]) for body, _ in result] == [2, 2, 1]
    assert record_ids(raw, server_url, bucket, collection) == {f"r{i}" for i in range(5)}


def test_batch_reset_forgets_the_queue(client, raw, server_url, bucket, collection):
    from kinto_client.batch import Batch

    batch = Batch(client)
    endpoint = client.endpoints.get("record", bucket=bucket, collection=collection, id="r1")
    batch.request("put", endpoint, data={"title": "dropped"})
    batch.reset()
    assert len(batch.requests) == 0

    batch.send()

    assert record_ids(raw, server_url, bucket, collection) == set()


def test_batch_raises_at_the_first_failing_chunk(client, raw, server_url, bucket, collection):
    from kinto_client.batch import Batch

    base = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    raw.put(f"{base}/r1", json={"data": {"n": -1}}, timeout=10).raise_for_status()
    batch = Batch(client, batch_max_requests=1)
    for i in (1, 2):
        endpoint = client.endpoints.get("record", bucket=bucket, collection=collection, id=f"r{i}")
        batch.request("put", endpoint, data={"n": i}, headers=kinto_client.DO_NOT_OVERWRITE)

    with pytest.raises(KintoException):
        batch.send()

    assert record_ids(raw, server_url, bucket, collection) == {"r1"}  # r2: never sent
