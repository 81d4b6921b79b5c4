"""Typed usage of the public API that ``mypy --strict`` must accept.

Checked, never run (``tests/test_typing.py``, ``make lint``): the calls are
in functions nobody calls. ``assert_type`` pins what a checker sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import assert_type

from kinto_client import (
    AsyncClient,
    BucketNotFound,
    Client,
    CollectionNotFound,
    KintoHTTPError,
    RecordList,
    TokenAuth,
)
from kinto_client.client import NOT_MODIFIED, NotModified
from kinto_client.types import KintoData, ObjectResponse, Permissions, Tombstone


def reads(client: Client) -> None:
    records = client.get_records()
    assert_type(records, RecordList)
    assert_type(records.timestamp, int | None)
    assert_type(records["data"], RecordList)  # 4.0's documentation reads it so
    first = records[0]
    assert_type(first, KintoData)
    assert_type(first["id"], str)
    assert_type(first["last_modified"], int)
    title: str = first["title"]  # the application's own fields are Any
    assert_type(records[:2], list[KintoData])
    for record in client.get_records("tasks", "blog", _sort="-last_modified", pages=2):
        print(record["id"].upper(), record.get("done", False), title)
    for record in client.iter_records(collection="tasks", _limit=100):
        assert_type(record["id"], str)

    changed = client.get_records(if_none_match=1712345678901)
    assert_type(changed, RecordList | NotModified)
    if isinstance(changed, RecordList):
        print(len(changed), changed.total)
    elif changed is NOT_MODIFIED:
        print("nothing new")

    obj = client.get_record("r1", collection="tasks", bucket="blog")
    assert_type(obj, ObjectResponse)
    assert_type(obj["data"]["id"], str)
    assert_type(obj["permissions"]["read"], list[str])
    as_mapping: Mapping[str, Any] = obj  # what 4.0-era helpers may take
    print(as_mapping, client.get_record(42)["data"]["last_modified"] + 1)
    perms: Permissions = client.get_bucket("blog")["permissions"]
    print(perms, client.get_collection("tasks")["data"], client.get_group("g")["data"])
    assert_type(client.count_records(), int)
    assert_type(client.get_buckets(), RecordList)
    assert_type(client.get_collections("blog"), RecordList)
    assert_type(client.get_groups("blog"), RecordList)
    assert_type(client.get_history(), RecordList)
    assert_type(client.get_records_timestamp(), int)
    local: dict[str, Any] = {}
    assert_type(client.sync_records(local, since=None), int | None)


def writes(client: Client) -> None:
    created = client.create_record(
        data={"title": "Buy milk", "done": False},
        permissions={"read": ["system.Everyone"], "write": ("account:bob",)},
    )
    assert_type(created, ObjectResponse)
    client.create_record({"id": "r2", "tags": ["a"]}, collection="tasks", if_not_exists=True)
    client.create_bucket("blog", permissions={"collection:create": {"system.Authenticated"}})
    client.create_collection("tasks", "blog", data={"schema": {}}, if_not_exists=True)
    client.create_group("editors", "blog", data={"members": ["account:bob"]})

    # 4.0's pattern: read a whole object, change it, write it back.
    record = client.get_record("r1")
    record["data"]["title"] = "Buy oat milk"
    assert_type(client.update_record(record), ObjectResponse)
    client.update_record(data=record["data"], id=record["data"]["id"], safe=True)
    client.update_record({"id": "r1", "title": "x"}, last_modified=1712345678901)
    client.patch_record(id="r1", data={"done": True}, last_modified="1712345678901")
    client.patch_record(
        id="r1", changes=[{"op": "remove", "path": "/data/draft"}], patch_type="json-patch"
    )
    client.patch_record(id=7, add_principals={"read": ["system.Everyone"]})
    client.update_bucket("blog", data={"title": "Blog"})
    client.patch_collection(data={"sort": "title"}, collection="tasks")
    client.update_group("editors", data={"members": []}, method="put")

    # kinto-http.py 11's options.
    read = client.get_record("r1", _fields=["title"])
    client.patch_record({"done": True}, original=read)
    client.patch_collection({"sort": "title"}, original=client.get_collection("tasks"))
    assert_type(client.delete_records(if_match=1712345678901), list[Tombstone | None])
    assert_type(client.delete_buckets(safe=True, if_match="1712345678901"), list[Tombstone])
    client.purge_history("blog", if_match=1712345678901)
    client.request_review("please", data={"note": "v2"}, original=client.get_collection())
    assert_type(client.add_attachment("r1", "a.txt", filename="b.txt"), dict[str, Any])
    path: str = client.download_attachment(
        "r1", "out", save_metadata=True, overwrite=False, chunk_size=1024
    )
    print(path, client.get_endpoint("group", group="editors"))
    Client(server_url="http://localhost:8888/v1", auth=TokenAuth("abc", type="Basic"))

    deleted = client.delete_record("r1")
    assert_type(deleted, Tombstone | None)
    if deleted is not None:
        assert_type(deleted["deleted"], bool)
    assert_type(client.delete_records(), list[Tombstone | None])
    client.delete_records([{"id": "a", "last_modified": 1}, "b", 3])
    assert_type(client.delete_collections("blog"), list[Tombstone])
    assert_type(client.update_records([{"id": "a", "title": "t"}]), list[dict[str, Any]])


def batch(client: Client) -> None:
    with client.batch() as batch:
        batch.create_record({"title": "one"})  # returns None on a batch client
        batch.delete_record("old", if_exists=True)
    assert_type(batch.results(), list[Any])


def errors(client: Client) -> None:
    try:
        client.get_bucket("maybe")
    except BucketNotFound as exc:
        assert_type(exc.status_code, int | None)
    except KintoHTTPError as exc:
        print(exc.response)
    try:
        client.get_collection("maybe")
    except CollectionNotFound as exc:
        assert_type(exc.bucket, str | None)
    except KintoHTTPError as exc:
        print(exc.response)


async def async_calls(client: AsyncClient) -> None:
    records = await client.get_records(collection="tasks")
    assert_type(records, RecordList)
    assert_type(await client.get_records(if_none_match="12"), RecordList | NotModified)
    obj = await client.get_record("r1")
    assert_type(obj, ObjectResponse)
    assert_type(obj["data"]["id"], str)
    assert_type(await client.create_bucket("b"), ObjectResponse)
    assert_type(await client.delete_record("r1"), Tombstone | None)
    async for record in client.iter_records():
        assert_type(record, KintoData)
    async with client.batch() as batch:
        await batch.update_record({"id": "r1", "title": "x"})
