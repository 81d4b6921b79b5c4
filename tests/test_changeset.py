"""get_changeset(): Remote Settings' ``/changeset`` endpoint.

The plugin that serves it (kinto-remote-settings) cannot be installed here,
so the tests run against a small loopback stub that follows its documented
behaviour: ``GET /v1/buckets/{bid}/collections/{cid}/changeset`` requires
``_expected``, takes ``_since`` as a quoted timestamp (``"123"``) and
``_limit``, and answers ``{"metadata": {..., "bucket": bid}, "changes":
[...] (newest first; tombstones with _since), "timestamp": <records timestamp>}``;
``monitor/changes`` also filters on ``bucket`` and ``collection``; anything
else is 404. As a cache in front of the server may, the stub answers 304 to
an ``If-None-Match`` holding the current timestamp. The real Kinto (no
plugin) is checked to answer 404.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import AUTH
from local_http import LocalServer

from kinto_client import AsyncClient, Client, KintoException, KintoHTTPError
from kinto_client.client import NOT_MODIFIED

RECORDS = [
    {"id": "a", "last_modified": 100, "title": "first"},
    {"id": "b", "last_modified": 200, "title": "second"},
    {"id": "c", "last_modified": 300, "deleted": True},
]
COLLECTIONS = {("main", "tasks"): {"id": "tasks", "last_modified": 400, "signature": {"x": 1}}}
MONITOR = [
    {"id": "1", "bucket": "main", "collection": "tasks", "last_modified": 300, "host": "h"},
    {"id": "2", "bucket": "main", "collection": "other", "last_modified": 350, "host": "h"},
    {"id": "3", "bucket": "blocklists", "collection": "tasks", "last_modified": 50, "host": "h"},
]
_PATH = re.compile(r"^/v1/buckets/([^/]+)/collections/([^/]+)/changeset$")
_QUOTED = re.compile(r'^"([0-9]+)"$')


class ChangesetStub:
    def __init__(self) -> None:
        stub = self
        self.seen: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.body_override: Any = None

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query, keep_blank_values=True)
                stub.seen.append((url.path, query, dict(self.headers)))
                status, body = stub.answer(url.path, query, self.headers.get("If-None-Match"))
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(
        self, path: str, query: dict[str, list[str]], if_none_match: str | None
    ) -> tuple[int, Any]:
        match = _PATH.match(path)
        if not match:
            return 404, {"code": 404, "errno": 111, "error": "Not Found"}
        if "_expected" not in query:
            return 400, {"code": 400, "errno": 107, "message": "_expected is missing"}
        since = None
        if "_since" in query:
            quoted = _QUOTED.match(query["_since"][0])
            if not quoted:
                return 400, {"code": 400, "errno": 107, "message": "_since: integer between quotes"}
            since = int(quoted[1])
        bid, cid = match.groups()
        if (bid, cid) == ("monitor", "changes"):
            changes, metadata = list(MONITOR), {}
            for name in ("bucket", "collection"):
                if name in query:
                    changes = [c for c in changes if c[name] == query[name][0]]
        elif (bid, cid) in COLLECTIONS:
            changes, metadata = list(RECORDS), dict(COLLECTIONS[(bid, cid)])
        else:
            return 404, {"code": 404, "errno": 111, "error": "Not Found"}
        timestamp = max(c["last_modified"] for c in changes) if changes else 0
        if if_none_match == f'"{timestamp}"':
            return 304, None
        if self.body_override is not None:
            return 200, self.body_override
        if since is not None:
            changes = [c for c in changes if c["last_modified"] > since]
        else:
            changes = [c for c in changes if not c.get("deleted")]
        changes.sort(key=lambda c: c["last_modified"], reverse=True)
        if "_limit" in query:
            changes = changes[: int(query["_limit"][0])]
        return 200, {
            "metadata": {**metadata, "bucket": bid},
            "changes": changes,
            "timestamp": timestamp,
        }


@pytest.fixture
def stub() -> Iterator[ChangesetStub]:
    server = ChangesetStub()
    with LocalServer(server.httpd):
        yield server


@pytest.fixture
def rs(stub: ChangesetStub) -> Client:
    return Client(server_url=stub.url, bucket="main", collection="tasks")


def test_reads_the_changeset(stub, rs):
    changeset = rs.get_changeset()
    assert changeset == {
        "metadata": {"id": "tasks", "last_modified": 400, "signature": {"x": 1}, "bucket": "main"},
        "changes": [RECORDS[1], RECORDS[0]],
        "timestamp": 300,
    }
    ((path, query, _),) = stub.seen
    assert path == "/v1/buckets/main/collections/tasks/changeset"
    assert query == {"_expected": ["0"]}


def test_bucket_and_collection_arguments(stub):
    client = Client(server_url=stub.url)
    assert client.get_changeset("main", "tasks")["timestamp"] == 300
    assert client.get_changeset(bucket="main", collection="tasks")["timestamp"] == 300
    with pytest.raises(KintoException, match="changeset endpoint, collection is missing"):
        client.get_changeset("main")
    assert len(stub.seen) == 2


@pytest.mark.parametrize("since", [200, "200", '"200"'])
def test_since_is_sent_quoted(stub, rs, since):
    changeset = rs.get_changeset(_since=since)
    assert changeset["changes"] == [RECORDS[2]]  # the tombstone, newer than 200
    assert stub.seen[0][1]["_since"] == ['"200"']


def test_limit(stub, rs):
    assert rs.get_changeset(_limit=1)["changes"] == [RECORDS[1]]
    assert stub.seen[0][1]["_limit"] == ["1"]


def test_expected_and_bust_cache(stub, rs):
    rs.get_changeset(_expected=300)
    rs.get_changeset(bust_cache=True)
    rs.get_changeset(bust_cache=True)
    rs.get_changeset(_expected=300, bust_cache=True)
    expected = [query["_expected"][0] for _, query, _ in stub.seen]
    assert expected[0] == "300"
    busting = [int(value) for value in expected[1:3]]
    assert all(999999000000 <= value <= 999999999999 for value in busting)
    assert busting[0] != busting[1]  # a new value each time: no cache has seen it
    assert expected[3] == "300"  # the given _expected wins


def test_typed_filters_on_monitor_changes(stub, rs):
    changes = rs.get_changeset("monitor", "changes", query={"bucket": "main"})
    assert [c["id"] for c in changes["changes"]] == ["2", "1"]
    both = rs.get_changeset("monitor", "changes", query={"bucket": "main", "collection": "tasks"})
    assert [c["id"] for c in both["changes"]] == ["1"]
    assert stub.seen[1][1] == {"_expected": ["0"], "bucket": ["main"], "collection": ["tasks"]}
    since = rs.get_changeset("monitor", "changes", _since=300, query={"bucket": "main"})
    assert [c["id"] for c in since["changes"]] == ["2"]
    with pytest.raises(TypeError, match="got _limit both in query= and as keywords"):
        rs.get_changeset("monitor", "changes", _limit=1, query={"_limit": 2})
    assert len(stub.seen) == 3


def test_filters_are_checked_before_sending(stub, rs):
    with pytest.raises(TypeError, match="Cannot encode the query parameter _limit"):
        rs.get_changeset(_limit={"a": 1})
    assert stub.seen == []


def test_if_none_match(stub, rs):
    assert rs.get_changeset(if_none_match=300) is NOT_MODIFIED
    assert stub.seen[0][2]["If-None-Match"] == '"300"'
    assert rs.get_changeset(if_none_match=299)["timestamp"] == 300


def test_not_a_changeset(stub, rs):
    stub.body_override = {"data": []}
    with pytest.raises(KintoException, match=r"instead of a changeset .* Remote Settings"):
        rs.get_changeset()


def test_unknown_collection_is_404(stub, rs):
    with pytest.raises(KintoHTTPError, match="404"):
        rs.get_changeset(collection="nope")


def test_async(stub):
    async def main() -> Any:
        async with AsyncClient(server_url=stub.url) as client:
            return await client.get_changeset("main", "tasks", _since=100)

    assert [c["id"] for c in asyncio.run(main())["changes"]] == ["c", "b"]


def test_kinto_without_the_plugin_answers_404(server_url, flush, bucket, collection):
    client = Client(server_url=server_url, auth=AUTH, bucket=bucket, collection=collection)
    with pytest.raises(KintoHTTPError) as error:
        client.get_changeset()
    assert error.value.status_code == 404


def test_in_a_batch_the_answer_comes_with_the_results(server_url, flush, bucket, collection):
    client = Client(server_url=server_url, auth=AUTH, bucket=bucket, collection=collection)
    with client.batch(ignore_4xx=True) as batch:
        assert batch.get_changeset() is None
    assert batch.results()[0]["code"] == 404  # no plugin: the sub-request's error body
    (failure,) = batch.failures()
    assert failure["request"]["path"].startswith(
        f"/buckets/{bucket}/collections/{collection}/changeset?_expected=0"
    )
