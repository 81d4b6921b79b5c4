"""Browser login with OpenID Connect (``BrowserOIDCAuth``).

Functional tests run on a real Kinto 26 with ``kinto.plugins.openid``, whose
two policies (``oidc``: ``Bearer``, ``oidcplus``: ``Bearer+OIDC``) use the
provider stub of ``tests/oidc_provider.py`` (fixtures in
``tests/conftest_oidc.py``). The system browser is replaced by ``Browser``,
which follows the redirects with plain ``requests``: Kinto's login, the
provider's authorize, Kinto's token endpoint, then the client's callback.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import webbrowser
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from test_docs import code_blocks

from kinto_client import (
    BrowserOIDCAuth,
    BucketNotFound,
    CapabilityMissing,
    Client,
    KintoException,
    OIDCLoginError,
    OIDCLoginTimeout,
    Retry,
)

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide-oidc.rst"
#: Short: these tests wait for a browser that never comes.
NO_BROWSER_TIMEOUT = 0.5


class Browser:
    """Stands for the system browser: GET the URL, following every redirect."""

    def __init__(self, before: Any = None) -> None:
        self.visits: list[str] = []
        self.responses: list[requests.Response] = []
        self.before = before

    def __call__(self, url: str) -> bool:
        self.visits.append(url)
        if self.before is not None:
            self.before(url)
        self.responses.append(requests.get(url, timeout=30))
        return True


def callback_of(login_url: str) -> str:
    """The loopback callback URL that the client put in the login URL."""
    return parse_qs(urlsplit(login_url).query)["callback"][0]


def encoded(answer: object) -> str:
    """An answer as Kinto appends it to the callback (JSON, base64, URL-quoted)."""
    return quote(base64.b64encode(json.dumps(answer).encode()).decode())


@pytest.fixture
def server(openid_server, openid_flush):
    return openid_server


# -- the login, on the real server ---------------------------------------------------


@pytest.mark.functional
def test_login_authenticates_as_the_provider_user_and_owns_what_it_creates(server):
    browser = Browser()
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=browser, timeout=30)
    client = Client(server_url=server.url, auth=auth, bucket="diary", collection="notes")
    assert not auth.logged_in

    user = client.server_info()["user"]
    assert user["id"] == "oidc:mat"
    assert user["profile"]["email"] == "mat@example.com"

    client.create_bucket()
    client.create_collection()
    record = client.create_record({"title": "first"})
    stored = client.get_record(id=record["data"]["id"])
    assert stored["data"]["title"] == "first"
    assert stored["permissions"]["write"] == ["oidc:mat"]

    # One browser login for all those requests, through server, provider, server, client.
    assert len(browser.visits) == 1
    assert [r.status_code for r in browser.responses[0].history] == [307, 302, 307]
    assert browser.responses[0].status_code == 200
    login = urlsplit(browser.visits[0])
    assert f"{login.scheme}://{login.netloc}{login.path}" == server.url + "/openid/oidc/login"
    assert parse_qs(login.query)["scope"] == ["openid email"]
    assert server.provider.authorize_requests[0]["scope"] == "openid email"
    assert callback_of(browser.visits[0]).startswith("http://127.0.0.1:")
    assert auth.logged_in
    assert auth.header_type == "Bearer"


@pytest.mark.functional
def test_threads_sharing_the_auth_log_in_once(server):
    browser = Browser()
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=browser)
    start = threading.Barrier(4)

    def create(name: str) -> None:
        # On PostgreSQL, a user's first concurrent writes may answer 409 ("please
        # retry": Kinto rolled the transaction back), so the clients retry.
        client = Client(server_url=server.url, auth=auth, retry=Retry(total=3, backoff_factor=0.05))
        start.wait()
        client.create_bucket(bucket=name)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, ["a", "b", "c", "d"]))
    assert len(browser.visits) == 1
    client = Client(server_url=server.url, auth=auth)
    assert sorted(b["id"] for b in client.get_buckets()) == ["a", "b", "c", "d"]


@pytest.mark.functional
def test_loopback_server_is_shut_down_after_the_login(server):
    browser = Browser()
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=browser)
    auth.login()
    with pytest.raises(requests.ConnectionError):
        requests.get(callback_of(browser.visits[0]) + "x", timeout=5)


@pytest.mark.functional
def test_explicit_header_type_selects_the_policy(server):
    browser = Browser()
    auth = BrowserOIDCAuth(server.url, "oidcplus", header_type="Bearer+OIDC", open_browser=browser)
    client = Client(server_url=server.url, auth=auth)
    assert client.server_info()["user"]["id"] == "oidcplus:mat"
    client.create_bucket(bucket="b")
    assert client.get_bucket(bucket="b")["permissions"]["write"] == ["oidcplus:mat"]


@pytest.mark.functional
def test_wrong_header_type_is_refused_at_login(server):
    """Kinto 26 announces 'Bearer' for oidcplus (configured as Bearer+OIDC).

    Sent as 'Bearer', the token would authenticate as the *other* policy's
    user (oidc:mat): the login refuses it and says what to give.
    """
    announced = requests.get(server.url + "/", timeout=10).json()["capabilities"]["openid"]
    assert {p["name"]: p["header_type"] for p in announced["providers"]}["oidcplus"] == "Bearer"
    auth = BrowserOIDCAuth(server.url, "oidcplus", open_browser=Browser())
    with pytest.raises(OIDCLoginError) as error:
        auth.login()
    assert "as the user 'oidc:mat'" in str(error.value)
    assert "header_type" in str(error.value)
    assert not auth.logged_in


@pytest.mark.functional
def test_a_header_type_that_no_policy_takes_is_refused(server):
    auth = BrowserOIDCAuth(server.url, "oidc", header_type="Token", open_browser=Browser())
    with pytest.raises(OIDCLoginError, match="as no user"):
        auth.login()


@pytest.mark.functional
def test_expired_token_logs_in_again(server):
    server.provider.expires_in = 0
    browser = Browser()
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=browser)
    client = Client(server_url=server.url, auth=auth)
    client.create_bucket(bucket="a")
    client.create_bucket(bucket="b")
    assert len(browser.visits) == 2
    assert client.get_bucket(bucket="b")["permissions"]["write"] == ["oidc:mat"]
    assert len(browser.visits) == 3


@pytest.mark.functional
def test_logout_then_the_next_request_logs_in_again_as_the_new_user(server):
    browser = Browser()
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=browser)
    client = Client(server_url=server.url, auth=auth)
    client.create_bucket(bucket="a")
    auth.logout()
    assert not auth.logged_in
    server.provider.user = {"sub": "natim", "email": "natim@example.com"}
    client.create_bucket(bucket="b")
    assert client.get_bucket(bucket="b")["permissions"]["write"] == ["oidc:natim"]
    with pytest.raises(BucketNotFound):  # mat's bucket, unreadable by natim
        client.get_bucket(bucket="a")
    assert len(browser.visits) == 2


@pytest.mark.functional
def test_refused_login_raises_the_provider_error(server):
    server.provider.deny = True
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=Browser())
    with pytest.raises(OIDCLoginError) as error:
        Client(server_url=server.url, auth=auth).server_info()
    assert error.value.error == "access_denied"
    assert "The user refused" in str(error.value)
    assert not auth.logged_in


# -- no browser, or a forged one -----------------------------------------------------


@pytest.mark.functional
def test_times_out_when_no_browser_completes_the_login(server):
    browser_calls: list[str] = []
    auth = BrowserOIDCAuth(
        server.url, "oidc", open_browser=browser_calls.append, timeout=NO_BROWSER_TIMEOUT
    )
    client = Client(server_url=server.url, auth=auth)
    with pytest.raises(OIDCLoginTimeout) as error:
        client.server_info()
    assert isinstance(error.value, KintoException)
    assert f"within {NO_BROWSER_TIMEOUT:g} seconds" in str(error.value)
    assert len(browser_calls) == 1
    assert not auth.logged_in
    with pytest.raises(requests.ConnectionError):  # the loopback server is gone
        requests.get(callback_of(browser_calls[0]), timeout=5)


@pytest.mark.functional
def test_loopback_server_is_shut_down_when_the_browser_fails(server):
    urls: list[str] = []

    def broken(url: str) -> None:
        urls.append(url)
        raise RuntimeError("no display")

    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=broken)
    with pytest.raises(RuntimeError, match="no display"):
        auth.login()
    with pytest.raises(requests.ConnectionError):
        requests.get(callback_of(urls[0]), timeout=5)


@pytest.mark.functional
def test_without_a_browser_the_url_is_printed(server, capsys):
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=lambda url: False, timeout=0.5)
    with pytest.raises(OIDCLoginTimeout):
        auth.login()
    assert server.url + "/openid/oidc/login?callback=" in capsys.readouterr().err


@pytest.mark.functional
def test_forged_callback_is_ignored(server):
    forged: list[requests.Response] = []

    def forge(login_url: str) -> None:
        # Another local program, knowing the port but not the random path.
        parts = urlsplit(callback_of(login_url))
        for path in ("/", "/callback", parts.path + "x"):
            url = f"http://{parts.netloc}{path}?result={encoded({'access_token': 'forged'})}"
            forged.append(requests.get(url, timeout=5))
        forged.append(requests.get(f"http://{parts.netloc}{parts.path}", timeout=5))

    browser = Browser(before=forge)
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=browser)
    client = Client(server_url=server.url, auth=auth)
    assert client.server_info()["user"]["id"] == "oidc:mat"
    assert [r.status_code for r in forged] == [404, 404, 404, 400]
    assert browser.responses[0].status_code == 200


@pytest.mark.functional
def test_forged_callback_alone_does_not_log_in(server):
    def forge(login_url: str) -> None:
        parts = urlsplit(callback_of(login_url))
        url = f"http://{parts.netloc}/?result={encoded({'access_token': 'forged'})}"
        assert requests.get(url, timeout=5).status_code == 404

    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=forge, timeout=NO_BROWSER_TIMEOUT)
    with pytest.raises(OIDCLoginTimeout):
        auth.login()
    assert not auth.logged_in


# -- what the callback may bring back (sent straight to it, as Kinto would) ----------


def answer_with(result: str) -> Any:
    def browser(login_url: str) -> bool:
        assert requests.get(callback_of(login_url) + result, timeout=5).status_code == 200
        return True

    return browser


@pytest.mark.functional
@pytest.mark.parametrize(
    ("result", "error", "message"),
    [
        (encoded({"error": "invalid_grant"}), "invalid_grant", "refused to give a token"),
        (encoded({"token_type": "Bearer"}), None, "keys: token_type"),
        ("not-base64!", None, "not the provider's token JSON"),
        (encoded(["a list"]), None, "not the provider's token JSON"),
        ("error=access_denied&error_description=No+way", "access_denied", "(No way)"),
    ],
)
def test_unusable_answers_raise_a_clear_error(server, result, error, message):
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=answer_with(result))
    with pytest.raises(OIDCLoginError) as raised:
        auth.login()
    assert raised.value.error == error
    assert message in str(raised.value)
    assert not auth.logged_in


@pytest.mark.functional
def test_the_callback_takes_one_answer_only(server):
    statuses: list[int] = []

    def twice(login_url: str) -> None:
        for token in ("first", "second"):
            url = callback_of(login_url) + encoded({"access_token": token})
            statuses.append(requests.get(url, timeout=5).status_code)

    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=twice)
    with pytest.raises(OIDCLoginError, match="as no user"):  # "first" is no real token
        auth.login()
    assert statuses == [200, 400]


@pytest.mark.functional
def test_unknown_provider_is_named_before_any_browser(server):
    browser = Browser()
    auth = BrowserOIDCAuth(server.url, "google", open_browser=browser)
    with pytest.raises(OIDCLoginError) as error:
        auth.login()
    expected = "no OpenID provider named 'google'; its providers: 'oidc', 'oidcplus'"
    assert expected in str(error.value)
    assert browser.visits == []


@pytest.mark.functional
def test_server_without_openid_plugin(server_url):
    browser = Browser()
    auth = BrowserOIDCAuth(server_url, "oidc", open_browser=browser)
    with pytest.raises(CapabilityMissing) as error:
        Client(server_url=server_url, auth=auth).server_info()
    assert error.value.plugin == "kinto.plugins.openid"
    assert browser.visits == []


# -- secrets --------------------------------------------------------------------------


@pytest.mark.functional
def test_the_token_is_never_shown(server, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="kinto_client")  # whatever earlier tests set
    auth = BrowserOIDCAuth(server.url, "oidc", open_browser=Browser())
    client = Client(server_url=server.url, auth=auth)
    client.server_info()
    client.create_bucket(bucket="b")
    tokens = list(server.provider._tokens)
    assert tokens
    # The library's log records (the test's Browser, through urllib3, logs the callback URL).
    logged = "".join(
        f"{r.name} {r.getMessage()}\n" for r in caplog.records if r.name.startswith("kinto_client")
    )
    assert "Logged in to" in logged
    shown = repr(auth) + str(auth) + repr(vars(client)) + logged
    captured = capsys.readouterr()
    shown += captured.out + captured.err
    for token in tokens:
        assert token not in shown
    assert "result=" not in shown  # the callback's URL (the token answer, base64)
    assert "logged_in=True" in repr(auth)


# -- the guide's example ----------------------------------------------------------------


@pytest.mark.functional
def test_guide_example_runs(server, monkeypatch):
    """docs/guide-oidc.rst's blocks of class ``oidc`` run on the openid server.

    They are ``no-run`` for tests/test_docs.py (whose servers have no OpenID
    provider); here ``webbrowser.open`` is the redirect-following ``Browser``.
    """
    browser = Browser()
    monkeypatch.setattr(webbrowser, "open", browser)
    blocks = code_blocks(GUIDE.read_text("utf-8"))
    blocks = [b for b in blocks if "oidc" in b.options.get("class", "").split()]
    assert blocks
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in blocks:
        code = block.source.replace("http://localhost:8888/v1", server.url)
        source = "\n" * (block.line - 1) + code
        exec(compile(source, str(GUIDE), "exec"), namespace)
    assert len(browser.visits) == 1


# -- arguments (no server) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"server_url": "localhost:8888"}, "server_url must be"),
        ({"provider": ""}, "provider must be"),
        ({"provider": "a/b"}, "provider must be"),
        ({"scope": " "}, "scope must be"),
        ({"header_type": "Bearer OIDC"}, "header_type must be one word"),
        ({"timeout": 0}, "timeout must be a positive"),
        ({"timeout": True}, "timeout must be a positive"),
        ({"open_browser": "firefox"}, "open_browser must be a callable"),
        ({"port": 70000}, "port must be"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments: dict[str, Any] = {"server_url": "http://127.0.0.1:9/v1", "provider": "oidc"}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        BrowserOIDCAuth(**arguments)


def test_defaults():
    auth = BrowserOIDCAuth("http://127.0.0.1:9/v1/", "oidc")
    assert auth.server_url == "http://127.0.0.1:9/v1"
    assert auth.timeout == 120
    assert auth.scope == "openid email"
    assert auth.open_browser is None
    assert auth.header_type is None
    assert not auth.logged_in
