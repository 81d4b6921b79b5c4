"""Misuses of the public API that ``mypy --strict`` must reject.

Each line that must fail ends with ``# E: <error code>``; ``tests/test_typing.py``
checks that mypy reports exactly those (line, code) pairs and nothing else.
Checked, never run.
"""

from __future__ import annotations

from kinto_client import AsyncClient, Client, RecordList


def results(client: Client) -> None:
    records: int = client.get_records()  # E: assignment
    one: RecordList = client.get_record("r1")  # E: assignment
    record_id: int = client.get_record("r1")["data"]["id"]  # E: assignment
    stamp: str = client.get_records()[0]["last_modified"]  # E: assignment
    client.get_record("r1")["dtaa"]  # E: typeddict-item
    client.get_records(if_none_match=1)[0]  # E: index
    client.delete_record("r1")["id"]  # E: index
    client.get_records().timestamp + 1  # E: operator
    print(records, one, record_id, stamp)


def arguments(client: Client) -> None:
    client.get_record(3.5)  # E: arg-type
    client.get_record()  # E: call-arg
    client.create_record(data=["not", "a", "dict"])  # E: arg-type
    client.create_record({"title": "x"}, permissions=["read"])  # E: arg-type
    client.create_bucket("b", permissions={"read": [1, 2]})  # E: list-item
    client.update_record({"id": "a"}, last_modified=1.5)  # E: arg-type
    client.patch_record(id="a", changes={"op": "add"})  # E: dict-item
    client.get_records(if_none_match=[1])  # E: call-overload
    client.get_collection(collection=None, bucket=b"blog")  # E: arg-type
    client.delete_records(if_match=1.5)  # E: arg-type
    client.patch_record({"a": 1}, original="r1")  # E: arg-type
    client.download_attachment("r1", overwrite="no")  # E: arg-type
    client.add_attachment("r1", "a.txt", "c", "b", None, None, None, "name.txt")  # E: call-arg


async def async_results(client: AsyncClient) -> None:
    records: int = await client.get_records()  # E: assignment
    data: str = (await client.get_record("r1"))["data"]  # E: assignment
    await client.get_record(id=["r1"])  # E: arg-type
    print(records, data)
