"""The review workflow of Remote Settings' signer plugin, on the real Kinto.

The plugin cannot run on Kinto 26 here, so these tests check what the
client controls: the exact request each method sends (through the recording
proxy), and what the server stores (read back with plain HTTP): the status
and comment are set, and no other field of the collection changes.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
from conftest import AUTH

from kinto_client import AsyncClient, Client, KintoHTTPError

METADATA = {
    "schema": {"type": "object"},
    "displayFields": ["title"],
    "status": "signed",
    "last_reviewer_comment": "earlier review",
}
PERMISSIONS = {"read": ["system.Everyone"]}


@pytest.fixture
def reviewed(server_url, raw, bucket, collection) -> str:
    """The URL of ``collection``, with metadata and permissions set."""
    url = f"{server_url}/buckets/{bucket}/collections/{collection}"
    response = raw.put(url, json={"data": METADATA, "permissions": PERMISSIONS})
    assert response.status_code == 200, response.text
    return url


def stored(raw: requests.Session, url: str) -> dict:
    response = raw.get(url)
    assert response.status_code == 200, response.text
    return response.json()


CALLS = [
    (
        "request_review",
        ("please review",),
        {"status": "to-review", "last_editor_comment": "please review"},
    ),
    ("approve_changes", (), {"status": "to-sign"}),
    (
        "decline_changes",
        ("not yet",),
        {"status": "work-in-progress", "last_reviewer_comment": "not yet"},
    ),
    (
        "rollback_changes",
        ("undo",),
        {"status": "to-rollback", "last_editor_comment": "undo"},
    ),
]


@pytest.mark.parametrize(("method", "args", "fields"), CALLS, ids=[c[0] for c in CALLS])
def test_sets_status_and_comment_only(
    raw, reviewed, bucket, collection, server_url, method, args, fields
):
    before = stored(raw, reviewed)
    client = Client(server_url=server_url, auth=AUTH, bucket=bucket)
    answer = getattr(client, method)(*args, id=collection)
    after = stored(raw, reviewed)
    expected = {**before["data"], **fields, "last_modified": after["data"]["last_modified"]}
    assert after["data"] == expected
    assert after["permissions"] == before["permissions"]
    assert answer["data"] == after["data"]


@pytest.mark.parametrize(("method", "args", "fields"), CALLS, ids=[c[0] for c in CALLS])
def test_the_exact_request(proxy, bucket, collection, reviewed, method, args, fields):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    getattr(client, method)(*args)
    (sent,) = proxy.requests()
    assert sent.method == "PATCH"
    assert sent.path == f"/v1/buckets/{bucket}/collections/{collection}"
    assert json.loads(sent.body) == {"data": fields}
    assert sent.headers["Content-Type"] == "application/json"
    assert "If-Match" not in sent.headers


def test_defaults_and_bucket_argument(raw, server_url, reviewed, bucket, collection):
    client = Client(server_url=server_url, auth=AUTH, bucket="elsewhere", collection=collection)
    client.request_review("by defaults", bucket=bucket)
    assert stored(raw, reviewed)["data"]["last_editor_comment"] == "by defaults"


def test_last_modified_guards_against_a_change_since_read(
    raw, server_url, reviewed, bucket, collection
):
    client = Client(server_url=server_url, auth=AUTH, bucket=bucket, collection=collection)
    seen = client.get_collection()["data"]["last_modified"]
    raw.patch(reviewed, json={"data": {"status": "work-in-progress"}})  # an editor, meanwhile
    with pytest.raises(KintoHTTPError, match="412"):
        client.approve_changes(last_modified=seen)
    assert stored(raw, reviewed)["data"]["status"] == "work-in-progress"
    current = client.get_collection()["data"]["last_modified"]
    client.approve_changes(last_modified=current)
    assert stored(raw, reviewed)["data"]["status"] == "to-sign"


def test_in_a_batch(proxy, raw, server_url, bucket, collection, reviewed):
    other = f"{server_url}/buckets/{bucket}/collections/other"
    assert raw.put(other, json={"data": {"title": "kept"}}).status_code == 201
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket)
    with client.batch() as batch:
        assert batch.request_review("both", id=collection) is None  # queued
        batch.decline_changes("other one", id="other")
    assert [p.method for p in proxy.requests()] == ["GET", "POST"]  # server info, then /batch
    first, second = batch.results()
    assert first["data"]["status"] == "to-review"
    assert stored(raw, reviewed)["data"]["last_editor_comment"] == "both"
    assert stored(raw, other)["data"] == {
        **second["data"],
        "title": "kept",
        "status": "work-in-progress",
        "last_reviewer_comment": "other one",
    }


@pytest.mark.parametrize("bad", [None, 42, b"bytes"])
def test_the_message_must_be_text(proxy, bucket, collection, bad):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    with pytest.raises(TypeError, match="request_review\\(\\): the last_editor_comment must be"):
        client.request_review(bad)
    with pytest.raises(TypeError, match="the last_reviewer_comment must be a string"):
        client.decline_changes(bad)
    assert proxy.count() == 0


def test_async(raw, server_url, reviewed, bucket, collection):
    async def main() -> None:
        async with AsyncClient(server_url=server_url, auth=AUTH, bucket=bucket) as client:
            await client.rollback_changes("async undo", id=collection)

    asyncio.run(main())
    assert stored(raw, reviewed)["data"]["status"] == "to-rollback"
