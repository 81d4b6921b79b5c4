"""What kinto-http.py 11 does and kinto-client 4.0 did not, on the real Kinto.

Each test reads back from the server (plain HTTP) what the client did, or
checks what it sent through the recording proxy; input errors are checked
to be raised before anything is sent (``proxy.count() == 0``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
import requests
from conftest import AUTH, read_all
from conftest_plugins import ATTACHMENT

import kinto_client
from kinto_client import (
    AsyncClient,
    BearerTokenAuth,
    Client,
    CollectionNotFound,
    KintoException,
    KintoHTTPError,
    TokenAuth,
)
from kinto_client.auth import parse_auth

# -- get_endpoint(group=) ------------------------------------------------------------------


def test_get_endpoint_takes_group_as_kinto_http_does():
    client = Client(server_url="http://127.0.0.1:9/v1", bucket="b")
    assert client.get_endpoint("group", group="g") == "/buckets/b/groups/g"
    assert client.get_endpoint("group", group="g") == client.get_endpoint("group", id="g")
    assert client.get_endpoint("group", bucket="o", id="g", group="g") == "/buckets/o/groups/g"
    with pytest.raises(ValueError, match=r"id='a' and group='g'.*give one of them"):
        client.get_endpoint("group", id="a", group="g")
    with pytest.raises(ValueError, match="The record endpoint takes no group="):
        client.get_endpoint("record", collection="c", id="r", group="g")


def test_async_get_endpoint_takes_group():
    async def main() -> None:
        async with AsyncClient(server_url="http://127.0.0.1:9/v1", bucket="b") as client:
            assert client.get_endpoint("group", group="g") == "/buckets/b/groups/g"

    asyncio.run(main())


# -- query parameters of single-object reads ----------------------------------------------


@pytest.fixture
def filled(client, raw, bucket, collection):
    """``bucket``/``collection`` with a record ``r``, a group ``g``, all titled."""
    base = f"{client.server_url}/buckets/{bucket}"
    for url, data in [
        (base, {"title": "B", "extra": 1}),
        (f"{base}/collections/{collection}", {"title": "C", "extra": 1}),
        (f"{base}/groups/g", {"title": "G", "members": ["a"]}),
        (f"{base}/collections/{collection}/records/r", {"title": "R", "extra": 1}),
    ]:
        assert raw.put(url, json={"data": data}).status_code in (200, 201)
    return client.clone(bucket=bucket, collection=collection)


def test_single_reads_take_fields(filled, collection):
    expected = {"id", "last_modified", "title"}
    assert set(filled.get_record("r", _fields=["title"])["data"]) == expected
    assert set(filled.get_collection(_fields="title")["data"]) == expected
    assert set(filled.get_bucket(_fields=["title"])["data"]) == expected
    assert set(filled.get_group("g", _fields=["title"])["data"]) == expected
    assert set(filled.get_record("r", _fields=["title", "extra"])["data"]) == expected | {"extra"}
    assert set(filled.get_record("r")["data"]) == expected | {"extra"}  # unchanged without


def test_single_reads_encode_options_as_list_reads_do(proxy, bucket, collection, filled):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    client.get_record("r", _fields=["title", "extra"])
    (sent,) = proxy.requests("GET", "/records/r")
    assert sent.path.endswith("/records/r?_fields=title%2Cextra")


def test_single_reads_refuse_a_misspelt_argument_before_sending(proxy, bucket, filled):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket)
    with pytest.raises(TypeError, match=r"get_record\(\) got colection=: .* starting with '_'"):
        client.get_record("r", colection="c")
    with pytest.raises(TypeError, match=r"get_bucket\(\) got title="):
        client.get_bucket(title="B")
    with pytest.raises(TypeError, match=r"get_collection\(\) got bukcet="):
        client.get_collection("c", bukcet="b")
    with pytest.raises(TypeError, match=r"get_group\(\) got members="):
        client.get_group("g", members="a")
    with pytest.raises(TypeError, match="_fields"):
        client.get_record("r", collection="c", _fields={"a": 1})  # encode_params refuses dicts
    assert proxy.count() == 0


def test_async_single_read_takes_fields(server_url, filled, bucket, collection):
    async def main() -> None:
        async with AsyncClient(
            server_url=server_url, auth=AUTH, bucket=bucket, collection=collection
        ) as client:
            record = await client.get_record("r", _fields=["title"])
            assert set(record["data"]) == {"id", "last_modified", "title"}

    asyncio.run(main())


# -- CollectionNotFound ------------------------------------------------------------------------


def test_get_collection_raises_collection_not_found(client, bucket):
    assert "CollectionNotFound" in kinto_client.__all__
    with pytest.raises(CollectionNotFound) as missing:
        client.get_collection("nope", bucket=bucket)
    exc = missing.value
    assert isinstance(exc, KintoHTTPError) and isinstance(exc, KintoException)  # 4.0 code
    assert exc.status_code == 404
    assert (exc.message, exc.bucket) == ("nope", bucket)
    assert str(exc).startswith("404 - ")  # as 4.0 worded it
    assert str(exc).endswith(
        f"(collection 'nope' in bucket '{bucket}' not found, or not readable with these "
        "credentials)"
    )
    assert str(CollectionNotFound("c")) == (
        "Collection 'c' not found, or not readable with these credentials."
    )
    assert exc.response is not None and exc.request is not None
    with pytest.raises(CollectionNotFound) as no_bucket:  # Kinto: 403 for a missing bucket
        client.get_collection("c", bucket="missing-bucket")
    assert no_bucket.value.status_code == 403


def test_collection_not_found_is_caught_as_4_0_caught_it(client, bucket):
    with pytest.raises(KintoException):
        client.get_collection("nope", bucket=bucket)
    with pytest.raises(KintoHTTPError) as exc:
        client.get_collection("nope", bucket=bucket)
    assert exc.value.status_code == 404


# -- original= on patch_* ------------------------------------------------------------------


def test_patch_record_with_original(proxy, raw, server_url, bucket, collection):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    client.create_record({"title": "first"}, id="r")
    read = client.get_record("r")
    client.patch_record({"done": True}, original=read)  # its id and If-Match
    (sent,) = proxy.requests("PATCH")
    assert sent.headers["If-Match"] == f'"{read["data"]["last_modified"]}"'
    assert sent.path.endswith("/records/r")
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/r"
    assert raw.get(url).json()["data"]["done"] is True
    # It changed since: the same original is now stale.
    with pytest.raises(KintoHTTPError) as stale:
        client.patch_record({"done": False}, original=read["data"])  # its data works too
    assert stale.value.status_code == 412
    assert raw.get(url).json()["data"]["done"] is True


@pytest.mark.parametrize("kind", ["bucket", "collection", "group"])
def test_patch_with_a_stale_original_is_refused(client, raw, bucket, collection, kind):
    base = f"{client.server_url}/buckets/{bucket}"
    urls = {"bucket": base, "collection": f"{base}/collections/{collection}"}
    urls["group"] = f"{base}/groups/g"
    assert raw.put(urls["group"], json={"data": {"members": []}}).status_code == 201
    c = client.clone(bucket=bucket)
    read = {
        "bucket": lambda: c.get_bucket(),
        "collection": lambda: c.get_collection(collection),
        "group": lambda: c.get_group("g"),
    }[kind]()
    patch = getattr(c, f"patch_{kind}")
    patch(data={"note": "fresh"}, original=read)  # the id comes from original
    assert raw.get(urls[kind]).json()["data"]["note"] == "fresh"
    with pytest.raises(KintoHTTPError) as stale:
        patch(data={"note": "stale"}, original=read)
    assert stale.value.status_code == 412
    assert raw.get(urls[kind]).json()["data"]["note"] == "fresh"


def test_original_of_a_record_read_without_default_collection(client, raw, bucket, collection):
    c = client.clone(bucket=None, collection=None)
    url = f"{client.server_url}/buckets/{bucket}/collections/{collection}/records/r"
    assert raw.put(url, json={"data": {"n": 1}}).status_code == 201
    read = c.get_record("r", collection=collection, bucket=bucket)
    c.patch_record({"n": 2}, original=read)  # goes back where it came from
    assert raw.get(url).json()["data"]["n"] == 2


def test_original_errors_are_raised_before_sending(proxy, bucket, collection):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    read = {"data": {"id": "r", "last_modified": 123}}
    with pytest.raises(ValueError, match=r"the id given \('x'\) is not the id of original="):
        client.patch_record({"a": 1}, id="x", original=read)
    with pytest.raises(ValueError, match="last_modified=5 is not the last_modified of original"):
        client.patch_record({"a": 1}, last_modified=5, original=read)
    with pytest.raises(ValueError, match="original= has no last_modified"):
        client.patch_collection({"a": 1}, original={"id": "c"})
    with pytest.raises(TypeError, match="original= must be the object read earlier"):
        client.patch_group("g", data={"a": 1}, original="g")  # type: ignore[arg-type]
    assert proxy.count() == 0
    stored = client.create_record({"a": 0}, id="r")["data"]
    read = {"data": stored}
    client.patch_record({"a": 1}, id="r", last_modified=stored["last_modified"], original=read)
    client.patch_record({"a": 2}, original=read, safe=False)  # stale, but safe=False: no check
    first, second = proxy.requests("PATCH")  # agreeing arguments are fine
    assert first.headers["If-Match"] == f'"{stored["last_modified"]}"'
    assert "If-Match" not in second.headers


# -- if_match= on plural deletes and purge_history -------------------------------------------------


def fill_records(raw, url: str, n: int) -> None:
    for i in range(n):
        assert raw.put(f"{url}/r{i:02d}", json={"data": {"i": i}}).status_code == 201


def test_delete_records_if_match(proxy, raw, server_url, bucket, collection):
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    fill_records(raw, url, 25)  # 3 pages of paginate_by = 10
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    timestamp = client.get_records().timestamp
    with pytest.raises(KintoHTTPError) as stale:
        client.delete_records(if_match=timestamp - 1)
    assert stale.value.status_code == 412
    assert len(read_all(raw, url)) == 25  # nothing deleted
    proxy.reset()
    deleted = client.delete_records(if_match=timestamp)
    assert len(deleted) == 25 and read_all(raw, url) == []
    sent = proxy.requests("DELETE")
    assert len(sent) == 3
    assert sent[0].headers["If-Match"] == f'"{timestamp}"'
    # Each next page goes under the timestamp our previous deletion left.
    assert all(s.headers["If-Match"] != f'"{timestamp}"' for s in sent[1:])
    assert len({s.headers["If-Match"] for s in sent}) == 3


def test_delete_records_if_match_stops_when_someone_else_writes(
    proxy, raw, server_url, bucket, collection
):
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    fill_records(raw, url, 25)
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    timestamp = client.get_records().timestamp
    # Between the first page and the second, another client writes.
    proxy.add(
        "headers",
        method="DELETE",
        path="/records",
        skip=1,
        on_fire=lambda: raw.put(f"{url}/late", json={"data": {}}),
    )
    with pytest.raises(KintoHTTPError, match="10 objects were deleted before the change") as exc:
        client.delete_records(if_match=timestamp)
    assert exc.value.status_code == 412
    assert len(read_all(raw, url)) == 16  # 25 - 10 + the late one


@pytest.mark.parametrize("kind", ["buckets", "collections", "groups"])
def test_plural_delete_with_a_stale_timestamp_deletes_nothing(client, raw, bucket, kind):
    base = f"{client.server_url}/buckets/{bucket}"
    plural = {"buckets": f"{client.server_url}/buckets", "collections": f"{base}/collections"}
    plural["groups"] = f"{base}/groups"
    for i in range(3):
        if kind == "buckets":
            assert raw.put(f"{plural[kind]}/x{i}").status_code == 201
        else:
            data = {"members": []} if kind == "groups" else {}
            assert raw.put(f"{plural[kind]}/x{i}", json={"data": data}).status_code == 201
    before = read_all(raw, plural[kind])
    c = client.clone(bucket=bucket)
    delete = getattr(c, f"delete_{kind}")
    timestamp = getattr(c, f"get_{kind}")().timestamp
    with pytest.raises(KintoHTTPError) as stale:
        delete(if_match=timestamp - 1)
    assert stale.value.status_code == 412
    assert read_all(raw, plural[kind]) == before
    assert len(delete(if_match=timestamp)) == len(before)
    assert read_all(raw, plural[kind]) == []


def test_purge_history_if_match(client, raw, bucket, collection):
    url = f"{client.server_url}/buckets/{bucket}/history"
    c = client.clone(bucket=bucket)
    entries = c.get_history()
    assert entries
    with pytest.raises(KintoHTTPError) as stale:
        c.purge_history(if_match=entries.timestamp - 1)
    assert stale.value.status_code == 412
    assert len(read_all(raw, url)) == len(entries)
    c.purge_history(if_match=entries.timestamp)
    assert read_all(raw, url) == []


def test_safe_false_sends_no_if_match(proxy, raw, server_url, bucket, collection):
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records"
    fill_records(raw, url, 2)
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    assert len(client.delete_records(safe=False, if_match=1)) == 2  # as kinto-http
    assert "If-Match" not in proxy.requests("DELETE")[0].headers


def test_if_match_errors_are_raised_before_sending(proxy, bucket, collection):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    with pytest.raises(TypeError, match="if_match must be the list's timestamp"):
        client.delete_records(if_match=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="if_match must be the list's timestamp"):
        client.purge_history(if_match=True)
    with pytest.raises(TypeError, match="if_match= applies to deleting by filters"):
        client.delete_records(["r1"], if_match=1)
    assert proxy.count() == 0


# -- auth: TokenAuth and "Basic <credentials>" ---------------------------------------------


def header_of(auth) -> str:
    prepared = requests.Request("GET", "http://127.0.0.1:9/").prepare()
    return auth(prepared).headers["Authorization"]


def test_token_auth():
    assert header_of(TokenAuth("abc")) == "Bearer abc"  # kinto-http's default type
    assert header_of(TokenAuth("abc", type="Basic")) == "Basic abc"
    assert isinstance(BearerTokenAuth("abc"), TokenAuth)  # as in kinto-http
    assert TokenAuth("abc") == BearerTokenAuth("abc")
    assert "abc" not in repr(TokenAuth("abc", type="Basic"))
    assert repr(TokenAuth("abc", type="Basic")) == "TokenAuth(type='Basic', token='***')"
    for bad_type in ("Two words", "", "Basic\n"):
        with pytest.raises(ValueError, match="Unknown token type"):
            TokenAuth("abc", type=bad_type)
    with pytest.raises(ValueError, match="not shown") as exc:
        TokenAuth("s3cr3t\nX-Evil: 1")
    assert "s3cr3t" not in str(exc.value)


def test_basic_string_auth_on_the_real_server(server_url, flush):
    encoded = base64.b64encode(b"alexis:p4ssw0rd").decode()
    assert parse_auth(f"Basic {encoded}") == TokenAuth(encoded, type="Basic")
    with Client(server_url=server_url, auth=f"Basic {encoded}") as by_string:
        with Client(server_url=server_url, auth=AUTH) as by_tuple:
            assert by_string.server_info()["user"]["id"] == by_tuple.server_info()["user"]["id"]
        assert encoded not in repr(by_string.session.auth)


def test_basic_string_auth_errors_hide_the_secret():
    for value in ("Basic", "Basic s3cr3t with spaces", "Basic s3cr3t\n"):
        with pytest.raises(ValueError, match="Basic <base64") as exc:
            parse_auth(value)
        assert "s3cr3t" not in str(exc.value)
    # As in kinto-http, a string with ":" is user:password, whatever it starts with.
    assert parse_auth("Basic x:y").username == "Basic x"  # type: ignore[union-attr]


# -- the review workflow's patch arguments -------------------------------------------------


def test_review_methods_take_data_permissions_and_original(client, raw, bucket, collection):
    url = f"{client.server_url}/buckets/{bucket}/collections/{collection}"
    c = client.clone(bucket=bucket, collection=collection)
    c.request_review("please", data={"release": "v2"}, permissions={"read": ["system.Everyone"]})
    stored = raw.get(url).json()
    assert stored["data"]["release"] == "v2"
    assert stored["data"]["status"] == "to-review"
    assert stored["data"]["last_editor_comment"] == "please"
    assert stored["permissions"]["read"] == ["system.Everyone"]
    read = c.get_collection()
    c.approve_changes(original=read)
    assert raw.get(url).json()["data"]["status"] == "to-sign"
    with pytest.raises(KintoHTTPError) as stale:
        c.decline_changes("no", original=read)
    assert stale.value.status_code == 412
    assert raw.get(url).json()["data"]["status"] == "to-sign"


def test_review_data_cannot_change_the_status(proxy, bucket, collection):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    with pytest.raises(ValueError, match=r"rollback_changes\(\) sets status itself"):
        client.rollback_changes("undo", data={"status": "signed"})
    assert proxy.count() == 0
    client.approve_changes(data={"status": "to-sign", "note": "ok"})  # the same value is fine
    (sent,) = proxy.requests("PATCH")
    assert json.loads(sent.body) == {"data": {"status": "to-sign", "note": "ok"}}


# -- attachments: filename=, save_metadata=, overwrite=, chunk_size= --------------------------


def test_add_attachment_filename(files, source, plugins_server_url):
    meta = files.add_attachment("r1", source, filename="renamed.txt")
    assert meta["filename"] == "renamed.txt"
    assert meta["mimetype"] == "text/plain"  # guessed from the name sent
    url = f"{plugins_server_url}/buckets/files/collections/docs/records/r1"
    stored = requests.get(url, auth=AUTH, timeout=10).json()["data"]["attachment"]
    assert stored["filename"] == "renamed.txt"
    assert stored["hash"] == hashlib.sha256(ATTACHMENT).hexdigest()
    assert files.add_attachment("r2", source)["filename"] == "scores.csv"  # default: its own


@pytest.mark.parametrize("bad", ["", "..", "a/b.csv", "a\\b.csv", "x\n.csv", 3])
def test_add_attachment_filename_is_checked_before_sending(files, source, bad):
    with pytest.raises(ValueError, match="filename= must be a file name without folders"):
        files.add_attachment("r1", source, filename=bad)
    with pytest.raises(KintoHTTPError) as missing:
        files.get_record("r1")
    assert missing.value.status_code == 404


def test_download_attachment_save_metadata(files, source, tmp_path):
    files.add_attachment("r1", source)
    record = files.get_record("r1")["data"]
    path = Path(files.download_attachment(record, tmp_path / "out.csv", save_metadata=True))
    assert path.read_bytes() == ATTACHMENT
    meta = tmp_path / "out.csv.meta.json"
    assert json.loads(meta.read_text()) == record
    files.download_attachment(record, tmp_path / "plain.csv")
    assert not (tmp_path / "plain.csv.meta.json").exists()  # only when asked


def test_download_attachment_overwrite_false(files, source, tmp_path):
    files.add_attachment("r1", source)
    record = files.get_record("r1")["data"]
    target = tmp_path / "out.csv"
    target.write_bytes(b"my own work")
    with pytest.raises(FileExistsError, match=r"exists and is not this attachment.*overwrite=True"):
        files.download_attachment(record, target, overwrite=False)
    assert target.read_bytes() == b"my own work"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    # The same content is kept as it is: not downloaded again (the same inode).
    target.write_bytes(ATTACHMENT)
    inode = target.stat().st_ino
    assert files.download_attachment(record, target, overwrite=False) == str(target)
    assert target.stat().st_ino == inode
    # The default (overwrite=True) downloads and replaces.
    files.download_attachment(record, target)
    assert target.stat().st_ino != inode and target.read_bytes() == ATTACHMENT
    # No file yet: downloaded.
    fresh = tmp_path / "fresh.csv"
    files.download_attachment(record, fresh, overwrite=False, save_metadata=True)
    assert fresh.read_bytes() == ATTACHMENT
    # A metadata file that describes something else is not replaced either.
    (tmp_path / "fresh.csv.meta.json").write_text('{"mine": true}')
    with pytest.raises(FileExistsError, match=r"meta\.json' exists and does not describe"):
        files.download_attachment(record, fresh, overwrite=False, save_metadata=True)
    assert json.loads((tmp_path / "fresh.csv.meta.json").read_text()) == {"mine": True}


def test_download_attachment_chunk_size(files, source, tmp_path):
    files.add_attachment("r1", source)
    path = files.download_attachment("r1", tmp_path / "tiny.csv", chunk_size=7)
    assert Path(path).read_bytes() == ATTACHMENT
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="chunk_size must be a positive number of bytes"):
            files.download_attachment("r1", tmp_path / "x.csv", chunk_size=bad)
    assert not os.path.exists(tmp_path / "x.csv")


def test_a_file_created_during_the_download_is_not_replaced(tmp_path):
    from kinto_client.client import _install_new

    partial, target = tmp_path / ".out.part", tmp_path / "out.csv"
    partial.write_bytes(b"downloaded")
    target.write_bytes(b"created meanwhile")
    with pytest.raises(FileExistsError, match="was created while downloading; left untouched"):
        _install_new(partial, target)
    assert target.read_bytes() == b"created meanwhile"
    target.unlink()
    _install_new(partial, target)
    assert target.read_bytes() == b"downloaded"
