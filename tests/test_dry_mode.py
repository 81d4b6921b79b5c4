"""Dry mode: ``Client(..., dry_mode=True)`` sends nothing, logs what it would
send (never the credentials), and answers with the shape of the server's.

"Nothing sent" is proved with a loopback server that fails every request
(500) and counts the connections and requests it gets: it must get none.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import AUTH
from local_http import LocalServer

from kinto_client import AsyncClient, BearerTokenAuth, Client, KintoException, KintoHTTPError
from kinto_client.client import NOT_MODIFIED, RecordList
from kinto_client.dry import DrySession
from kinto_client.session import Session

SECRETS = ("s3cr3t-PASS", "url-PASSWORD", "header-TOKEN", "bearer-TOKEN", "account-PASSWORD")


class FailingServer:
    """Answers 500 to every request, counting connections and requests."""

    def __init__(self) -> None:
        server = self
        self.connections = 0
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def _fail(self) -> None:
                server.requests.append(f"{self.command} {self.path}")
                body = b'{"code": 500, "errno": 999, "error": "always failing"}'
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _fail

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def get_request(self) -> tuple[socket.socket, Any]:
                server.connections += 1
                return super().get_request()

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def seen(self) -> int:
        return self.connections + len(self.requests)


@pytest.fixture
def failing() -> Iterator[FailingServer]:
    server = FailingServer()
    with LocalServer(server.httpd):
        yield server


@pytest.fixture
def dry(failing: FailingServer) -> Client:
    return Client(
        server_url=failing.url,
        auth=("alice", "s3cr3t-PASS"),
        bucket="b",
        collection="c",
        dry_mode=True,
    )


def test_the_failing_server_does_count(failing):
    """The counter works: a real client reaches it (and fails)."""
    with pytest.raises(KintoHTTPError, match="500"):
        Client(server_url=failing.url).get_records(bucket="b", collection="c")
    assert failing.connections == 1
    assert failing.requests == ["GET /v1/buckets/b/collections/c/records"]


def every_call(client: Client, tmp_path: Path) -> None:
    """One call of each kind the client has."""
    client.server_info()
    assert client.capabilities
    client.heartbeat()
    client.get_buckets()
    client.count_buckets()
    client.create_bucket("b2", data={"x": 1}, permissions={"read": ["system.Everyone"]})
    client.update_bucket("b2", data={"x": 2})
    client.patch_bucket("b2", add_principals={"write": ["bob"]})
    client.get_bucket("b2")
    client.delete_bucket("b2", if_exists=True)
    client.delete_buckets()
    client.get_collections()
    client.count_collections()
    client.create_collection("c2", if_not_exists=True)
    client.update_collection({"title": "t"}, collection="c2")
    client.patch_collection({"title": "u"}, collection="c2")
    client.get_collection("c2")
    client.delete_collection("c2")
    client.delete_collections()
    client.get_groups()
    client.count_groups()
    client.create_group("g", data={"members": ["bob"]})
    client.get_group("g")
    client.update_group("g", data={"members": []})
    client.patch_group("g", changes=[{"op": "add", "path": "/data/members/-", "value": "x"}])
    client.delete_group("g")
    client.delete_groups()
    client.get_records(_sort="-last_modified", in_id=["a", "b"])
    list(client.iter_records(_limit=2))
    assert list(client.get_paginated_records(_limit=2)) == [{"data": []}]
    client.count_records()
    client.get_records_timestamp()
    client.sync_records({}, since=10)
    client.create_record({"title": "a"}, id="r1")
    client.create_record({"title": "server id"}, server_id=True)
    client.get_record("r1")
    client.update_record({"title": "b"}, id="r1")
    client.patch_record({"title": "c"}, id="r1", patch_type="merge-patch")
    client.delete_record("r1")
    client.update_records([{"id": "r2", "title": "x"}])
    client.delete_records(["r2"])
    client.delete_records()
    client.get_history()
    client.purge_history()
    client.get_collection_snapshot(1)
    client.get_permissions()
    client.create_account("bob", "account-PASSWORD")
    client.get_account("bob")
    client.get_accounts()
    client.update_account("bob", password="account-PASSWORD")
    client.patch_account("bob", data={"x": 1})
    client.change_password("bob", "account-PASSWORD")
    client.delete_account("bob")
    upload = tmp_path / "file.txt"
    upload.write_text("hello")
    client.add_attachment("r1", upload)
    client.remove_attachment("r1")
    client.request_review("please")
    client.approve_changes()
    client.decline_changes("no")
    client.rollback_changes("undo")
    client.get_changeset(_since=5, bust_cache=True)
    with client.batch() as batch:
        for i in range(30):
            batch.create_record({"n": i}, id=f"r{i}")
        batch.request_review("in a batch")
        batch.get_changeset()
    assert len(batch.results()) == 32
    client.session.request("GET", "/anything")
    client.close()


def test_nothing_is_sent(failing, dry, tmp_path):
    every_call(dry, tmp_path)
    every_call(dry.clone(bucket="other", timeout=1), tmp_path)
    assert failing.seen == 0


def test_an_async_dry_client_sends_nothing(failing):
    async def main() -> None:
        async with AsyncClient(server_url=failing.url, dry_mode=True) as client:
            await client.create_bucket("b")
            assert await client.get_records(collection="c", bucket="b") == []
            async with client.batch() as batch:
                await batch.create_record({"a": 1}, id="x", collection="c", bucket="b")
            assert batch.results()[0]["data"]["a"] == 1

    asyncio.run(main())
    assert failing.seen == 0


# -- the answers ------------------------------------------------------------------------


def test_writes_echo_what_was_sent_with_id_and_timestamp(dry):
    created = dry.create_record({"title": "a"}, id="r1", permissions={"read": ["bob"]})
    assert created["data"]["title"] == "a"
    assert created["data"]["id"] == "r1"
    assert isinstance(created["data"]["last_modified"], int)
    assert created["permissions"] == {"read": ["bob"]}
    again = dry.update_record({"title": "b"}, id="r1")
    assert again["data"]["last_modified"] > created["data"]["last_modified"]
    assert dry.create_bucket("nb")["data"] == {"id": "nb", "last_modified": dry_ts(dry)}
    assert dry.create_group("g", data={"members": ["x"]})["data"]["members"] == ["x"]
    new = dry.create_record({"title": "s"}, server_id=True)
    assert len(new["data"]["id"]) == 36  # a UUID, as the server would pick


def dry_ts(client: Client) -> int:
    session = client.session
    assert isinstance(session, DrySession)
    return session._last_timestamp


def test_patches_show_what_they_set(dry):
    merged = dry.patch_record({"title": "t", "gone": None}, id="r", patch_type="merge-patch")
    assert "gone" not in merged["data"]
    assert merged["data"]["title"] == "t"
    patched = dry.patch_record(
        id="r",
        changes=[
            {"op": "add", "path": "/data/note", "value": "n"},
            {"op": "remove", "path": "/data/old"},
        ],
        add_principals={"write": ["bob"]},
    )
    assert patched["data"]["note"] == "n"
    assert patched["permissions"] == {"write": ["bob"]}


def test_reads_lists_counts_and_deletes(dry):
    assert dry.get_record("r9")["data"]["id"] == "r9"
    assert dry.get_bucket()["data"]["id"] == "b"
    assert dry.get_collection()["data"]["id"] == "c"
    records = dry.get_records()
    assert isinstance(records, RecordList)
    assert records == []
    assert isinstance(records.timestamp, int)
    assert records.total == 0
    assert dry.count_records() == 0
    assert dry.get_buckets() == []
    assert dry.get_records_timestamp() > 0
    assert dry.delete_record("r9") == {
        "id": "r9",
        "last_modified": dry_ts(dry),
        "deleted": True,
    }
    assert dry.delete_records() == []
    assert dry.get_records(if_none_match=5) is not NOT_MODIFIED  # cannot know: an empty list
    assert dry.heartbeat() == {}
    assert dry.batch_max_requests == 25


def test_sync_leaves_the_local_records_as_they_are(dry, caplog):
    cache = {"kept": {"id": "kept", "last_modified": 3}}
    caplog.set_level(logging.DEBUG, logger="kinto_client")
    assert dry.sync_records(cache) is None
    assert dry.sync_records(cache, since=7) == 7
    assert cache == {"kept": {"id": "kept", "last_modified": 3}}
    assert sum("/records" in line.getMessage() for line in caplog.records) == 2  # shown


def test_accounts_never_echo_the_password(dry):
    account = dry.create_account("bob", "account-PASSWORD")
    assert account["data"]["id"] == "bob"
    assert account["data"]["password"] == "***"


def test_changeset_and_review_shapes(dry):
    changeset = dry.get_changeset()
    assert changeset["changes"] == []
    assert changeset["metadata"]["id"] == "c"
    assert changeset["metadata"]["bucket"] == "b"
    assert isinstance(changeset["timestamp"], int)
    review = dry.request_review("please", id="c9")
    assert review["data"]["status"] == "to-review"
    assert review["data"]["last_editor_comment"] == "please"
    assert review["data"]["id"] == "c9"


def test_attachments(dry, tmp_path):
    upload = tmp_path / "notes.txt"
    upload.write_bytes(b"hello")
    metadata = dry.add_attachment("r1", upload)
    assert metadata["filename"] == "notes.txt"
    assert metadata["size"] == 5
    assert metadata["mimetype"] == "text/plain"
    assert metadata["hash"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert metadata["location"] is None
    with pytest.raises(KintoException, match=r"Dry mode: GET .* nothing was downloaded"):
        dry.download_attachment(
            {"id": "r1", "attachment": {"location": "http://127.0.0.1:9/f.txt"}},
            tmp_path,
        )


def test_batch_results(dry):
    with dry.batch() as batch:
        batch.create_record({"a": 1}, id="x")
        batch.delete_record("y")
        batch.delete_record("z", if_exists=True)
    first, second, third = batch.results()
    assert first["data"]["a"] == 1
    assert second["data"]["deleted"] is True
    assert third["data"]["id"] == "z"
    assert batch.failures() == []


# -- the log ----------------------------------------------------------------------------


def dry_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "kinto_dry", False)]


def test_each_request_is_logged_at_debug(dry, caplog):
    caplog.set_level(logging.DEBUG, logger="kinto_client")
    dry.create_record({"title": "a"}, id="r1")
    dry.get_records(_limit=5)
    (create, read) = dry_lines(caplog)
    assert create.levelno == logging.DEBUG
    assert (create.kinto_method, create.kinto_url) == (
        "PUT",
        dry.server_url + "/buckets/b/collections/c/records/r1",
    )
    assert create.kinto_body == '{"data":{"title":"a","id":"r1"}}'
    assert "If-None-Match: *" in create.getMessage()
    assert read.kinto_url.endswith("/records?_limit=5")
    assert read.kinto_body is None


def test_a_batch_is_logged_request_by_request(dry, caplog):
    caplog.set_level(logging.DEBUG, logger="kinto_client")
    with dry.batch() as batch:
        for i in range(30):
            batch.create_record({"n": i}, id=f"r{i}")
    lines = dry_lines(caplog)
    posts = [r for r in lines if r.kinto_url.endswith("/batch")]
    assert len(posts) == 2  # 25 + 5: the server's default batch_max_requests
    subs = [r for r in lines if "(in a batch)" in r.getMessage()]
    assert [r.kinto_url.rsplit("/", 1)[1] for r in subs] == [f"r{i}" for i in range(30)]


def test_credentials_are_never_logged(failing, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    clients = [
        Client(
            server_url=failing.url.replace("http://", "http://user:url-PASSWORD@"),
            headers={"Authorization": "Bearer header-TOKEN"},
            dry_mode=True,
            bucket="b",
            collection="c",
        ),
        Client(server_url=failing.url, auth=BearerTokenAuth("bearer-TOKEN"), dry_mode=True),
        Client(server_url=failing.url, auth=("alice", "s3cr3t-PASS"), dry_mode=True),
    ]
    for client in clients:
        every_call(client.clone(bucket="b", collection="c"), tmp_path)
        assert not any(secret in repr(client) for secret in SECRETS)
    assert len(dry_lines(caplog)) > 100
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        leaked = [secret for secret in SECRETS if secret in text]
        assert not leaked, (leaked, record.getMessage())
    assert failing.seen == 0


# -- making a dry client ----------------------------------------------------------------


def test_clones_stay_dry_unless_told(failing, dry):
    assert isinstance(dry.session, DrySession)
    assert dry.clone(bucket="x").session is dry.session
    assert isinstance(dry.clone(timeout=3).session, DrySession)
    real = dry.clone(dry_mode=False)
    assert type(real.session) is Session
    assert real.session.auth == dry.session.auth
    assert isinstance(real.clone(dry_mode=True).session, DrySession)
    assert isinstance(Client(session=dry.session).session, DrySession)
    assert failing.seen == 0


def test_options_are_checked_as_for_a_real_client(failing):
    with pytest.raises(ValueError, match="timeout must be positive"):
        Client(server_url=failing.url, dry_mode=True, timeout=-1)
    with pytest.raises(ValueError, match="server_url must start with http"):
        Client(server_url="ftp://example.com", dry_mode=True)
    with pytest.raises(TypeError, match="dry_mode must be True or False"):
        Client(server_url=failing.url, dry_mode="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dry_mode cannot be combined with session="):
        Client(session=Session(failing.url), dry_mode=True)
    with pytest.raises(TypeError, match="must be a string"):
        Client(server_url=failing.url, dry_mode=True, collection="c").request_review(None)  # type: ignore[arg-type]
    with pytest.raises(KintoException, match="record endpoint, id is missing"):
        Client(server_url=failing.url, dry_mode=True, collection="c").get_record(None)
    assert failing.seen == 0


def test_a_dry_clone_of_a_real_client(server_url, flush, raw):
    """The use case: rehearse a script on a dry twin of the real client."""
    client = Client(server_url=server_url, auth=AUTH)
    rehearsal = client.clone(dry_mode=True)
    rehearsal.create_bucket("rehearsed")
    assert raw.get(f"{server_url}/buckets/rehearsed").status_code in (403, 404)
    client.create_bucket("rehearsed")
    assert raw.get(f"{server_url}/buckets/rehearsed").status_code == 200
