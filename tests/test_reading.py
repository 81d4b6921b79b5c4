"""Reading large collections: streaming, pages, filters, counts, timestamps, sync."""

from __future__ import annotations

import datetime
import itertools

import pytest
import requests

from kinto_client import Client, KintoException
from kinto_client.client import NOT_MODIFIED, NotModified
from kinto_client.utils import encode_params

PAGE = 10  # kinto.paginate_by of the test server


@pytest.fixture
def scoped(client: Client, bucket: str, collection: str) -> Client:
    return client.clone(bucket=bucket, collection=collection)


@pytest.fixture
def records_url(scoped: Client) -> str:
    return (
        f"{scoped.server_url}/buckets/{scoped.bucket_name}"
        f"/collections/{scoped.collection_name}/records"
    )


def fill(scoped: Client, n: int) -> None:
    with scoped.batch() as batch:
        for i in range(n):
            batch.create_record(
                {
                    "id": f"r{i:02d}",
                    "n": i,
                    "title": f"Title {i}",
                    "code": str(100 + i),
                    "tags": ["all", "even" if i % 2 == 0 else "odd", f"mod{i % 3}"],
                    "author": {"name": "bob" if i < 5 else "carol"},
                    "done": i % 4 == 0,
                    **({"extra": True} if i < 3 else {}),
                }
            )


def ids(records) -> list[str]:
    return sorted(r["id"] for r in records)


# -- streaming and pages ----------------------------------------------------------------


def test_iter_records_yields_every_record(scoped):
    fill(scoped, 25)
    assert ids(scoped.iter_records()) == [f"r{i:02d}" for i in range(25)]


def test_iter_records_fetches_a_page_only_when_needed(scoped, raw, records_url):
    """Nothing is read ahead or kept: records deleted after the first page
    was consumed are not yielded, so the later pages were fetched later."""
    fill(scoped, 25)
    stream = scoped.iter_records(_sort="n")
    first_page = list(itertools.islice(stream, PAGE))
    assert [r["n"] for r in first_page] == list(range(PAGE))
    assert raw.delete(records_url, params={"min_n": 20}).status_code == 200
    assert [r["n"] for r in stream] == list(range(PAGE, 20))


def test_iter_records_is_lazy(scoped):
    fill(scoped, 3)
    stream = scoped.iter_records()
    scoped.delete_records()
    assert list(stream) == []  # no request was made before iterating


def test_iter_records_pages_and_limit(scoped):
    fill(scoped, 25)
    assert len(list(scoped.iter_records(pages=2))) == 2 * PAGE
    assert len(list(scoped.iter_records(_limit=4, pages=3))) == 12


def test_get_records_pages_and_limit(scoped):
    fill(scoped, 25)
    assert len(scoped.get_records()) == 25
    assert len(scoped.get_records(pages=1)) == PAGE
    assert len(scoped.get_records(_limit=3, pages=2)) == 6
    assert len(scoped.get_records(_limit=7)) == 25  # page size, all pages followed


def test_iter_records_inside_a_batch_is_an_error(scoped):
    with scoped.batch() as batch, pytest.raises(KintoException, match="inside a batch"):
        list(batch.iter_records())


# -- filters, sorting, fields --------------------------------------------------------------


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"n": 3}, [3]),
        ({"in_n": [1, 2, 30]}, [1, 2]),
        ({"in_id": ["r04"]}, [4]),
        ({"in_id": "r04"}, [4]),
        ({"exclude_n": list(range(2, 25))}, [0, 1]),
        ({"min_n": 23}, [23, 24]),
        ({"max_n": 1}, [0, 1]),
        ({"gt_n": 23}, [24]),
        ({"lt_n": 1}, [0]),
        ({"not_n": 0, "max_n": 2}, [1, 2]),
        ({"has_extra": True}, [0, 1, 2]),
        ({"has_extra": False, "max_n": 3}, [3]),
        ({"like_title": "*itle 2*"}, [2, *range(20, 25)]),
        ({"contains_tags": ["even", "mod0"]}, [0, 6, 12, 18, 24]),
        ({"contains_tags": "odd", "max_n": 5}, [1, 3, 5]),
        ({"contains_any_tags": ["mod1", "mod2"], "max_n": 4}, [1, 2, 4]),
        ({"author.name": "bob"}, [0, 1, 2, 3, 4]),
        ({"in_author.name": ["bob"], "min_n": 4}, [4]),
        ({"done": True, "max_n": 8}, [0, 4, 8]),
        # strings Kinto would read as numbers still match strings:
        ({"code": "103"}, [3]),
        ({"in_code": ["101", "102"]}, [1, 2]),
        ({"like_code": "12*"}, [20, 21, 22, 23, 24]),
        ({"n": None, "max_n": 0}, [0]),  # None: not sent
    ],
)
def test_filters_against_the_server(scoped, filters, expected):
    fill(scoped, 25)
    assert sorted(r["n"] for r in scoped.get_records(**filters)) == expected


def test_sort_and_fields(scoped):
    fill(scoped, 5)
    records = scoped.get_records(_sort=["-done", "-n"], _fields=["n", "author.name"])
    assert [r["n"] for r in records] == [4, 0, 3, 2, 1]
    assert set(records[0]) == {"id", "last_modified", "n", "author"}
    assert records[0]["author"] == {"name": "bob"}


def test_unencodable_filter_is_a_clear_error_before_sending(scoped):
    with pytest.raises(TypeError, match=r"query parameter n=\{"):
        scoped.get_records(n={"a": 1})
    with pytest.raises(ValueError, match="comma"):
        scoped.get_records(in_title=["a,b"])


def test_encode_params_unit():
    assert encode_params(
        {
            "_fields": ["a", "b"],
            "_sort": "-n",
            "_since": 12,
            "in_id": ["x"],
            "in_n": [1, 2],
            "exclude_id": "y",
            "contains_tags": ["a", "b,c"],
            "contains_any_tags": "z",
            "has_x": True,
            "n": "123",
            "title": "plain",
            "like_title": "*a*",
            "min_d": datetime.date(2024, 1, 2),
            "lt_f": 0.5,
            "skipped": None,
        }
    ) == {
        "_fields": "a,b",
        "_sort": "-n",
        "_since": "12",
        "in_id": "x",
        "in_n": "1,2",
        "exclude_id": "y",
        "contains_tags": '["a","b,c"]',
        "contains_any_tags": '"z"',
        "has_x": "true",
        "n": '"123"',
        "title": "plain",
        "like_title": "*a*",
        "min_d": "2024-01-02",
        "lt_f": "0.5",
    }


@pytest.mark.parametrize(
    "params, error",
    [
        ({"x": {"a": 1}}, TypeError),
        ({"x": object()}, TypeError),
        ({"in_x": [[1, 2]]}, TypeError),
        ({"in_x": []}, ValueError),
        ({"x": float("nan")}, ValueError),
        ({"_sort": 1.5}, TypeError),
    ],
)
def test_encode_params_rejects(params, error):
    with pytest.raises(error, match=next(iter(params))):
        encode_params(params)


# -- counts and timestamps -----------------------------------------------------------------


def test_count_records(scoped, records_url, raw):
    fill(scoped, 25)
    assert scoped.count_records() == 25
    assert scoped.count_records(min_n=20) == 5
    assert scoped.count_records(contains_tags=["odd"]) == 12
    raw.delete(records_url, params={"min_n": 20})
    assert scoped.count_records() == 20


def test_count_inside_a_batch_is_an_error(scoped):
    with scoped.batch() as batch, pytest.raises(KintoException, match="inside"):
        batch.count_records()


def test_get_records_timestamp(scoped, raw, records_url):
    fill(scoped, 2)
    timestamp = scoped.get_records_timestamp()
    newest = max(r["last_modified"] for r in raw.get(records_url).json()["data"])
    assert timestamp == newest
    created = scoped.create_record({"n": 99})
    assert scoped.get_records_timestamp() == created["data"]["last_modified"] > timestamp


def test_if_none_match_on_lists(scoped, client):
    fill(scoped, 3)
    records = scoped.get_records()
    assert len(records) == 3 and records.timestamp is not None
    unchanged = scoped.get_records(if_none_match=records.timestamp)
    assert unchanged is NOT_MODIFIED
    assert isinstance(unchanged, NotModified) and not isinstance(unchanged, list)
    scoped.create_record({"n": 100})
    changed = scoped.get_records(if_none_match=records.timestamp)
    assert len(changed) == 4
    collections = client.get_collections(bucket=scoped.bucket_name)
    assert (
        client.get_collections(bucket=scoped.bucket_name, if_none_match=collections.timestamp)
        is NOT_MODIFIED
    )
    buckets = client.get_buckets()
    assert client.get_buckets(if_none_match=buckets.timestamp) is NOT_MODIFIED


def test_if_none_match_is_sent_on_the_first_page_only(scoped):
    fill(scoped, 25)
    timestamp = scoped.get_records_timestamp()
    scoped.create_record({"id": "new"})
    changed = scoped.get_records(if_none_match=timestamp)
    assert len(changed) == 26  # pages 2 and 3 were not "not modified"


# -- incremental refresh ------------------------------------------------------------------


def test_get_records_since_includes_tombstones(scoped):
    fill(scoped, 5)
    timestamp = scoped.get_records().timestamp
    scoped.delete_record("r00")
    scoped.patch_record({"n": 100}, id="r01")
    changes = scoped.get_records(_since=timestamp)
    by_id = {r["id"]: r for r in changes}
    assert set(by_id) == {"r00", "r01"}
    assert by_id["r00"]["deleted"] is True
    assert by_id["r01"]["n"] == 100
    assert changes.timestamp > timestamp


def test_sync_records_keeps_a_local_copy_in_sync(scoped, raw, records_url):
    fill(scoped, 25)
    local: dict = {"stale": {"id": "stale"}}
    timestamp = scoped.sync_records(local)
    assert sorted(local) == [f"r{i:02d}" for i in range(25)]  # exact copy: "stale" gone
    assert timestamp == scoped.get_records_timestamp()

    # nothing changed: the server answers 304
    assert scoped.sync_records(local, since=timestamp) == timestamp

    # changes made by someone else, over several pages
    raw.delete(f"{records_url}/r00")
    raw.patch(f"{records_url}/r01", json={"data": {"n": -1}})
    for i in range(12):
        raw.put(f"{records_url}/new{i:02d}", json={"data": {"n": 100 + i}})
    new_timestamp = scoped.sync_records(local, since=timestamp)
    assert new_timestamp > timestamp
    assert "r00" not in local
    assert local["r01"]["n"] == -1
    assert len(local) == 24 + 12

    expected = {r["id"]: r for r in scoped.get_records()}
    assert local == expected


def test_sync_records_uses_the_default_collection_of_a_client(client, bucket, collection):
    scoped = client.clone(bucket=bucket, collection=collection)
    scoped.create_record({"id": "a"})
    local: dict = {}
    client.sync_records(local, collection=collection, bucket=bucket)
    assert list(local) == ["a"]


def test_sync_records_inside_a_batch_is_an_error(scoped):
    with scoped.batch() as batch, pytest.raises(KintoException, match="inside"):
        batch.sync_records({})


def test_raw_http_agrees_with_count(scoped, raw: requests.Session, records_url):
    fill(scoped, 12)
    head = raw.head(records_url, params={"has_extra": "true"})
    assert int(head.headers["Total-Objects"]) == scoped.count_records(has_extra=True) == 3
