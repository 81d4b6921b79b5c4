"""client.get_endpoint(): the path of any resource, as the client's own calls use it."""

from __future__ import annotations

import pytest
from conftest import AUTH

from kinto_client import Client, KintoException

PATHS = [
    ("root", {}, "/"),
    ("batch", {}, "/batch"),
    ("buckets", {}, "/buckets"),
    ("bucket", {}, "/buckets/b0"),
    ("bucket", {"bucket": "other"}, "/buckets/other"),
    ("groups", {}, "/buckets/b0/groups"),
    ("group", {"id": "editors"}, "/buckets/b0/groups/editors"),
    ("collections", {"bucket": "x"}, "/buckets/x/collections"),
    ("collection", {}, "/buckets/b0/collections/c0"),
    ("collection", {"collection": "c1"}, "/buckets/b0/collections/c1"),
    ("records", {}, "/buckets/b0/collections/c0/records"),
    ("record", {"id": "r1"}, "/buckets/b0/collections/c0/records/r1"),
    ("history", {}, "/buckets/b0/history"),
    ("permissions", {}, "/permissions"),
    ("accounts", {}, "/accounts"),
    ("account", {"id": "alice@example.com"}, "/accounts/alice@example.com"),
    ("attachment", {"id": "r1"}, "/buckets/b0/collections/c0/records/r1/attachment"),
    ("changeset", {"collection": "cs"}, "/buckets/b0/collections/cs/changeset"),
    ("heartbeat", {}, "/__heartbeat__"),
]


@pytest.fixture
def defaults() -> Client:
    return Client(server_url="http://127.0.0.1:9/v1", bucket="b0", collection="c0")


@pytest.mark.parametrize(("name", "kwargs", "path"), PATHS, ids=[p[0] for p in PATHS])
def test_paths(defaults, name, kwargs, path):
    assert defaults.get_endpoint(name, **kwargs) == path


def test_positional_arguments(defaults):
    assert defaults.get_endpoint("record", "b", "c", "r") == "/buckets/b/collections/c/records/r"


def test_ids_are_escaped_as_in_real_calls(proxy, raw, server_url):
    """The path of a record with an awkward id is the one the client sends."""
    client = Client(server_url=proxy.url, auth=AUTH, bucket="esc", collection="c é")
    client.create_bucket()
    client.create_collection()
    weird = "Un id/avec des ? et #"
    client.create_record({"title": "x"}, id=weird)
    (put,) = proxy.requests("PUT", "/records/")
    assert put.path == "/v1" + client.get_endpoint("record", id=weird)
    url = client.server_url.replace(proxy.url, server_url) + client.get_endpoint("record", id=weird)
    assert raw.get(url).json()["data"]["title"] == "x"


def test_the_full_url_is_the_server_url_plus_the_path(client, raw):
    client.create_bucket("full")
    url = client.server_url + client.get_endpoint("bucket", bucket="full")
    assert raw.get(url).json()["data"]["id"] == "full"


def test_unknown_name(defaults):
    with pytest.raises(KintoException, match=r"Unknown endpoint 'recrod'; known: .*record"):
        defaults.get_endpoint("recrod")


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("bucket", {"id": "b"}, "The bucket endpoint takes no id="),
        ("buckets", {"bucket": "b"}, "The buckets endpoint takes no bucket="),
        ("root", {"collection": "c"}, "The root endpoint takes no collection="),
        ("groups", {"collection": "c"}, "The groups endpoint takes no collection="),
    ],
)
def test_arguments_that_do_not_apply_are_refused(defaults, name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        defaults.get_endpoint(name, **kwargs)


def test_missing_values(defaults):
    with pytest.raises(KintoException, match="record endpoint, id is missing"):
        defaults.get_endpoint("record")
    no_defaults = Client(server_url="http://127.0.0.1:9/v1", bucket=None)
    with pytest.raises(KintoException, match="collection endpoint, bucket,collection is missing"):
        no_defaults.get_endpoint("collection")
    with pytest.raises(ValueError, match="get_endpoint\\(\\): user must be an account id"):
        defaults.get_endpoint("account", id="no spaces allowed")
    with pytest.raises(KintoException, match="needs a timestamp"):
        defaults.get_endpoint("snapshot")
