"""Groups: every group method against the real server, read back with plain HTTP."""

from __future__ import annotations

import pytest
import requests

from kinto_client import Client, KintoException, KintoHTTPError
from kinto_client.client import NOT_MODIFIED


@pytest.fixture
def groups_url(client: Client, bucket: str) -> str:
    return f"{client.server_url}/buckets/{bucket}/groups"


def stored(raw: requests.Session, url: str) -> dict:
    response = raw.get(url)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_group_stores_members_and_permissions(client, raw, bucket, groups_url):
    created = client.create_group(
        "editors",
        bucket=bucket,
        data={"members": ["bob", "carol"]},
        permissions={"read": ["system.Authenticated"]},
    )
    assert created["data"]["members"] == ["bob", "carol"]
    body = stored(raw, f"{groups_url}/editors")
    assert body["data"]["members"] == ["bob", "carol"]
    assert body["permissions"]["read"] == ["system.Authenticated"]


def test_create_group_uses_the_default_bucket_of_the_client(client, raw, bucket):
    scoped = client.clone(bucket=bucket)
    scoped.create_group("g", data={"members": ["bob"]})
    assert stored(raw, f"{client.server_url}/buckets/{bucket}/groups/g")["data"]["members"] == [
        "bob"
    ]


def test_create_group_safe_refuses_to_overwrite(client, bucket):
    client.create_group("g", bucket=bucket, data={"members": ["bob"]})
    with pytest.raises(KintoHTTPError) as error:
        client.create_group("g", bucket=bucket, data={"members": []})
    assert error.value.status_code == 412


def test_create_group_if_not_exists_returns_the_existing_group(client, raw, bucket, groups_url):
    client.create_group("g", bucket=bucket, data={"members": ["bob"]})
    again = client.create_group("g", bucket=bucket, data={"members": []}, if_not_exists=True)
    assert again["data"]["members"] == ["bob"]
    assert stored(raw, f"{groups_url}/g")["data"]["members"] == ["bob"]


def test_create_group_without_a_name_is_a_clear_error(client, bucket):
    with pytest.raises(KintoException, match="group is missing"):
        client.create_group(bucket=bucket, data={"members": []})


def test_get_group(client, bucket):
    client.create_group("g", bucket=bucket, data={"members": ["bob"], "title": "G"})
    group = client.get_group("g", bucket=bucket)
    assert group["data"]["title"] == "G"
    assert "write" in group["permissions"]


def test_get_groups_follows_every_page(client, bucket):
    # The test server pages by 10: 23 groups need three pages.
    with client.batch(bucket=bucket) as batch:
        for i in range(23):
            batch.create_group(f"g{i:02d}", data={"members": []})
    groups = client.get_groups(bucket=bucket)
    assert sorted(g["id"] for g in groups) == [f"g{i:02d}" for i in range(23)]
    assert client.count_groups(bucket=bucket) == 23
    assert client.get_groups(bucket=bucket, if_none_match=groups.timestamp) is NOT_MODIFIED


def test_update_group_replaces_data(client, raw, bucket, groups_url):
    client.create_group("g", bucket=bucket, data={"members": ["bob"], "title": "old"})
    client.update_group("g", bucket=bucket, data={"members": ["carol"]})
    data = stored(raw, f"{groups_url}/g")["data"]
    assert data["members"] == ["carol"]
    assert "title" not in data


def test_update_group_takes_back_a_group_read_earlier(client, raw, bucket, groups_url):
    client.create_group("g", bucket=bucket, data={"members": ["bob"]})
    group = client.get_group("g", bucket=bucket)
    group["data"]["members"].append("dave")
    group["permissions"]["read"] = ["system.Everyone"]
    client.clone(bucket="elsewhere").update_group(data=group, bucket=bucket)
    body = stored(raw, f"{groups_url}/g")
    assert body["data"]["members"] == ["bob", "dave"]
    assert body["permissions"]["read"] == ["system.Everyone"]


def test_update_group_safe_with_a_stale_timestamp_fails(client, bucket):
    created = client.create_group("g", bucket=bucket, data={"members": []})
    client.update_group("g", bucket=bucket, data={"members": ["bob"]})
    with pytest.raises(KintoHTTPError) as error:
        client.update_group(
            "g",
            bucket=bucket,
            data={"members": ["eve"]},
            last_modified=created["data"]["last_modified"],
        )
    assert error.value.status_code == 412


def test_update_group_data_as_second_argument_is_a_clear_error(client, bucket):
    with pytest.raises(TypeError, match="data="):
        client.update_group("g", {"members": ["bob"]})


def test_patch_group_merges_fields(client, raw, bucket, groups_url):
    client.create_group("g", bucket=bucket, data={"members": ["bob"], "title": "t"})
    client.patch_group("g", bucket=bucket, data={"description": "d"})
    data = stored(raw, f"{groups_url}/g")["data"]
    assert (data["members"], data["title"], data["description"]) == (["bob"], "t", "d")


def test_patch_group_appends_a_member_with_json_patch(client, raw, bucket, groups_url):
    client.create_group("g", bucket=bucket, data={"members": ["bob"]})
    client.patch_group(
        "g", bucket=bucket, changes=[{"op": "add", "path": "/data/members/-", "value": "carol"}]
    )
    assert stored(raw, f"{groups_url}/g")["data"]["members"] == ["bob", "carol"]


def test_delete_group(client, raw, bucket, groups_url):
    client.create_group("g", bucket=bucket, data={"members": []})
    deleted = client.delete_group("g", bucket=bucket)
    assert deleted["deleted"] is True
    assert raw.get(f"{groups_url}/g").status_code == 404


def test_delete_group_if_exists(client, bucket):
    with pytest.raises(KintoHTTPError):
        client.delete_group("missing", bucket=bucket)
    assert client.delete_group("missing", bucket=bucket, if_exists=True) is None


def test_delete_groups_deletes_every_page(client, raw, bucket, groups_url):
    with client.batch(bucket=bucket) as batch:
        for i in range(23):
            batch.create_group(f"g{i:02d}", data={"members": [], "odd": i % 2 == 1})
    deleted = client.delete_groups(bucket=bucket, odd=True)
    assert len(deleted) == 11
    remaining = stored(raw, groups_url)["data"]
    assert len(remaining) == 10 and not any(g["odd"] for g in remaining)
    assert len(client.delete_groups(bucket=bucket)) == 12
    assert stored(raw, groups_url)["data"] == []


def test_delete_groups_if_exists_on_a_missing_bucket(client):
    with pytest.raises(KintoHTTPError):
        client.delete_groups(bucket="missing")
    assert client.delete_groups(bucket="missing", if_exists=True) == []


def test_group_membership_grants_access(client, server_url, bucket):
    """A real effect of a group: its members get the permissions given to it."""
    other = Client(server_url=server_url, auth=("leplatrem", "s3cr3t"))
    other_id = other.server_info()["user"]["id"]
    with pytest.raises(KintoException):
        other.get_bucket(bucket)
    client.create_group("readers", bucket=bucket, data={"members": [other_id]})
    client.patch_bucket(bucket, add_principals={"read": [f"/buckets/{bucket}/groups/readers"]})
    assert other.get_bucket(bucket)["data"]["id"] == bucket
