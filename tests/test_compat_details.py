"""Details of kinto-client 4.0's behaviour that 4.0 code can observe (issue 10, item 8).

Each test pins one difference found by reading the 4.0.0 source method by
method, which the port now restores: quoting, exception attributes and
text, ``Session.nb_retry``, no cookies kept, requests' own default headers,
``If-None-Match`` on every page, and one object per id across pages.
"""

from __future__ import annotations

import pytest
import requests
from conftest import AUTH

from kinto_client import BucketNotFound, Client, KintoException, Session
from kinto_client.client import _merge_repeats
from kinto_client.utils import quote


def test_quote_strips_quotes_at_both_ends_as_4_0():
    assert quote("123") == quote('"123') == quote('123"') == quote('"123"') == '"123"'
    assert quote(1234) == '"1234"'


def test_a_bare_exception_reads_as_4_0():
    error = KintoException()
    assert str(error) == ""
    # 4.0's own pattern: `if not hasattr(e, 'response') or e.response.status_code != 412`.
    assert not hasattr(error, "response") and not hasattr(error, "request")


def test_session_nb_retry():
    assert Session("http://127.0.0.1:1/v1", retry=3).nb_retry == 3
    assert Session("http://127.0.0.1:1/v1").nb_retry == 0


def test_no_cookie_is_kept_between_requests(proxy, make_client):
    proxy.add(
        "respond",
        method="GET",
        path="/buckets/default",
        status=200,
        headers={"Set-Cookie": "tracker=1; Path=/"},
        body=b'{"data": {"id": "default"}, "permissions": {}}',
    )
    client = make_client()
    client.get_bucket()
    client.get_records()
    sent = proxy.requests("GET")
    assert len(sent) == 2 and "Cookie" not in sent[1].headers


def test_default_headers_are_requests_own(proxy, make_client):
    make_client().get_records()
    (seen,) = proxy.requests("GET")
    assert seen.headers["User-Agent"] == f"python-requests/{requests.__version__}"
    assert seen.headers["Accept"] == "*/*"


def test_if_none_match_goes_with_every_page(proxy, make_client, server_url, bucket, collection):
    client = make_client()
    with client.batch() as batch:
        for i in range(5):
            batch.create_record({"n": i}, id=f"r{i}")
    records = client.get_records(_limit=2, if_none_match=1)
    assert len(records) == 5
    pages = proxy.requests("GET", "/records")
    assert len(pages) == 3
    assert all(page.headers.get("If-None-Match") == '"1"' for page in pages)


def test_one_object_per_id_across_pages():
    objects = [{"id": "a", "v": 1}, {"id": "b"}, {"id": "a", "v": 2}, {"x": 1}, {"x": 2}]
    _merge_repeats(objects)
    assert objects == [{"id": "a", "v": 2}, {"id": "b"}, {"x": 1}, {"x": 2}]


class FourOhSession:
    """A session written for kinto-client 4.0: only ``request()``, returning
    ``(body, headers)`` and raising ``KintoException`` with the response."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.calls: list[tuple[str, str, dict[str, object]]] = []
        self.payloads: list[object] = []

    def request(self, method, endpoint, data=None, permissions=None, payload=None, **kwargs):
        self.calls.append((method, endpoint, dict(kwargs)))
        self.payloads.append(payload)
        body = dict(payload or {})
        if data is not None:
            body["data"] = data
        if permissions is not None:
            body["permissions"] = permissions
        response = requests.request(
            method,
            self.server_url + endpoint,
            json=body or None,
            headers=kwargs.get("headers"),
            params=kwargs.get("params"),
            auth=AUTH,
            timeout=10,
        )
        if response.status_code >= 400:
            error = KintoException(f"{response.status_code}")
            error.response = response
            raise error
        return (None if response.status_code == 304 else response.json()), response.headers


def test_a_4_0_style_session_object_carries_the_calls(server_url, flush, raw):
    session = FourOhSession(server_url)
    client = Client(session=session, bucket="b", collection="c")
    client.create_bucket()
    client.create_collection()
    client.create_record({"n": 1}, id="r1")
    client.create_record({"n": 9}, id="r1", if_not_exists=True)  # 412 understood
    with client.batch() as batch:
        batch.create_record({"n": 2}, id="r2")
        batch.create_record({"n": 3}, id="r3")
    assert [r["id"] for r in client.get_records(_sort="id")] == ["r1", "r2", "r3"]
    # 4.0's /batch body: every sub-request whole, no "defaults"
    (batch_payload,) = [p for p in session.payloads if isinstance(p, dict) and "requests" in p]
    assert set(batch_payload) == {"requests"}
    assert [(sub["method"], sub["headers"]) for sub in batch_payload["requests"]] == [
        ("PUT", {"If-None-Match": "*"}),
        ("PUT", {"If-None-Match": "*"}),
    ]
    stored = raw.get(f"{server_url}/buckets/b/collections/c/records/r1", timeout=10).json()
    assert stored["data"]["n"] == 1
    assert ("get", "/buckets/b/collections/c/records/r1", {}) in session.calls
    assert any(call[:2] == ("POST", "/batch") for call in session.calls)
    with pytest.raises(BucketNotFound):
        client.get_bucket("missing")
