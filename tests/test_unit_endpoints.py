"""Endpoints: URL patterns filled with slugified, percent-encoded ids (no server)."""

from __future__ import annotations

import pytest

from kinto_client import Endpoints, KintoException

IDS = {"bucket": "b", "collection": "c", "id": "r", "group": "g", "user": "u", "timestamp": 42}

DOCUMENTED = {
    "root": "{root}/",
    "batch": "{root}/batch",
    "buckets": "{root}/buckets",
    "bucket": "{root}/buckets/b",
    "collections": "{root}/buckets/b/collections",
    "collection": "{root}/buckets/b/collections/c",
    "records": "{root}/buckets/b/collections/c/records",
    "record": "{root}/buckets/b/collections/c/records/r",
}


@pytest.mark.parametrize("root", ["", "/v1"])
@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_endpoints(name, root):
    assert Endpoints(root).get(name, **IDS) == DOCUMENTED[name].format(root=root)


def test_root_defaults_to_empty():
    assert Endpoints().get("bucket", bucket="b") == "/buckets/b"


@pytest.mark.parametrize("name", sorted(Endpoints.endpoints))
def test_every_endpoint_is_filled(name):
    path = Endpoints().get(name, **IDS)
    assert "{" not in path and path.startswith("/")
    for field in ("bucket", "collection", "group", "user"):
        if "{" + field + "}" in Endpoints.endpoints[name]:
            assert f"/{IDS[field]}" in path


def test_extra_values_are_ignored():
    assert Endpoints().get("buckets", bucket="b", collection="c") == "/buckets"


@pytest.mark.parametrize(
    ("name", "given", "missing"),
    [
        ("bucket", {}, "bucket"),
        ("collection", {"bucket": "b"}, "collection"),
        ("collections", {}, "bucket"),
        ("records", {"bucket": "b"}, "collection"),
        ("record", {"bucket": "b", "collection": "c"}, "id"),
        ("record", {"bucket": "b", "collection": "c", "id": None}, "id"),
        ("group", {"bucket": "b"}, "group"),
    ],
)
def test_missing_field_names_endpoint_and_field(name, given, missing):
    with pytest.raises(KintoException) as excinfo:
        Endpoints().get(name, **given)
    message = str(excinfo.value)
    assert f"{name} endpoint" in message
    assert f"{missing} is missing" in message


def test_several_missing_fields_are_all_named():
    with pytest.raises(KintoException, match="bucket,collection,id is missing"):
        Endpoints().get("record")


def test_unknown_endpoint():
    with pytest.raises(KintoException, match="Unknown endpoint 'nope'"):
        Endpoints().get("nope")


@pytest.mark.parametrize("value", [0, 1234, "0"])
def test_integer_ids_and_zero_are_not_missing(value):
    path = Endpoints().get("record", bucket=value, collection=value, id=value)
    assert path == f"/buckets/{value}/collections/{value}/records/{value}"


def test_values_are_slugified():
    path = Endpoints().get("record", bucket="Mes Données", collection="Été 2024", id="Hôtel")
    assert path == "/buckets/mes-donnees/collections/ete-2024/records/hotel"


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("../x", "x"),
        ("a/b", "ab"),
        ("..%2Fx", "2fx"),
        ("a?b=1", "ab1"),
        ("a#frag", "afrag"),
        ("a b", "a-b"),
    ],
)
def test_ids_cannot_change_the_path(value, segment):
    path = Endpoints().get("record", bucket="b", collection="c", id=value)
    assert path == f"/buckets/b/collections/c/records/{segment}"
    for field in ("bucket", "collection"):
        other = Endpoints().get(
            "record", **{"bucket": "b", "collection": "c", field: value, "id": "r"}
        )
        assert other.count("/") == 6 and "?" not in other and "#" not in other and ".." not in other


@pytest.mark.parametrize("value", ["?", "#", "/", "..", "", "   ", "!!"])
def test_ids_that_slugify_to_nothing_are_refused(value):
    with pytest.raises(KintoException) as excinfo:
        Endpoints().get("record", bucket="b", collection="c", id=value)
    assert "record endpoint" in str(excinfo.value)
    assert "id" in str(excinfo.value)


def test_boolean_ids_are_refused():
    with pytest.raises(TypeError, match="not bool"):
        Endpoints().get("bucket", bucket=True)


@pytest.mark.parametrize(
    ("user", "segment"),
    [
        ("alice", "alice"),
        ("alice+test@example.com", "alice+test@example.com"),
        ("first.last", "first.last"),
        ("a/b", "a%2Fb"),
        ("a?b", "a%3Fb"),
        ("a#b", "a%23b"),
        ("a..b", "a..b"),
        ("é", "%C3%A9"),
    ],
)
def test_account_ids_keep_plus_dot_at_and_are_percent_encoded(user, segment):
    path = Endpoints().get("account", user=user)
    assert path == f"/accounts/{segment}"
    assert path.count("/") == 2


@pytest.mark.parametrize("user", [".", "..", ""])
def test_account_ids_that_would_change_the_path_are_refused(user):
    with pytest.raises(KintoException, match="account endpoint"):
        Endpoints().get("account", user=user)


@pytest.mark.parametrize(
    "ids",
    [
        ("b", "c", "r1"),
        ("b", "c", "Hôtel de ville"),
        ("Mon bucket", "c", "r1"),
        ("b", "c", 42),
        ("b", "c", "r1"),  # again: from what get() remembered
    ],
)
def test_record_is_the_record_endpoint(ids):
    endpoints = Endpoints("/v1")
    bucket, collection, record_id = ids
    expected = endpoints.get("record", bucket=bucket, collection=collection, id=record_id)
    assert endpoints.record(bucket, collection, record_id) == expected
    assert endpoints.record(bucket, collection, record_id) == expected


def test_record_refuses_what_get_refuses():
    with pytest.raises(KintoException, match="id is missing"):
        Endpoints().record("b", "c", None)
    with pytest.raises(TypeError, match="string or an integer"):
        Endpoints().record("b", "c", ["r"])


def test_record_follows_a_subclass_get():
    class Flat(Endpoints):
        def get(self, endpoint: str, **kwargs: object) -> str:
            return f"/{endpoint}/{kwargs.get('id')}"

    flat = Flat()
    Endpoints.get(flat, "record", bucket="b", collection="c", id="warm")  # remembered
    assert flat.record("b", "c", "r1") == "/record/r1"
