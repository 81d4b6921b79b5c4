"""Patches: Kinto merge, JSON Merge Patch, JSON Patch, and principals helpers."""

from __future__ import annotations

import pytest
import requests
from fault_proxy import running

from kinto_client import Client, KintoConnectionError, KintoException, KintoHTTPError


@pytest.fixture
def scoped(client: Client, bucket: str, collection: str) -> Client:
    return client.clone(bucket=bucket, collection=collection)


def read(raw: requests.Session, scoped: Client, path: str = "") -> dict:
    url = f"{scoped.server_url}/buckets/{scoped.bucket_name}"
    if path != "bucket":
        url += f"/collections/{scoped.collection_name}{path}"
    response = raw.get(url)
    assert response.status_code == 200, response.text
    return response.json()


# -- patch types ---------------------------------------------------------------------------


def test_default_patch_replaces_top_level_fields(scoped, raw):
    scoped.create_record({"id": "r", "a": {"x": 1, "y": 2}, "b": 1})
    scoped.patch_record({"a": {"x": 9}}, id="r")
    data = read(raw, scoped, "/records/r")["data"]
    assert data["a"] == {"x": 9}  # replaced, not merged
    assert data["b"] == 1


def test_merge_patch_merges_nested_fields_and_removes_nulls(scoped, raw):
    scoped.create_record({"id": "r", "a": {"x": 1, "y": 2}, "b": 1})
    scoped.patch_record({"a": {"x": 9}, "b": None}, id="r", patch_type="merge-patch")
    data = read(raw, scoped, "/records/r")["data"]
    assert data["a"] == {"x": 9, "y": 2}
    assert "b" not in data


def test_merge_patch_of_permissions_keeps_the_others(scoped, raw):
    scoped.create_collection(
        scoped.collection_name,
        permissions={"read": ["alice"], "record:create": ["bob"]},
        safe=False,
    )
    scoped.patch_collection(permissions={"read": ["carol"]}, patch_type="merge-patch")
    permissions = read(raw, scoped)["permissions"]
    assert permissions["read"] == ["carol"]
    assert permissions["record:create"] == ["bob"]


def test_json_patch_operations(scoped, raw):
    scoped.create_record({"id": "r", "tags": ["a"], "draft": True, "title": "t"})
    scoped.patch_record(
        id="r",
        changes=[
            {"op": "add", "path": "/data/tags/-", "value": "b"},
            {"op": "remove", "path": "/data/draft"},
            {"op": "replace", "path": "/data/title", "value": "T"},
        ],
    )
    data = read(raw, scoped, "/records/r")["data"]
    assert data["tags"] == ["a", "b"]
    assert "draft" not in data
    assert data["title"] == "T"


def test_json_patch_with_data_sets_the_fields(scoped, raw):
    scoped.create_record({"id": "r", "a": 1})
    scoped.patch_record({"b": 2}, id="r", changes=[{"op": "test", "path": "/data/a", "value": 1}])
    data = read(raw, scoped, "/records/r")["data"]
    assert (data["a"], data["b"]) == (1, 2)


def test_json_patch_failed_test_operation_changes_nothing(scoped, raw):
    scoped.create_record({"id": "r", "a": 1})
    with pytest.raises(KintoHTTPError) as error:
        scoped.patch_record(
            id="r",
            changes=[
                {"op": "replace", "path": "/data/a", "value": 2},
                {"op": "test", "path": "/data/a", "value": 1},
            ],
        )
    assert error.value.status_code == 400
    assert read(raw, scoped, "/records/r")["data"]["a"] == 1


def test_json_patch_safe_with_last_modified(scoped):
    created = scoped.create_record({"id": "r", "a": 1})
    scoped.patch_record({"a": 2}, id="r")
    with pytest.raises(KintoHTTPError) as error:
        scoped.patch_record(
            id="r",
            changes=[{"op": "replace", "path": "/data/a", "value": 3}],
            last_modified=created["data"]["last_modified"],
        )
    assert error.value.status_code == 412


def test_patch_bucket_and_collection_with_each_type(scoped, raw):
    scoped.patch_bucket(data={"a": {"x": 1}})
    scoped.patch_bucket(data={"a": {"y": 2}}, patch_type="merge-patch")
    scoped.patch_bucket(changes=[{"op": "add", "path": "/data/b", "value": 3}])
    data = read(raw, scoped, "bucket")["data"]
    assert (data["a"], data["b"]) == ({"x": 1, "y": 2}, 3)
    scoped.patch_collection(data={"schema_version": 2})
    scoped.patch_collection(changes=[{"op": "add", "path": "/data/title", "value": "T"}])
    data = read(raw, scoped)["data"]
    assert (data["schema_version"], data["title"]) == (2, "T")


def test_plain_merge_inside_a_batch(scoped, raw):
    scoped.create_record({"id": "r", "a": {"x": 1}, "b": 1})
    with scoped.batch() as batch:
        batch.patch_record({"a": {"y": 2}}, id="r")
    data = read(raw, scoped, "/records/r")["data"]
    assert (data["a"], data["b"]) == ({"y": 2}, 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"a": None}, "patch_type": "merge-patch"},
        {"changes": [{"op": "remove", "path": "/data/a"}]},
        {"add_principals": {"read": ["bob"]}},
    ],
)
def test_other_patch_types_inside_a_batch_are_refused_before_sending(scoped, raw, kwargs):
    scoped.create_record({"id": "r", "a": 1})
    with pytest.raises(KintoException, match="outside the batch"):
        with scoped.batch() as batch:
            batch.create_record({"id": "queued"})
            batch.patch_record(id="r", **kwargs)
    assert read(raw, scoped, "/records/r")["data"]["a"] == 1
    assert (
        raw.get(
            f"{scoped.server_url}/buckets/{scoped.bucket_name}/collections/"
            f"{scoped.collection_name}/records/queued"
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"patch_type": "xml"}, ValueError),
        ({"patch_type": "merge", "changes": []}, ValueError),
        ({"changes": "remove a"}, TypeError),
        ({"changes": [{"op": "delete", "path": "/data/a"}]}, ValueError),
        ({"changes": [{"op": "remove", "path": "/a"}]}, ValueError),
        ({"add_principals": {"read": "bob"}}, TypeError),
        ({"add_principals": {"read": ["bob"]}, "permissions": {"read": []}}, ValueError),
        ({}, ValueError),
    ],
)
def test_bad_patch_arguments_raise_before_sending(scoped, raw, kwargs, error):
    scoped.create_record({"id": "r", "a": 1})
    before = read(raw, scoped, "/records/r")["data"]["last_modified"]
    with pytest.raises(error):
        scoped.patch_record(id="r", **kwargs)
    assert read(raw, scoped, "/records/r")["data"]["last_modified"] == before


# -- principals helpers ---------------------------------------------------------------------


def test_add_principals_keeps_the_existing_ones(scoped, raw):
    scoped.create_record({"id": "r"}, permissions={"read": ["alice"]})
    scoped.patch_record(id="r", add_principals={"read": ["bob", "carol"], "write": ["dave"]})
    permissions = read(raw, scoped, "/records/r")["permissions"]
    assert sorted(permissions["read"]) == ["alice", "bob", "carol"]
    assert "dave" in permissions["write"] and len(permissions["write"]) == 2


def test_remove_principals_keeps_the_others_and_ignores_absent_ones(scoped, raw):
    scoped.create_record({"id": "r"}, permissions={"read": ["alice", "bob"]})
    scoped.patch_record(id="r", remove_principals={"read": ["bob", "nobody"]})
    assert read(raw, scoped, "/records/r")["permissions"]["read"] == ["alice"]


def test_principals_and_data_in_one_request(scoped, raw):
    scoped.create_record({"id": "r", "a": 1}, permissions={"read": ["alice"]})
    result = scoped.patch_record(
        {"b": 2}, id="r", add_principals={"read": ["bob"]}, remove_principals={"read": ["alice"]}
    )
    assert result["permissions"]["read"] == ["bob"]
    body = read(raw, scoped, "/records/r")
    assert (body["data"]["a"], body["data"]["b"]) == (1, 2)
    assert body["permissions"]["read"] == ["bob"]


def test_add_principals_to_a_permission_the_object_does_not_have_yet(scoped, raw):
    scoped.patch_bucket(add_principals={"collection:create": ["bob"]})
    scoped.patch_bucket(add_principals={"collection:create": ["carol"], "group:create": ["eve"]})
    permissions = read(raw, scoped, "bucket")["permissions"]
    assert sorted(permissions["collection:create"]) == ["bob", "carol"]
    assert permissions["group:create"] == ["eve"]
    scoped.patch_bucket(
        remove_principals={"collection:create": ["bob"], "record:create": ["nobody"]}
    )
    assert read(raw, scoped, "bucket")["permissions"]["collection:create"] == ["carol"]


def test_principals_on_a_collection_and_a_group(scoped, raw):
    scoped.patch_collection(add_principals={"record:create": ["system.Authenticated"]})
    assert read(raw, scoped)["permissions"]["record:create"] == ["system.Authenticated"]
    scoped.create_group("g", data={"members": []})
    scoped.patch_group("g", add_principals={"read": ["system.Everyone"]})
    url = f"{scoped.server_url}/buckets/{scoped.bucket_name}/groups/g"
    assert raw.get(url).json()["permissions"]["read"] == ["system.Everyone"]


def test_principals_with_special_characters(scoped, raw):
    principal = "account:a/b~c"
    scoped.create_record({"id": "r"})
    scoped.patch_record(id="r", add_principals={"read": [principal]})
    assert read(raw, scoped, "/records/r")["permissions"]["read"] == [principal]
    scoped.patch_record(id="r", remove_principals={"read": [principal]})
    assert "read" not in read(raw, scoped, "/records/r")["permissions"]


def test_added_principal_really_gets_access(scoped, server_url):
    other = Client(server_url=server_url, auth=("leplatrem", "s3cr3t"))
    scoped.create_record({"id": "r", "secret": 1})
    with pytest.raises(KintoHTTPError):
        other.get_record("r", collection=scoped.collection_name, bucket=scoped.bucket_name)
    scoped.patch_record(id="r", add_principals={"read": ["system.Authenticated"]})
    record = other.get_record("r", collection=scoped.collection_name, bucket=scoped.bucket_name)
    assert record["data"]["secret"] == 1
    scoped.patch_record(id="r", remove_principals={"read": ["system.Authenticated"]})
    with pytest.raises(KintoHTTPError):
        other.get_record("r", collection=scoped.collection_name, bucket=scoped.bucket_name)


# -- JSON Patch and lost replies -----------------------------------------------------------


def test_a_json_patch_of_the_caller_is_never_sent_twice(scoped, raw, server_url):
    """An append to "/-" applied twice would add the member twice: when the
    reply is lost after the server applied it, the client does not replay."""
    scoped.create_group("g", data={"members": ["bob"]})
    with running(server_url) as proxy:
        proxy.add("drop_after", method="PATCH")
        through = Client(
            server_url=proxy.url, auth=("alexis", "p4ssw0rd"), bucket=scoped.bucket_name, retry=3
        )
        with pytest.raises(KintoConnectionError, match="may have been applied"):
            through.patch_group(
                "g", changes=[{"op": "add", "path": "/data/members/-", "value": "carol"}]
            )
        assert proxy.count("PATCH") == 1
    url = f"{scoped.server_url}/buckets/{scoped.bucket_name}/groups/g"
    assert raw.get(url).json()["data"]["members"] == ["bob", "carol"]


def test_principal_patches_are_replayed_safely(scoped, raw, server_url):
    scoped.create_record({"id": "r"})
    with running(server_url) as proxy:
        proxy.add("drop_after", method="PATCH")
        through = Client(
            server_url=proxy.url,
            auth=("alexis", "p4ssw0rd"),
            bucket=scoped.bucket_name,
            collection=scoped.collection_name,
            retry=3,
            retry_after=0.01,
        )
        through.patch_record(id="r", add_principals={"read": ["bob"]})
        assert proxy.count("PATCH") == 2
    assert read(raw, scoped, "/records/r")["permissions"]["read"] == ["bob"]
