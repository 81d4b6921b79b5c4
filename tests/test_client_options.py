"""Client options: every auth form, headers, User-Agent, and the cli_utils options.

Credentials are proven by the user id the real server derives from them (its
basicauth accepts any user and password, so the id shows which ones arrived).
What only a request can show (headers, bearer tokens, retries, timeouts) is
observed with a tiny HTTP stub on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from local_http import LocalServer
from requests.auth import HTTPBasicAuth

from kinto_client import (
    BasicAuth,
    BearerTokenAuth,
    Client,
    KintoBatchException,
    KintoHTTPError,
    KintoTimeout,
    cli_utils,
)

AUTH = ("alexis", "p4ssw0rd")


# -- a stub server ----------------------------------------------------------------------


class Stub:
    """Answers each request with the next scripted reply, records what it got.

    A reply is ``(status, headers, body, delay)``; the last one repeats.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[tuple[int, dict[str, str], Any, float]] = [(200, {}, {"data": []}, 0)]
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                stub.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers)}
                )
                index = min(len(stub.requests) - 1, len(stub.replies) - 1)
                status, headers, body, delay = stub.replies[index]
                time.sleep(delay)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def header(self, name: str, index: int = -1) -> str | None:
        return self.requests[index]["headers"].get(name)


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    with LocalServer(s.server, poll_interval=0.02):
        yield s


# -- auth, on the real server -----------------------------------------------------------------


def user_id(server_url: str, auth: Any) -> str | None:
    response = requests.get(server_url + "/", auth=auth, timeout=10)
    return response.json().get("user", {}).get("id")


@pytest.fixture
def alexis_id(server_url: str) -> str:
    found = user_id(server_url, AUTH)
    assert found and found.startswith("basicauth:")
    return found


@pytest.mark.parametrize(
    "auth",
    [
        AUTH,
        list(AUTH),
        "alexis:p4ssw0rd",
        BasicAuth("alexis", "p4ssw0rd"),
        HTTPBasicAuth("alexis", "p4ssw0rd"),
    ],
    ids=["tuple", "list", "string", "BasicAuth", "requests-HTTPBasicAuth"],
)
def test_every_basic_auth_form_reaches_the_server(server_url, alexis_id, flush, auth):
    client = Client(server_url=server_url, auth=auth)
    assert client.server_info()["user"]["id"] == alexis_id
    created = client.create_bucket("mine")
    assert alexis_id in created["permissions"]["write"]


def test_a_different_password_is_a_different_user(server_url, alexis_id, flush):
    client = Client(server_url=server_url, auth="alexis:other")
    assert client.server_info()["user"]["id"] != alexis_id


def test_password_with_a_colon(server_url, flush):
    client = Client(server_url=server_url, auth="bob:pa:ss")
    assert client.server_info()["user"]["id"] == user_id(server_url, ("bob", "pa:ss"))


def test_any_callable_auth(server_url, alexis_id, flush):
    def auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
        return HTTPBasicAuth(*AUTH)(request)

    assert Client(server_url=server_url, auth=auth).server_info()["user"]["id"] == alexis_id


def test_credentials_in_the_url(server_url, alexis_id, flush):
    url = server_url.replace("http://", "http://alexis:p4ssw0rd@")
    client = Client(server_url=url)
    assert client.server_info()["user"]["id"] == alexis_id
    assert "p4ssw0rd" not in repr(client) and "p4ssw0rd" not in client.server_url


def test_no_auth_is_anonymous(server_url, flush):
    assert "user" not in Client(server_url=server_url).server_info()


@pytest.mark.parametrize("bad, error", [("nocolon", ValueError), (42, TypeError)])
def test_bad_auth_is_a_clear_error(server_url, bad, error):
    with pytest.raises(error, match="auth"):
        Client(server_url=server_url, auth=bad)


def test_secrets_never_in_reprs():
    assert "p4ssw0rd" not in repr(BasicAuth("alexis", "p4ssw0rd"))
    assert "t0ken" not in repr(BearerTokenAuth("t0ken"))


# -- auth and headers, on the stub -----------------------------------------------------------


@pytest.mark.parametrize(
    "auth, expected",
    [
        ("Bearer abc.def", "Bearer abc.def"),
        ("Bearer+OIDC tok", "Bearer+OIDC tok"),
        (BearerTokenAuth("tok"), "Bearer tok"),
        (BearerTokenAuth("tok", type="Bearer+FxA"), "Bearer+FxA tok"),
        (AUTH, "Basic YWxleGlzOnA0c3N3MHJk"),
    ],
)
def test_authorization_header_sent(stub, auth, expected):
    Client(server_url=stub.url, auth=auth).get_records(collection="c")
    assert stub.header("Authorization") == expected


def test_headers_sent_with_every_request(stub):
    client = Client(server_url=stub.url, headers={"X-Trace": "t-1", "Accept-Language": "fr"})
    client.get_records(collection="c")
    client.create_bucket("b")
    client.delete_record("r", collection="c")
    assert [r["headers"].get("X-Trace") for r in stub.requests] == ["t-1"] * 3
    assert {r["headers"].get("Accept-Language") for r in stub.requests} == {"fr"}


def test_headers_kept_by_clones(stub):
    client = Client(server_url=stub.url, headers={"X-Trace": "t-1"})
    client.clone(bucket="other").get_records(collection="c")
    assert stub.header("X-Trace") == "t-1"


def test_user_agent_is_requests_own_as_in_4_0(stub):
    Client(server_url=stub.url).get_records(collection="c")
    assert stub.header("User-Agent") == f"python-requests/{requests.__version__}"
    assert stub.header("Accept") == "*/*"


def test_user_agent_can_be_overridden(stub):
    Client(server_url=stub.url, headers={"User-Agent": "my-app/1.0"}).get_records(collection="c")
    assert stub.header("User-Agent") == "my-app/1.0"


# -- cli_utils options ----------------------------------------------------------------------


def parse(*argv: str) -> Any:
    parser = cli_utils.add_parser_options(extended=True)
    return parser.parse_args(list(argv))


def test_cli_auth_forms_reach_the_server(server_url, alexis_id, flush):
    client = cli_utils.create_client_from_args(parse("-s", server_url, "-a", "alexis:p4ssw0rd"))
    assert client.server_info()["user"]["id"] == alexis_id


def test_cli_bearer_auth(stub):
    args = parse("-s", stub.url, "-a", "Bearer+OIDC tok")
    cli_utils.create_client_from_args(args).get_records(collection="c")
    assert stub.header("Authorization") == "Bearer+OIDC tok"


def test_cli_bucket_and_collection(server_url, flush, raw):
    args = parse("-s", server_url, "-a", "alexis:p4ssw0rd", "-b", "cli", "-c", "things")
    client = cli_utils.create_client_from_args(args)
    client.create_bucket()
    client.create_collection()
    client.create_record({"id": "x"})
    response = raw.get(f"{server_url}/buckets/cli/collections/things/records/x")
    assert response.status_code == 200


def test_cli_retry_and_retry_after(stub):
    stub.replies = [
        (503, {"Retry-After": "1"}, {"code": 503}, 0),
        (503, {"Retry-After": "1"}, {"code": 503}, 0),
        (200, {}, {"data": [{"id": "r"}]}, 0),
    ]
    args = parse("-s", stub.url, "--retry", "2", "--retry-after", "0.01")
    client = cli_utils.create_client_from_args(args)
    assert client.session.retry_after == 0.01
    assert [r["id"] for r in client.get_records(collection="c")] == ["r"]
    assert len(stub.requests) == 3


def test_cli_without_enough_retries_fails(stub):
    stub.replies = [(503, {}, {"code": 503}, 0), (503, {}, {"code": 503}, 0)]
    client = cli_utils.create_client_from_args(
        parse("-s", stub.url, "--retry", "1", "--retry-after", "0.01")
    )
    with pytest.raises(KintoHTTPError) as error:
        client.get_records(collection="c")
    assert error.value.status_code == 503
    assert len(stub.requests) == 2


def test_cli_timeout(stub):
    stub.replies = [(200, {}, {"data": []}, 2.0)]
    client = cli_utils.create_client_from_args(parse("-s", stub.url, "--timeout", "0.2"))
    with pytest.raises(KintoTimeout):
        client.get_records(collection="c")


def test_cli_ignore_batch_4xx(server_url, flush):
    base = ("-s", server_url, "-a", "alexis:p4ssw0rd", "-b", "bb", "-c", "cc")
    strict = cli_utils.create_client_from_args(parse(*base))
    strict.create_bucket()
    strict.create_collection()
    strict.create_record({"id": "exists"})
    with pytest.raises(KintoBatchException):
        with strict.batch() as batch:
            batch.create_record({"id": "exists"})
    lenient = cli_utils.create_client_from_args(parse(*base, "--ignore-batch-4xx"))
    with lenient.batch() as batch:
        batch.create_record({"id": "exists"})
        batch.create_record({"id": "new"})
    assert [f["status"] for f in batch.failures()] == [412]
    assert lenient.get_record("new")["data"]["id"] == "new"
