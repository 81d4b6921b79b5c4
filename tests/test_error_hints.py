"""Error answers: BucketNotFound is a KintoHTTPError (issue 13, item 12), and
401/403 errors carry the hints the command line gives (item 13).

Everything here is answered by the real Kinto server: a 401 comes from a
write without credentials, or with a token no policy accepts (the server
takes any basic-auth pair); a 403 from another user's bucket.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from conftest import AUTH, OTHER_AUTH

from kinto_client import BucketNotFound, Client, KintoException, KintoHTTPError

pytestmark = pytest.mark.functional

TOKEN = "Bearer not-a-valid-T0ken-s3cr3t"


def _path(server_url: str, rest: str) -> str:
    """The path of an endpoint, with the server's prefix (``/v1``)."""
    return urlsplit(server_url).path + rest


@pytest.fixture
def private_bucket(client: Client) -> str:
    """A bucket of AUTH's with one collection, shared with nobody."""
    name = "private-" + uuid.uuid4().hex[:8]
    client.create_bucket(name)
    client.create_collection("notes", bucket=name)
    client.create_record({"id": "r1", "title": "mine"}, collection="notes", bucket=name)
    return name


def _json_tail(message: str, error: KintoHTTPError) -> None:
    """The server's JSON body is kept, whole, after the hint."""
    body = error.response.json()
    assert message.endswith(json.dumps(body, sort_keys=True)), message


# -- item 12: BucketNotFound is a KintoHTTPError ----------------------------------


def test_missing_bucket_is_caught_as_a_kinto_http_error(client: Client) -> None:
    with pytest.raises(KintoHTTPError) as caught:
        client.get_bucket("does-not-exist")
    error = caught.value
    assert type(error) is BucketNotFound  # its 4.0 name
    assert isinstance(error, KintoException)
    assert error.status_code == 403  # Kinto hides a missing bucket behind a 403
    assert error.response.status_code == 403
    assert error.request.method == "GET"
    assert error.request.url.endswith("/buckets/does-not-exist")
    assert "'does-not-exist'" in str(error)


def test_another_users_bucket_is_a_bucket_not_found(server_url: str, private_bucket: str) -> None:
    other = Client(server_url=server_url, auth=OTHER_AUTH)
    with pytest.raises(KintoHTTPError) as caught:
        other.get_bucket(private_bucket)
    assert isinstance(caught.value, BucketNotFound)
    # The bucket is there all the same: it was hidden, not lost.
    assert requests.get(f"{server_url}/buckets/{private_bucket}", auth=AUTH, timeout=10).ok


def test_401_from_get_bucket_is_a_kinto_http_error(server_url: str, private_bucket: str) -> None:
    anonymous = Client(server_url=server_url)
    with pytest.raises(KintoHTTPError) as caught:
        anonymous.get_bucket(private_bucket)
    error = caught.value
    assert not isinstance(error, BucketNotFound)
    assert error.status_code == 401
    assert "auth=" in str(error)


# -- item 13: 401 and 403 hints ---------------------------------------------------


def test_401_with_refused_credentials_says_to_check_them(server_url: str, flush: None) -> None:
    client = Client(server_url=server_url, auth=TOKEN)
    with pytest.raises(KintoHTTPError) as caught:
        client.create_bucket("b1")
    error = caught.value
    message = str(error)
    assert error.status_code == 401
    assert message.startswith(
        "401 - Unauthorized: the server refused these credentials to write "
        f"{_path(server_url, '/buckets/b1')}; "
        "check the auth= credentials. "
    ), message
    _json_tail(message, error)
    assert "not-a-valid-T0ken" not in message and "s3cr3t" not in message
    assert "not-a-valid-T0ken" not in repr(error)
    # Nothing was written.
    assert requests.get(f"{server_url}/buckets/b1", auth=AUTH, timeout=10).status_code == 403


def test_401_without_credentials_says_how_to_give_them(server_url: str, flush: None) -> None:
    anonymous = Client(server_url=server_url)
    with pytest.raises(KintoHTTPError) as caught:
        anonymous.create_bucket("b1")
    message = str(caught.value)
    assert message.startswith(
        f"401 - Unauthorized: {_path(server_url, '/buckets/b1')} needs credentials; "
        "pass auth=('user', 'password') "
        "or auth='Bearer <token>' to the Client. "
    ), message
    _json_tail(message, caught.value)


def test_403_on_read_says_the_object_is_not_shared(server_url: str, private_bucket: str) -> None:
    other = Client(server_url=server_url, auth=OTHER_AUTH, bucket=private_bucket)
    with pytest.raises(KintoHTTPError) as caught:
        other.get_record("r1", collection="notes")
    error = caught.value
    message = str(error)
    path = _path(server_url, f"/buckets/{private_bucket}/collections/notes/records/r1")
    assert message.startswith(
        f"403 - Forbidden: these credentials may not read {path}: it does not exist or is not "
        "shared with them (Kinto answers 403, not 404, for a bucket you cannot read); check "
        "the bucket and collection names and the auth= credentials. "
    ), message
    _json_tail(message, error)
    assert OTHER_AUTH[1] not in message


def test_403_on_write_says_to_ask_for_permission(server_url: str, private_bucket: str) -> None:
    other = Client(server_url=server_url, auth=OTHER_AUTH, bucket=private_bucket)
    with pytest.raises(KintoHTTPError) as caught:
        other.create_collection("mine")
    message = str(caught.value)
    assert message.startswith(
        "403 - Forbidden: these credentials may not write "
        f"{_path(server_url, f'/buckets/{private_bucket}/collections/mine')}: "
        "ask its owner for write permission, or check the bucket and collection names "
        "and the auth= credentials. "
    ), message
    _json_tail(message, caught.value)
    assert (
        requests.get(
            f"{server_url}/buckets/{private_bucket}/collections/mine", auth=AUTH, timeout=10
        ).status_code
        == 404
    )


def test_403_on_delete_names_the_delete(server_url: str, private_bucket: str) -> None:
    other = Client(server_url=server_url, auth=OTHER_AUTH, bucket=private_bucket)
    with pytest.raises(KintoHTTPError) as caught:
        other.delete_record("r1", collection="notes")
    assert f"these credentials may not delete {_path(server_url, '/buckets/')}" in str(caught.value)
    url = f"{server_url}/buckets/{private_bucket}/collections/notes/records/r1"
    assert requests.get(url, auth=AUTH, timeout=10).status_code == 200  # still there


def test_other_errors_have_no_credentials_hint(client: Client, bucket: str) -> None:
    with pytest.raises(KintoHTTPError) as caught:
        client.get_collection("missing", bucket=bucket)
    message = str(caught.value)
    assert message.startswith("404 - {"), message
    assert "auth=" not in message
