"""Every line of API.md (the public surface of kinto-client 4.0.0), on a real Kinto server.

Effects are read back from the server with plain ``requests`` (``raw``).
What the client sends on the wire (headers, ``/batch`` bodies, the number
of requests) is observed through ``tests/fault_proxy.py``, a real HTTP
proxy on 127.0.0.1 in front of the server; it also answers the responses a
real server cannot give on demand (an HTML 502, a 503 with ``Retry-After``).
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from typing import Any
from unittest.mock import ANY

import pytest
import requests
from conftest import AUTH, read_all
from fault_proxy import HTML_502, FaultProxy, batch_subs

import kinto_client
from kinto_client import (
    BucketNotFound,
    Client,
    Endpoints,
    KintoException,
    Session,
    cli_utils,
    create_session,
    replication,
    utils,
)
from kinto_client.batch import Batch

# -- helpers ------------------------------------------------------------------------------


def read(raw: requests.Session, url: str) -> dict[str, Any]:
    response = raw.get(url)
    assert response.status_code == 200, (url, response.status_code, response.text)
    return response.json()  # type: ignore[no-any-return]


def status_of(raw: requests.Session, url: str) -> int:
    return raw.get(url).status_code


def params_of(func: Any) -> list[tuple[str, Any]]:
    """``(name, default)`` of the positional-or-keyword parameters, in order."""
    return [
        (p.name, p.default)
        for p in inspect.signature(func).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
    ]


REQUIRED = inspect.Parameter.empty


def assert_signature(func: Any, documented: list[tuple[str, Any]]) -> None:
    """The documented parameters come first, in order, with their defaults.

    A parameter documented as required may have a default in the port (it
    accepts more); parameters added after the documented ones are allowed.
    """
    actual = params_of(func)
    assert [name for name, _ in actual[: len(documented)]] == [n for n, _ in documented], actual
    for (name, default), (_, actual_default) in zip(documented, actual):
        if default is not REQUIRED:
            assert actual_default == default, (func.__qualname__, name, actual_default)


def has_var_keyword(func: Any) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(func).parameters.values())


@pytest.fixture
def b(client: Client, raw: requests.Session) -> str:
    """An empty bucket ``b`` with a collection ``c``; returns its URL."""
    url = f"{client.server_url}/buckets/b"
    assert raw.put(url).status_code == 201
    assert raw.put(url + "/collections/c").status_code == 201
    return url


@pytest.fixture
def pclient(proxy: FaultProxy) -> Client:
    """A client talking to the server through the recording proxy."""
    return Client(server_url=proxy.url, auth=AUTH)


def sent_json(seen: Any) -> Any:
    return json.loads(seen.body) if seen.body else None


def sent_subs(seen: Any) -> list[dict[str, Any]]:
    """The sub-requests of a ``POST /batch`` as the server reads them."""
    return batch_subs(sent_json(seen))


# -- package ------------------------------------------------------------------------------


def test_package_exports_and_modules():
    import importlib

    for name in ("Client", "Endpoints", "Session", "create_session"):
        assert name in kinto_client.__all__
    assert kinto_client.KintoException is KintoException
    assert issubclass(kinto_client.BucketNotFound, KintoException)
    for module in ("batch", "session", "exceptions", "utils", "cli_utils", "replication"):
        assert importlib.import_module(f"kinto_client.{module}").__name__.endswith(module)
    assert importlib.import_module("kinto_client.session").create_session is create_session
    assert importlib.import_module("kinto_client.exceptions").BucketNotFound is BucketNotFound


# -- signatures -------------------------------------------------------------------------

SIGNATURES: list[tuple[Any, list[tuple[str, Any]]]] = [
    (
        Client.__init__,
        [
            ("server_url", None),
            ("session", None),
            ("auth", None),
            ("bucket", "default"),
            ("collection", None),
            ("retry", 0),
            ("retry_after", None),
        ],
    ),
    (
        Client.create_bucket,
        [
            ("bucket", None),
            ("data", None),
            ("permissions", None),
            ("safe", True),
            ("if_not_exists", False),
        ],
    ),
    (
        Client.update_bucket,
        [
            ("bucket", None),
            ("data", None),
            ("permissions", None),
            ("safe", True),
            ("last_modified", None),
        ],
    ),
    (Client.get_bucket, [("bucket", None)]),
    (Client.delete_bucket, [("bucket", None), ("safe", True), ("last_modified", None)]),
    (Client.get_collections, [("bucket", None)]),
    (
        Client.create_collection,
        [
            ("collection", None),
            ("bucket", None),
            ("data", None),
            ("permissions", None),
            ("safe", True),
            ("if_not_exists", False),
        ],
    ),
    (
        Client.update_collection,
        [
            ("data", None),
            ("collection", None),
            ("bucket", None),
            ("permissions", None),
            ("method", "put"),
            ("safe", True),
            ("last_modified", None),
        ],
    ),
    (
        Client.patch_collection,
        [("data", None), ("collection", None), ("bucket", None), ("permissions", None)],
    ),
    (Client.get_collection, [("collection", None), ("bucket", None)]),
    (
        Client.delete_collection,
        [("collection", None), ("bucket", None), ("safe", True), ("last_modified", None)],
    ),
    (Client.get_records, [("collection", None), ("bucket", None)]),
    (Client.get_record, [("id", REQUIRED), ("collection", None), ("bucket", None)]),
    (
        Client.create_record,
        [
            ("data", REQUIRED),
            ("id", None),
            ("collection", None),
            ("permissions", None),
            ("bucket", None),
            ("safe", True),
            ("if_not_exists", False),
        ],
    ),
    (
        Client.update_record,
        [
            ("data", REQUIRED),
            ("id", None),
            ("collection", None),
            ("permissions", None),
            ("bucket", None),
            ("safe", True),
            ("method", "put"),
            ("last_modified", None),
        ],
    ),
    (
        Client.patch_record,
        [
            ("data", REQUIRED),
            ("id", None),
            ("collection", None),
            ("permissions", None),
            ("bucket", None),
            ("safe", True),
        ],
    ),
    (
        Client.delete_record,
        [
            ("id", REQUIRED),
            ("collection", None),
            ("bucket", None),
            ("safe", True),
            ("last_modified", None),
        ],
    ),
    (Client.delete_records, [("records", REQUIRED)]),
    (Client.update_records, [("records", REQUIRED), ("collection", None)]),
    (
        create_session,
        [
            ("server_url", None),
            ("auth", None),
            ("session", None),
            ("retry", 0),
            ("retry_after", None),
        ],
    ),
    (
        Session.__init__,
        [("server_url", REQUIRED), ("auth", None), ("retry", 0), ("retry_after", None)],
    ),
    (
        Session.request,
        [
            ("method", REQUIRED),
            ("endpoint", REQUIRED),
            ("data", None),
            ("permissions", None),
            ("payload", None),
        ],
    ),
    (Endpoints.__init__, [("root", "")]),
    (
        cli_utils.add_parser_options,
        [
            ("parser", None),
            ("default_server", None),
            ("default_auth", None),
            ("default_bucket", None),
            ("default_collection", None),
            ("include_bucket", True),
            ("include_collection", True),
        ],
    ),
    (cli_utils.create_client_from_args, [("args", REQUIRED)]),
    (cli_utils.setup_logger, [("logger", REQUIRED), ("args", REQUIRED)]),
    (cli_utils.get_auth, [("value", REQUIRED)]),
    (replication.replicate, [("origin", REQUIRED), ("destination", REQUIRED)]),
    (utils.slugify, [("value", REQUIRED)]),
    (utils.urljoin, [("server_url", REQUIRED), ("path", REQUIRED)]),
    (utils.quote, [("text", REQUIRED)]),
]


@pytest.mark.parametrize(
    ("func", "documented"), SIGNATURES, ids=[f.__qualname__ for f, _ in SIGNATURES]
)
def test_documented_signature(func, documented):
    assert_signature(func, documented)


@pytest.mark.parametrize(
    "func",
    [
        Client.clone,
        Client.batch,
        Client.get_records,
        Session.request,
        Endpoints.get,
        cli_utils.add_parser_options,
    ],
)
def test_documented_var_keywords(func):
    assert has_var_keyword(func)


def test_other_documented_names():
    assert len(params_of(Endpoints.get)) == 1  # get(name, **kwargs)
    assert len(params_of(utils.chunks)) == 2  # chunks(l, n)
    assert issubclass(cli_utils.AuthAction, __import__("argparse").Action)
    assert params_of(replication.main)[:1] in ([], [("argv", None)])
    # patch_* take update_*'s arguments with method='patch'.
    assert "method" not in dict(params_of(Client.patch_record))
    assert "method" not in dict(params_of(Client.patch_collection))


def test_positional_arguments_in_documented_order(client, raw, server_url):
    c = Client(server_url, None, AUTH, "b0", "c0", 0, None)
    c.create_bucket("b0", {"n": 1}, {"read": ["system.Everyone"]}, True, False)
    c.create_collection("c0", "b0", {"n": 2}, None, True, False)
    c.create_record({"n": 3}, "r0", "c0", {"read": ["leplatrem"]}, "b0", True, False)
    c.update_record({"n": 4}, "r0", "c0", None, "b0", True, "put", None)
    c.update_collection({"n": 5}, "c0", "b0", None, "put", True, None)
    c.update_bucket("b0", {"n": 6}, None, True, None)

    base = f"{server_url}/buckets/b0"
    bucket = read(raw, base)
    assert bucket["data"]["n"] == 6
    assert bucket["permissions"]["read"] == ["system.Everyone"]
    assert read(raw, base + "/collections/c0")["data"]["n"] == 5
    record = read(raw, base + "/collections/c0/records/r0")
    assert record["data"]["n"] == 4
    assert record["permissions"]["read"] == ["leplatrem"]  # a data-only PUT keeps permissions

    assert c.get_record("r0", "c0", "b0")["data"]["n"] == 4
    assert c.get_collection("c0", "b0")["data"]["n"] == 5
    assert c.delete_record("r0", "c0", "b0", True, None)["deleted"] is True
    assert c.delete_collection("c0", "b0", True, None)["deleted"] is True
    assert c.delete_bucket("b0", True, None)["deleted"] is True
    assert status_of(raw, base) in (403, 404)


# -- Client: clone, batch, repr ----------------------------------------------------------


def test_clone_shares_session_bucket_and_collection(client, raw, b):
    original = client.clone(bucket="b", collection="c")
    clone = original.clone()
    assert clone.session is original.session
    assert (clone.bucket_name, clone.collection_name) == ("b", "c")
    clone.create_record({"id": "from-clone"})
    assert read(raw, f"{b}/collections/c/records/from-clone")["data"]["id"] == "from-clone"

    other = original.clone(collection="other")
    assert other.session is original.session
    assert (other.bucket_name, other.collection_name) == ("b", "other")
    other.create_collection()
    other.create_record({"id": "elsewhere"})
    assert status_of(raw, f"{b}/collections/other/records/elsewhere") == 200
    assert status_of(raw, f"{b}/collections/c/records/elsewhere") == 404


def test_clone_with_new_credentials_makes_a_new_session(client, raw, server_url):
    client.create_bucket("shared", permissions={"read": ["system.Authenticated"]})
    other = client.clone(auth=("leplatrem", "s3cr3t"))
    assert other.session is not client.session
    me = client.server_info()["user"]["id"]
    assert other.session.request("get", "/")[0]["user"]["id"] != me
    assert other.get_bucket("shared")["data"]["id"] == "shared"


def test_repr(server_url):
    client = Client(server_url=server_url, bucket="mybucket", collection="mycollection")
    expected = f"<KintoClient {server_url}/buckets/mybucket/collections/mycollection>"
    assert repr(client) == expected
    assert repr(Client(server_url=server_url)) == (
        f"<KintoClient {server_url}/buckets/default/collections/None>"
    )


def test_batch_sends_chunks_of_batch_max_requests(pclient, proxy, raw, server_url):
    pclient.create_bucket("b")
    pclient.create_collection("c", bucket="b")
    proxy.reset()

    with pclient.batch(bucket="b", collection="c") as batch:
        for n in range(60):
            batch.create_record({"id": f"r{n}", "n": n})
        assert proxy.count("POST", "/batch") == 0  # queued, not sent

    posts = proxy.requests("POST", "/batch")
    assert [len(sent_subs(p)) for p in posts] == [25, 25, 10]
    # Only /batch (and one GET / for the settings) went out.
    assert {(s.method, s.path) for s in proxy.seen} == {("GET", "/v1/"), ("POST", "/v1/batch")}
    results = batch.results()
    assert len(results) == 60
    assert [r["data"]["n"] for r in results] == list(range(60))
    stored = read_all(raw, f"{server_url}/buckets/b/collections/c/records")
    assert sorted(r["n"] for r in stored) == list(range(60))


def test_batch_max_requests_is_read_once_and_cached(pclient, proxy):
    pclient.create_bucket("b")
    proxy.reset()
    for _ in range(3):
        with pclient.batch(bucket="b") as batch:
            batch.create_collection(f"c{uuid.uuid4().hex[:6]}")
    assert proxy.count("GET", "/v1/") == 1
    assert proxy.count("POST", "/batch") == 3
    assert len(pclient.get_collections(bucket="b")) == 3


def test_batch_kwargs_go_to_the_batch_client(client, raw, b):
    with client.batch(bucket="b", collection="c") as batch:
        assert (batch.bucket_name, batch.collection_name) == ("b", "c")
        batch.create_record({"id": "x"})
    assert status_of(raw, f"{b}/collections/c/records/x") == 200


def test_batch_failure_raises_with_request_and_response(client, raw, b):
    client.create_record({"id": "taken"}, bucket="b", collection="c")
    with pytest.raises(KintoException) as excinfo:
        with client.batch(bucket="b", collection="c") as batch:
            batch.create_record({"id": "new"})
            batch.create_record({"id": "taken"})  # safe create: 412
    error = excinfo.value
    assert error.request["method"] == "PUT"
    assert error.request["path"] == "/buckets/b/collections/c/records/taken"
    assert error.request["headers"]["If-None-Match"] == "*"
    assert error.response["status"] == 412
    assert "412" in str(error)
    # The other operation of the batch was committed.
    assert status_of(raw, f"{b}/collections/c/records/new") == 200


# -- Buckets -----------------------------------------------------------------------------------


def test_create_bucket_sends_data_and_permissions(pclient, proxy, raw, server_url):
    created = pclient.create_bucket("b", data={"label": "B"}, permissions={"read": ["leplatrem"]})
    (put,) = proxy.requests("PUT", "/buckets/b")
    assert put.headers["If-None-Match"] == "*"
    assert sent_json(put)["data"] == {"label": "B"}
    stored = read(raw, f"{server_url}/buckets/b")
    assert stored["data"]["label"] == "B"
    assert stored["permissions"]["read"] == ["leplatrem"]
    assert created["data"] == stored["data"]


def test_create_bucket_safe_never_overwrites(client, raw, server_url):
    client.create_bucket("b", data={"v": 1})
    with pytest.raises(KintoException) as excinfo:
        client.create_bucket("b", data={"v": 2})
    assert excinfo.value.response.status_code == 412
    assert read(raw, f"{server_url}/buckets/b")["data"]["v"] == 1
    client.create_bucket("b", data={"v": 3}, safe=False)
    assert read(raw, f"{server_url}/buckets/b")["data"]["v"] == 3


def test_create_if_not_exists_returns_the_existing_object(client, raw, b):
    raw.put(f"{b}/collections/c/records/r", json={"data": {"v": 1}, "permissions": {"read": ["x"]}})
    for result in (
        client.create_bucket("b", data={"v": 2}, if_not_exists=True),
        client.create_collection("c", bucket="b", data={"v": 2}, if_not_exists=True),
        client.create_record({"v": 2}, id="r", collection="c", bucket="b", if_not_exists=True),
    ):
        assert set(result) >= {"data", "permissions"}
        assert result["data"].get("v") != 2
        assert result["permissions"]["write"]
    record = client.create_record({"v": 2}, id="r", collection="c", bucket="b", if_not_exists=True)
    assert record["data"]["v"] == 1 and record["permissions"]["read"] == ["x"]
    assert read(raw, f"{b}/collections/c/records/r")["data"]["v"] == 1
    # On an absent object, it creates.
    new = client.create_record({"v": 9}, id="s", collection="c", bucket="b", if_not_exists=True)
    assert new["data"]["v"] == 9
    assert read(raw, f"{b}/collections/c/records/s")["data"]["v"] == 9


def test_update_bucket(client, raw, server_url):
    client.create_bucket("b", data={"a": 1})
    client.update_bucket("b", data={"b": 2})
    stored = read(raw, f"{server_url}/buckets/b")
    assert stored["data"] == {"id": "b", "a": 1, "b": 2, "last_modified": ANY}  # a merge, as 4.0
    client.update_bucket("b", data={"c": 3}, method="put")
    stored = read(raw, f"{server_url}/buckets/b")
    assert stored["data"]["c"] == 3 and "a" not in stored["data"]  # put replaces


def test_permissions_only_update_never_wipes_data(client, raw, b):
    raw.put(b, json={"data": {"keep": "bucket"}})
    raw.put(f"{b}/collections/c", json={"data": {"keep": "collection"}})
    raw.put(f"{b}/collections/c/records/r", json={"data": {"keep": "record"}})
    everyone = {"read": ["system.Everyone"]}

    client.update_bucket("b", permissions=everyone)
    client.update_collection(collection="c", bucket="b", permissions=everyone)
    client.patch_collection(collection="c", bucket="b", permissions={"write": ["leplatrem"]})
    client.update_record({}, id="r", collection="c", bucket="b", permissions=everyone)

    for url, kept in (
        (b, "bucket"),
        (f"{b}/collections/c", "collection"),
        (f"{b}/collections/c/records/r", "record"),
    ):
        stored = read(raw, url)
        assert stored["permissions"]["read"] == ["system.Everyone"], url
        if kept != "record":  # a record's data is the given {} plus its id
            assert stored["data"]["keep"] == kept, url
    assert "leplatrem" in read(raw, f"{b}/collections/c")["permissions"]["write"]


def test_get_bucket(client, raw, b):
    got = client.get_bucket("b")
    assert got == read(raw, b)


def test_get_bucket_not_found(client):
    with pytest.raises(BucketNotFound) as excinfo:
        client.get_bucket("unknown")
    error = excinfo.value
    assert isinstance(error, KintoException)
    assert error.response.status_code in (403, 404)
    assert error.request.method == "GET"
    assert error.request.url.endswith("/buckets/unknown")
    assert "unknown" in str(error)


def test_delete_bucket_returns_data(client, raw, b):
    deleted = client.delete_bucket("b")
    assert deleted["id"] == "b" and deleted["deleted"] is True
    assert isinstance(deleted["last_modified"], int)
    assert status_of(raw, b) in (403, 404)


# -- Collections -------------------------------------------------------------------------


def test_get_collections_follows_every_page(client, raw, server_url):
    client.create_bucket("b")
    with client.batch(bucket="b") as batch:
        for n in range(23):  # paginate_by is 10: three pages
            batch.create_collection(f"c{n}")
    collections = client.get_collections(bucket="b")
    assert sorted(c["id"] for c in collections) == sorted(f"c{n}" for n in range(23))
    assert all(isinstance(c, dict) for c in collections)
    assert len(read_all(raw, f"{server_url}/buckets/b/collections")) == 23


def test_create_get_delete_collection(client, raw, b):
    client.create_collection("d", bucket="b", data={"schema": {}}, permissions={"read": ["z"]})
    stored = read(raw, f"{b}/collections/d")
    assert stored["data"]["schema"] == {} and stored["permissions"]["read"] == ["z"]
    assert client.get_collection("d", bucket="b") == stored
    deleted = client.delete_collection("d", bucket="b")
    assert deleted["id"] == "d" and deleted["deleted"] is True
    assert status_of(raw, f"{b}/collections/d") == 404


def test_update_and_patch_collection(client, raw, b):
    client.update_collection({"a": 1}, "c", "b")
    client.patch_collection({"b": 2}, "c", "b")
    assert read(raw, f"{b}/collections/c")["data"] | {"last_modified": 0} == {
        "id": "c",
        "a": 1,
        "b": 2,
        "last_modified": 0,
    }
    client.update_collection({"c": 3}, "c", "b", method="patch")
    assert read(raw, f"{b}/collections/c")["data"]["a"] == 1
    client.update_collection({"d": 4}, "c", "b")
    assert "a" not in read(raw, f"{b}/collections/c")["data"]


# -- Records -------------------------------------------------------------------------------


def test_get_records_query_parameters_and_pages(client, raw, b):
    with client.batch(bucket="b", collection="c") as batch:
        for n in range(25):
            batch.create_record({"id": f"r{n:02d}", "n": n, "even": n % 2 == 0})
    records = client.get_records(collection="c", bucket="b", _sort="n")
    assert [r["n"] for r in records] == list(range(25))  # three pages of 10
    evens = client.get_records(collection="c", bucket="b", even=True, _sort="-n")
    assert [r["n"] for r in evens] == list(range(24, -1, -2))
    some = client.get_records(collection="c", bucket="b", in_id=["r01", "r03"], _sort="id")
    assert [r["id"] for r in some] == ["r01", "r03"]
    assert len(read_all(raw, f"{b}/collections/c/records")) == 25


def test_get_records_result_is_a_list_answering_data(client, raw, b):
    raw.put(f"{b}/collections/c/records/r", json={"data": {"v": 1}})
    records = client.get_records(collection="c", bucket="b")
    assert isinstance(records, list) and len(records) == 1
    assert records["data"] == records
    assert records[0]["v"] == 1
    assert records.timestamp == int(raw.get(f"{b}/collections/c/records").headers["ETag"][1:-1])


def test_create_record_id_sources(client, raw, b):
    from_arg = client.create_record({"v": 1}, id="given", collection="c", bucket="b")
    from_data = client.create_record({"id": "in-data", "v": 2}, collection="c", bucket="b")
    generated = client.create_record({"v": 3}, collection="c", bucket="b")
    assert from_arg["data"]["id"] == "given"
    assert from_data["data"]["id"] == "in-data"
    assert uuid.UUID(generated["data"]["id"]).version == 4
    stored = {r["id"]: r["v"] for r in read_all(raw, f"{b}/collections/c/records")}
    assert stored == {"given": 1, "in-data": 2, generated["data"]["id"]: 3}


def test_update_record_id_sources_and_missing_id(pclient, proxy, raw):
    pclient.create_bucket("b")
    pclient.create_collection("c", bucket="b")
    pclient.update_record({"v": 1}, id="from-arg", collection="c", bucket="b")
    pclient.update_record({"id": "from-data", "v": 2}, collection="c", bucket="b")
    base = f"{pclient.server_url}/buckets/b/collections/c/records"
    assert read(raw, f"{base}/from-arg")["data"]["v"] == 1
    assert read(raw, f"{base}/from-data")["data"]["v"] == 2

    proxy.reset()
    with pytest.raises(KeyError) as excinfo:
        pclient.update_record({"v": 3}, collection="c", bucket="b")
    assert isinstance(excinfo.value, KintoException)
    assert "id" in str(excinfo.value)
    assert proxy.seen == []  # raised before anything was sent


def test_patch_record_merges(client, raw, b):
    client.create_record({"id": "r", "a": 1}, collection="c", bucket="b")
    client.patch_record({"b": 2}, "r", "c", None, "b")
    assert read(raw, f"{b}/collections/c/records/r")["data"]["a"] == 1
    assert read(raw, f"{b}/collections/c/records/r")["data"]["b"] == 2
    client.update_record({"c": 3}, "r", "c", None, "b")
    assert "a" not in read(raw, f"{b}/collections/c/records/r")["data"]


def test_delete_record_returns_data(client, raw, b):
    client.create_record({"id": "r"}, collection="c", bucket="b")
    deleted = client.delete_record("r", collection="c", bucket="b")
    assert deleted["id"] == "r" and deleted["deleted"] is True
    assert status_of(raw, f"{b}/collections/c/records/r") == 404


def test_update_records_is_one_batch(pclient, proxy, raw):
    pclient.create_bucket("b")
    pclient.create_collection("c", bucket="b")
    with pclient.batch(bucket="b", collection="c") as batch:
        for n in range(20):
            batch.create_record({"id": f"r{n}", "n": n})
    records = pclient.get_records(collection="c", bucket="b")
    for record in records:
        record["n"] += 100
    proxy.reset()

    results = pclient.update_records(records, collection="c", bucket="b")

    assert proxy.count("POST", "/batch") == 1
    assert proxy.count() == 1
    assert len(results) == 20
    stored = read_all(raw, pclient.server_url + "/buckets/b/collections/c/records")
    assert sorted(r["n"] for r in stored) == list(range(100, 120))


def test_update_records_with_whole_objects(client, raw, b):
    client.create_record({"id": "r1"}, collection="c", bucket="b")
    whole = client.get_record("r1", collection="c", bucket="b")
    whole["data"]["v"] = 1
    whole["permissions"]["read"] = ["system.Everyone"]
    client.update_records([whole], collection="c", bucket="b")
    stored = read(raw, f"{b}/collections/c/records/r1")
    assert stored["data"]["v"] == 1 and "data" not in stored["data"]
    assert stored["permissions"]["read"] == ["system.Everyone"]


def test_delete_records_is_one_batch(pclient, proxy, raw):
    pclient.create_bucket("b")
    pclient.create_collection("c", bucket="b")
    with pclient.batch(bucket="b", collection="c") as batch:
        for n in range(6):
            batch.create_record({"id": f"r{n}"})
    records = pclient.get_records(collection="c", bucket="b")
    proxy.reset()

    deleted = pclient.delete_records(records[:4], collection="c", bucket="b")

    assert proxy.count("POST", "/batch") == 1 and proxy.count() == 1
    (post,) = proxy.requests("POST", "/batch")
    assert {sub["method"] for sub in sent_subs(post)} == {"DELETE"}
    assert sorted(d["id"] for d in deleted) == sorted(r["id"] for r in records[:4])
    assert all(d["deleted"] for d in deleted)
    remaining = read_all(raw, pclient.server_url + "/buckets/b/collections/c/records")
    assert sorted(r["id"] for r in remaining) == sorted(r["id"] for r in records[4:])
    # Records located by the KintoObject origin (client without defaults).
    pclient.delete_records(pclient.get_records(collection="c", bucket="b"))
    assert read_all(raw, pclient.server_url + "/buckets/b/collections/c/records") == []


def test_whole_object_update_is_not_nested(client, raw, b):
    client.create_record({"id": "r", "v": 1}, collection="c", bucket="b")
    for get, update, url in (
        (
            lambda: client.get_record("r", collection="c", bucket="b"),
            lambda obj: client.update_record(obj, collection="c", bucket="b"),
            f"{b}/collections/c/records/r",
        ),
        (
            lambda: client.get_collection("c", bucket="b"),
            lambda obj: client.update_collection(obj, "c", "b"),
            f"{b}/collections/c",
        ),
        (
            lambda: client.get_bucket("b"),
            lambda obj: client.update_bucket("b", obj),
            b,
        ),
    ):
        obj = get()
        obj["data"]["label"] = "updated"
        obj["permissions"]["read"] = ["system.Authenticated"]
        update(obj)
        stored = read(raw, url)
        assert stored["data"]["label"] == "updated", url
        assert "data" not in stored["data"] and "permissions" not in stored["data"], url
        assert stored["permissions"]["read"] == ["system.Authenticated"], url


def test_whole_collection_goes_back_where_it_came_from(client, raw, b):
    obj = client.get_collection("c", bucket="b")
    obj["data"]["label"] = "home"
    client.update_collection(obj)
    assert read(raw, f"{b}/collections/c")["data"]["label"] == "home"


# -- safe: concurrency control headers -----------------------------------------------------


def test_safe_create_sends_if_none_match(pclient, proxy):
    pclient.create_bucket("b")
    pclient.create_bucket("b2", safe=False)
    pclient.create_collection("c", bucket="b")
    pclient.create_record({"id": "r"}, collection="c", bucket="b")
    assert proxy.requests("PUT", "/buckets/b")[0].headers["If-None-Match"] == "*"
    assert "If-None-Match" not in proxy.requests("PUT", "/buckets/b2")[0].headers
    assert proxy.requests("PUT", "/collections/c")[0].headers["If-None-Match"] == "*"
    assert proxy.requests("PUT", "/records/r")[0].headers["If-None-Match"] == "*"
    with pytest.raises(KintoException) as excinfo:
        pclient.create_record({"id": "r"}, collection="c", bucket="b")
    assert excinfo.value.response.status_code == 412


def test_safe_update_sends_if_match(pclient, proxy, raw):
    pclient.create_bucket("b")
    pclient.create_collection("c", bucket="b")
    ts = pclient.create_record({"id": "r", "v": 0}, collection="c", bucket="b")["data"][
        "last_modified"
    ]
    proxy.reset()

    # From the last_modified argument.
    pclient.patch_record({"v": 1}, id="r", collection="c", bucket="b", last_modified=ts)
    assert proxy.seen[-1].headers["If-Match"] == f'"{ts}"'
    # From data['last_modified'].
    current = pclient.get_record("r", collection="c", bucket="b")["data"]
    pclient.update_record({**current, "v": 2}, collection="c", bucket="b")
    assert proxy.seen[-1].headers["If-Match"] == f'"{current["last_modified"]}"'
    # The argument wins over data['last_modified'].
    fresh = read(raw, pclient.server_url + "/buckets/b/collections/c/records/r")["data"]
    pclient.patch_record(
        {"v": 2, "last_modified": ts}, "r", "c", bucket="b", last_modified=fresh["last_modified"]
    )
    assert proxy.seen[-1].headers["If-Match"] == f'"{fresh["last_modified"]}"'
    # A stale timestamp is refused by the server; nothing changes.
    with pytest.raises(KintoException) as excinfo:
        pclient.update_record({"v": 3}, id="r", collection="c", bucket="b", last_modified=ts)
    assert excinfo.value.response.status_code == 412
    url = pclient.server_url + "/buckets/b/collections/c/records/r"
    assert read(raw, url)["data"]["v"] == 2
    # safe=False sends no If-Match, even with a timestamp.
    pclient.update_record(
        {"v": 4}, id="r", collection="c", bucket="b", safe=False, last_modified=ts
    )
    assert "If-Match" not in proxy.seen[-1].headers
    assert read(raw, url)["data"]["v"] == 4
    # Delete, stale then right.
    with pytest.raises(KintoException):
        pclient.delete_record("r", collection="c", bucket="b", last_modified=ts)
    assert proxy.seen[-1].headers["If-Match"] == f'"{ts}"'
    now = read(raw, url)["data"]["last_modified"]
    pclient.delete_record("r", collection="c", bucket="b", last_modified=now)
    assert status_of(raw, url) == 404


def test_safe_collection_and_bucket_updates_and_deletes(client, raw, b):
    old = read(raw, b)["data"]["last_modified"]
    client.update_bucket("b", data={"v": 1}, last_modified=old)
    with pytest.raises(KintoException) as excinfo:
        client.update_bucket("b", data={"v": 2}, last_modified=old)
    assert excinfo.value.response.status_code == 412
    with pytest.raises(KintoException):
        client.delete_bucket("b", last_modified=old)
    c_old = read(raw, f"{b}/collections/c")["data"]["last_modified"]
    client.patch_collection({"v": 1}, "c", "b", last_modified=c_old)
    with pytest.raises(KintoException):
        client.update_collection({"v": 2}, "c", "b", last_modified=c_old)
    with pytest.raises(KintoException):
        client.delete_collection("c", "b", last_modified=c_old)
    assert read(raw, f"{b}/collections/c")["data"]["v"] == 1
    assert read(raw, b)["data"]["v"] == 1


# -- errors ---------------------------------------------------------------------------------


def test_error_message_is_status_and_json_body(client, raw, b):
    with pytest.raises(KintoException) as excinfo:
        client.get_record("missing", collection="c", bucket="b")
    error = excinfo.value
    response = raw.get(f"{b}/collections/c/records/missing")
    assert error.response.status_code == 404
    status, _, body = str(error).partition(" - ")
    assert status == "404"
    assert json.loads(body) == response.json()
    assert error.request.url == response.request.url


@pytest.mark.parametrize("status", [400, 401, 403, 404, 412])
def test_any_status_outside_2xx_3xx_raises(client, raw, b, status):
    actions = {
        400: lambda c: c.get_records(collection="c", bucket="b", _limit="many"),
        401: lambda c: Client(server_url=c.server_url).get_bucket("b"),
        403: lambda c: c.clone(auth=("leplatrem", "s3cr3t")).get_collection("c", bucket="b"),
        404: lambda c: c.get_record("nope", collection="c", bucket="b"),
        412: lambda c: c.create_collection("c", bucket="b"),
    }
    with pytest.raises(KintoException) as excinfo:
        actions[status](client)
    error = excinfo.value
    response = error.response if hasattr(error.response, "status_code") else None
    if status == 401:  # get_bucket rewords it, keeping the response
        assert "Unauthorized" in str(error)
        assert error.response.status_code == 401
        return
    assert response is not None and response.status_code == status, str(error)
    assert str(error).startswith(f"{status} - ")
    assert error.request is not None


def test_non_json_error_body_gives_a_readable_message(proxy, client):
    proxy.add("respond", path="/buckets/b", status=502, body=HTML_502, times=1)
    c = Client(server_url=proxy.url, auth=AUTH)
    with pytest.raises(KintoException) as excinfo:
        c.get_collection("c", bucket="b")
    error = excinfo.value
    assert not isinstance(error, json.JSONDecodeError)
    assert str(error).startswith("502 - ")
    assert "502 Bad Gateway" in str(error)
    assert error.response.status_code == 502


def test_retry_on_5xx_up_to_n_times(proxy, raw, server_url):
    proxy.add(
        "respond",
        method="PUT",
        path="/buckets/b",
        status=503,
        headers={"Retry-After": "0"},
        times=2,
    )
    client = Client(server_url=proxy.url, auth=AUTH, retry=2)
    client.create_bucket("b")
    assert proxy.count("PUT", "/buckets/b") == 3
    assert status_of(raw, f"{server_url}/buckets/b") == 200

    proxy.reset()
    proxy.add(
        "respond",
        method="PUT",
        path="/buckets/x",
        status=503,
        headers={"Retry-After": "0"},
        times=5,
    )
    with pytest.raises(KintoException) as excinfo:
        Client(server_url=proxy.url, auth=AUTH, retry=1, retry_after=0.01).create_bucket("x")
    assert excinfo.value.response.status_code == 503
    assert proxy.count("PUT", "/buckets/x") == 2
    assert status_of(raw, f"{server_url}/buckets/x") in (403, 404)
    # Without retry, a 5xx raises at once.
    proxy.reset()
    proxy.add("respond", method="PUT", path="/buckets/y", status=500, times=5)
    with pytest.raises(KintoException):
        Client(server_url=proxy.url, auth=AUTH).create_bucket("y")
    assert proxy.count("PUT", "/buckets/y") == 1
    # The wait: the server's Retry-After as a number, or the forced retry_after.
    assert Client(server_url=proxy.url, retry=2).session.retry.wait(0, "3") == 3.0
    assert Client(server_url=proxy.url, retry=2, retry_after=1).session.retry.wait(0, "3") == 1


# -- Session ------------------------------------------------------------------------------------


def test_create_session_attribute_errors(server_url):
    session = Session(server_url, auth=AUTH)
    with pytest.raises(AttributeError):
        create_session(server_url=server_url, session=session)
    with pytest.raises(AttributeError):
        create_session(auth=AUTH, session=session)
    with pytest.raises(AttributeError):
        create_session()
    with pytest.raises(AttributeError):
        Client()
    assert create_session(session=session) is session
    made = create_session(server_url, AUTH, retry=3, retry_after=1)
    assert isinstance(made, Session)
    assert (made.server_url, made.retry.total, made.retry_after) == (server_url, 3, 1)
    assert Client(session=session).session is session


def test_session_request_returns_body_and_headers(client, raw, server_url):
    session = Session(server_url, auth=AUTH)
    body, headers = session.request("put", "/buckets/b", data={"v": 1})
    assert body["data"]["v"] == 1
    assert headers["ETag"] == f'"{body["data"]["last_modified"]}"'
    assert read(raw, f"{server_url}/buckets/b")["data"]["v"] == 1


def test_session_joins_relative_endpoints(pclient, proxy):
    session = Session(proxy.url, auth=AUTH)
    session.request("put", "/buckets/b1")
    session.request("put", "buckets/b2")
    session.request("get", f"{proxy.url}/buckets/b1")
    assert [(s.method, s.path) for s in proxy.seen] == [
        ("PUT", "/v1/buckets/b1"),
        ("PUT", "/v1/buckets/b2"),
        ("GET", "/v1/buckets/b1"),
    ]
    assert Session(proxy.url + "/").request("get", "/")[0]["project_name"] == "kinto"


def test_session_get_and_head_carry_no_body(pclient, proxy):
    session = Session(proxy.url, auth=AUTH)
    session.request("put", "/buckets/b")
    session.request("get", "/buckets/b", data={"v": 1}, permissions={"read": ["x"]})
    body, headers = session.request("head", "/buckets/b", data={"v": 1})
    (get,) = proxy.requests("GET")
    (head,) = proxy.requests("HEAD")
    assert get.body == b"" and head.body == b""
    assert "Content-Type" not in get.headers
    assert body is None and "ETag" in headers


def test_session_permissions_with_as_dict(client, raw, server_url):
    class Permissions:
        def as_dict(self) -> dict[str, list[str]]:
            return {"read": ["system.Everyone"]}

    session = Session(server_url, auth=AUTH)
    session.request("put", "/buckets/b", data={"v": 1}, permissions=Permissions())
    client.update_bucket("b", permissions=Permissions())
    stored = read(raw, f"{server_url}/buckets/b")
    assert stored["permissions"]["read"] == ["system.Everyone"]


def test_session_payload_is_merged(client, raw, server_url):
    session = Session(server_url, auth=AUTH)
    session.request("put", "/buckets/b", payload={"data": {"v": 1}})
    assert read(raw, f"{server_url}/buckets/b")["data"]["v"] == 1


def test_session_files_send_the_payload_form_encoded(pclient, proxy):
    session = Session(proxy.url, auth=AUTH)
    body, _ = session.request(
        "post",
        "/__echo__",
        data={"v": 1},
        permissions={"read": ["x"]},
        files={"attachment": ("hello.txt", b"hello world", "text/plain")},
    )
    (seen,) = proxy.requests("POST", "/__echo__")
    assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    text = body["body"]
    assert re.search(r'name="data"\r\n\r\n\{"v":1\}\r\n', text)
    assert re.search(r'name="permissions"\r\n\r\n\{"read":\["x"\]\}\r\n', text)
    assert 'filename="hello.txt"' in text and "hello world" in text


def test_not_modified_gives_a_none_body(client, raw, b):
    client.create_record({"id": "r"}, collection="c", bucket="b")
    etag = raw.get(f"{b}/collections/c/records/r").headers["ETag"]
    body, headers = client.session.request(
        "get", "/buckets/b/collections/c/records/r", headers={"If-None-Match": etag}
    )
    assert body is None
    assert headers["ETag"] == etag
    changed, _ = client.session.request(
        "get", "/buckets/b/collections/c/records/r", headers={"If-None-Match": '"1"'}
    )
    assert changed["data"]["id"] == "r"


# -- integer ids, batch bodies, prefix ---------------------------------------------------------


def test_integer_ids_everywhere(client, raw, server_url):
    client.create_bucket(0)
    client.create_collection(1234, bucket=0)
    base = f"{server_url}/buckets/0/collections/1234/records"
    for record_id in (0, 1234):
        client.create_record({"v": 1}, id=record_id, collection=1234, bucket=0)
        assert read(raw, f"{base}/{record_id}")["data"] == {
            **read(raw, f"{base}/{record_id}")["data"],
            "id": str(record_id),
            "v": 1,
        }
        assert client.get_record(record_id, collection=1234, bucket=0)["data"]["v"] == 1
        client.update_record({"id": record_id, "v": 2}, collection=1234, bucket=0)
        client.patch_record({"w": 3}, id=record_id, collection=1234, bucket=0)
        stored = read(raw, f"{base}/{record_id}")["data"]
        assert (stored["id"], stored["v"], stored["w"]) == (str(record_id), 2, 3)
    client.create_record({"id": 0, "v": 0}, collection=1234, bucket=0, safe=False)
    assert read(raw, f"{base}/0")["data"]["v"] == 0
    assert client.get_collection(1234, bucket=0)["data"]["id"] == "1234"
    assert client.get_bucket(0)["data"]["id"] == "0"
    with client.batch(bucket=0, collection=1234) as batch:
        batch.update_record({"id": 0, "v": "batched"})
        batch.delete_record(1234)
    assert read(raw, f"{base}/0")["data"]["v"] == "batched"
    assert status_of(raw, f"{base}/1234") == 404
    assert client.delete_record(0, collection=1234, bucket=0)["id"] == "0"
    assert client.delete_collection(1234, bucket=0)["id"] == "1234"
    assert client.delete_bucket(0)["id"] == "0"
    assert status_of(raw, f"{server_url}/buckets/0") in (403, 404)


def test_batch_bodies_carry_no_empty_data(pclient, proxy, raw, server_url):
    with pclient.batch() as batch:
        batch.create_bucket("b")
        batch.create_collection("c", bucket="b")
        batch.update_bucket("b", permissions={"read": ["system.Everyone"]})
        batch.create_record({"id": "r"}, collection="c", bucket="b")
    (post,) = proxy.requests("POST", "/batch")
    subs = sent_subs(post)
    assert all(sub.get("body", {}).get("data", "absent") != {} for sub in subs), subs
    assert "body" not in subs[0]  # nothing to send for a bare create
    assert subs[2]["body"] == {"permissions": {"read": ["system.Everyone"]}}
    assert subs[3]["body"] == {"data": {"id": "r"}}
    assert read(raw, f"{server_url}/buckets/b")["permissions"]["read"] == ["system.Everyone"]
    assert status_of(raw, f"{server_url}/buckets/b/collections/c/records/r") == 200


def test_batch_removes_the_prefix_from_the_start_only(pclient, proxy, raw, server_url):
    with pclient.batch(bucket="v1", collection="v1") as batch:
        batch.create_bucket()
        batch.create_collection()
        batch.create_record({"id": "av1-x"})
        batch.create_record({"id": "v1"})
    (post,) = proxy.requests("POST", "/batch")
    paths = [sub["path"] for sub in sent_subs(post)]
    assert paths == [
        "/buckets/v1",
        "/buckets/v1/collections/v1",
        "/buckets/v1/collections/v1/records/av1-x",
        "/buckets/v1/collections/v1/records/v1",
    ]
    base = f"{server_url}/buckets/v1/collections/v1/records"
    assert sorted(r["id"] for r in read_all(raw, base)) == ["av1-x", "v1"]


# -- pagination ------------------------------------------------------------------------------


def test_get_records_follows_all_pages(pclient, proxy, raw):
    pclient.create_bucket("b")
    pclient.create_collection("c", bucket="b")
    with pclient.batch(bucket="b", collection="c") as batch:
        for n in range(35):
            batch.create_record({"id": f"r{n}", "n": n})
    proxy.reset()
    records = pclient.get_records(collection="c", bucket="b")
    assert sorted(r["n"] for r in records) == list(range(35))
    assert proxy.count("GET", "/records") == 4  # paginate_by = 10


def test_a_1500_page_read_does_not_recurse(client, raw, server_url):
    """kinto-client 4.0.0 and kinto-http.py 11 die with RecursionError here."""
    c = client.clone(bucket="b", collection="c")
    c.create_bucket()
    c.create_collection()
    with c.batch() as batch:
        for n in range(1500):
            batch.create_record({"id": n}, safe=False)
    records = c.get_records(_limit=1)  # one record per page: 1,500 pages
    assert len(records) == 1500
    assert {r["id"] for r in records} == {str(n) for n in range(1500)}
    first = raw.get(f"{server_url}/buckets/b/collections/c/records?_limit=1")
    assert len(first.json()["data"]) == 1 and first.headers["Next-Page"]


# -- cli_utils alias -------------------------------------------------------------------------


def test_set_parser_server_options_is_add_parser_options():
    assert cli_utils.set_parser_server_options is cli_utils.add_parser_options
    parser = cli_utils.set_parser_server_options(None, default_server="http://localhost:8888/v1")
    args = parser.parse_args(["-a", "user:pass", "-b", "bb", "-c", "cc", "-D"])
    assert args.server == "http://localhost:8888/v1"
    assert (args.bucket, args.collection) == ("bb", "cc")


def test_batch_session_is_a_queueing_session(client):
    with client.batch() as batch:
        assert isinstance(batch.session, Batch)
        assert batch.session.session is client.session
        batch.create_bucket("queued")
        assert len(batch.session.requests) == 1


# -- bad arguments, retries, connections (issue 2) -------------------------------------------


def test_bad_arguments_raise_before_anything_is_sent(pclient, proxy):
    pclient.server_info()
    proxy.reset()
    with pytest.raises(TypeError, match="dict"):
        pclient.create_record("not a dict", collection="c", bucket="b")
    with pytest.raises(TypeError, match="dict"):
        pclient.update_record(["id", "x"], collection="c", bucket="b")
    with pytest.raises(KeyError):
        pclient.update_record({"title": "no id"}, collection="c", bucket="b")
    with pytest.raises(KintoException, match="collection is missing"):
        pclient.create_record({"id": "x"}, bucket="b")
    with pytest.raises(TypeError, match="permissions"):
        pclient.create_bucket("b", permissions={"read": "system.Everyone"})
    with pytest.raises(TypeError, match="title"):
        pclient.create_record({"title": object()}, collection="c", bucket="b")
    with pytest.raises(TypeError, match="dict"):
        with pclient.batch(bucket="b", collection="c") as batch:
            batch.create_record({"id": "ok"})
            batch.create_record("not a dict")
    assert proxy.seen == []
    for url in ("localhost:8888/v1", "ftp://host/v1", "/v1", "http:///v1"):
        with pytest.raises(ValueError, match="server_url"):
            Client(server_url=url)


def test_retried_create_keeps_its_generated_id(proxy, raw, server_url):
    client = Client(server_url=proxy.url, auth=AUTH, retry=2, bucket="b", collection="c")
    client.create_bucket()
    client.create_collection()
    proxy.add("respond", method="PUT", path="/records/", status=503, headers={"Retry-After": "0"})
    created = client.create_record({"v": 1})
    attempts = proxy.requests("PUT", "/records/")
    assert len(attempts) == 2
    assert attempts[0].path == attempts[1].path
    assert attempts[0].path.endswith("/" + created["data"]["id"])
    stored = read_all(raw, f"{server_url}/buckets/b/collections/c/records")
    assert [r["id"] for r in stored] == [created["data"]["id"]]


def test_one_thread_uses_one_connection(pclient, proxy):
    pclient.create_bucket("b")
    pclient.create_collection("c", bucket="b")
    for n in range(5):
        pclient.create_record({"n": n}, collection="c", bucket="b")
    assert len(pclient.get_records(collection="c", bucket="b")) == 5
    assert proxy.count() == 8
    assert proxy.connections == 1
