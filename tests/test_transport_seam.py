"""The transport seam: ``Client(..., http=...)`` carries the calls over the caller's
``requests.Session`` (or one per thread, from a factory), on the real server."""

from __future__ import annotations

import threading

import pytest
import requests
from conftest import AUTH
from requests.adapters import HTTPAdapter

from kinto_client import Client


class CountingAdapter(HTTPAdapter):
    """A caller's own adapter: counts what it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        self.sent.append(f"{request.method} {request.path_url}")
        return super().send(request, **kwargs)


def test_a_given_session_carries_every_call(server_url, flush, raw):
    adapter = CountingAdapter()
    http = requests.Session()
    http.mount("http://", adapter)
    client = Client(server_url=server_url, auth=AUTH, bucket="b", collection="c", http=http)
    client.create_bucket()
    client.create_collection()
    client.create_record({"n": 1}, id="r1")
    assert raw.get(f"{server_url}/buckets/b/collections/c/records/r1", timeout=10).ok
    assert adapter.sent == [
        "PUT /v1/buckets/b",
        "PUT /v1/buckets/b/collections/c",
        "PUT /v1/buckets/b/collections/c/records/r1",
    ]
    client.close()  # the caller's session is the caller's to close
    assert client.get_record("r1")["data"]["n"] == 1
    assert len(adapter.sent) == 4


def test_a_factory_gives_each_thread_its_own_session(server_url, flush):
    made: list[requests.Session] = []
    lock = threading.Lock()

    def factory() -> requests.Session:
        with lock:
            made.append(requests.Session())
            return made[-1]

    client = Client(server_url=server_url, auth=AUTH, http=factory)
    client.create_bucket("b")
    threads = [threading.Thread(target=client.get_bucket, args=("b",)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 4  # this thread's, then one per new thread
    client.close()


def test_http_must_be_a_session_or_a_factory(server_url):
    with pytest.raises(TypeError, match=r"http must be a requests\.Session"):
        Client(server_url=server_url, http="not a session")
    client = Client(server_url=server_url, http=lambda: "nope")
    with pytest.raises(TypeError, match=r"must return a requests\.Session"):
        client.get_buckets()
