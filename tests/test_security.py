"""Security and bad input: secrets never leak, ids never escape their segment,
TLS is verified, and bad input is refused before anything is sent.

Real calls go through the fault proxy (to count what reached the wire) to
the real Kinto server.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import re
import string
import subprocess
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from conftest import AUTH
from fault_proxy import FaultProxy, running
from hypothesis import given, settings
from hypothesis import strategies as st

from kinto_client import (
    BasicAuth,
    BearerTokenAuth,
    Client,
    Endpoints,
    KintoConnectionError,
    KintoException,
    Retry,
    Session,
)
from kinto_client import payloads as kinto_payloads
from kinto_client import utils as kinto_utils

FAST = Retry(total=2, backoff_factor=0.01)


# -- credentials never leak -----


def _b64(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


CREDENTIALS = {
    "tuple": (
        {"auth": ("tuple-user", "tuple-P4ss!")},
        ["tuple-P4ss!", _b64("tuple-user", "tuple-P4ss!")],
    ),
    "user:pass string": (
        {"auth": "str-user:str-S3cret:with-colon"},
        ["str-S3cret", _b64("str-user", "str-S3cret:with-colon")],
    ),
    "bearer token": (
        {"auth": "Bearer tok-0123456789abcdef"},
        ["tok-0123456789abcdef"],
    ),
    "password in the URL": (
        {"url_credentials": "url-user:url-Pa55%40word"},
        ["url-Pa55", "Pa55%40word", "Pa55@word", _b64("url-user", "url-Pa55@word")],
    ),
}


def _exercise(client: Client, proxy: FaultProxy) -> list[BaseException]:
    """Successes, failures, retries, a dropped connection, a timeout and a batch."""
    errors: list[BaseException] = []

    def attempt(call: Any) -> None:
        try:
            call()
        except Exception as exc:
            errors.append(exc)
            try:
                raise RuntimeError("wrapped by the caller") from exc
            except RuntimeError as wrapped:
                errors.append(wrapped)

    attempt(lambda: client.create_bucket(bucket="sec", if_not_exists=True))
    attempt(lambda: client.create_collection(collection="c", bucket="sec", if_not_exists=True))
    attempt(lambda: client.create_record(data={"n": 1}, id="r1", bucket="sec", collection="c"))
    attempt(lambda: client.get_record(id="missing", bucket="sec", collection="c"))
    attempt(lambda: client.get_bucket(bucket="nobody-has-this"))
    proxy.add("respond", method="GET", status=503, times=1)
    attempt(lambda: client.get_records(bucket="sec", collection="c"))  # retried
    proxy.add("respond", method="GET", status=503, times=10)
    attempt(lambda: client.get_records(bucket="sec", collection="c"))  # retries exhausted
    proxy.reset()
    proxy.add("drop_before", method="GET", times=10)
    attempt(lambda: client.get_records(bucket="sec", collection="c"))  # connection dropped
    proxy.reset()
    proxy.add("delay", method="GET", delay=2, times=10)
    short = client.clone(server_url=client.server_url, timeout=0.2)
    attempt(lambda: short.get_records(bucket="sec", collection="c"))  # timeout, retried
    proxy.reset()

    def batch() -> None:
        with client.batch(bucket="sec", collection="c") as b:
            b.create_record(data={"n": 2}, id="r1")
            b.create_record(data={"n": 3}, id="r2")

    attempt(batch)
    return errors


@pytest.mark.parametrize("form", list(CREDENTIALS))
def test_credentials_never_leak(proxy, caplog, form):
    options, secrets = CREDENTIALS[form]
    for name in (None, "kinto_client", "urllib3"):  # other tests may have set levels
        caplog.set_level(logging.DEBUG, logger=name)
    url = proxy.url
    if "url_credentials" in options:
        url = url.replace("http://", f"http://{options['url_credentials']}@")
    client = Client(server_url=url, auth=options.get("auth"), retry=FAST)

    errors = _exercise(client, proxy)

    texts = [repr(client), repr(client.session), repr(client.session.auth)]
    texts += [str(client.session.auth), client.server_url, repr(client.clone())]
    kinds = {type(e).__name__ for e in errors}
    assert {"KintoTimeout", "KintoConnectionError", "RuntimeError"} <= kinds, kinds
    assert {"KintoHTTPError", "KintoBatchException"} & kinds, kinds
    for error in errors:
        texts += [str(error), repr(error), repr(vars(error))]
        texts.append("".join(traceback.format_exception(error)))
        texts += [str(getattr(error, "exception", "")), str(error.__cause__ or "")]
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    assert any("retrying" in t for t in texts), "retries must have been logged"
    assert any("urllib3" in r.name for r in caplog.records), "DEBUG logs must be captured"
    for secret in secrets:
        leaks = [t for t in texts if secret in t]
        assert leaks == [], f"{secret!r} leaked"

    # The credentials were really used on the wire.
    authorizations = {s.headers.get("Authorization") for s in proxy.seen}
    assert len(authorizations) == 1 and None not in authorizations
    client.session.close()


def test_auth_reprs_hide_secrets():
    assert repr(BasicAuth("alice", "pw-123")) == "BasicAuth(username='alice', password='***')"
    assert "tok-9" not in repr(BearerTokenAuth("tok-9"))
    with pytest.raises(ValueError) as error:
        Client(server_url="http://127.0.0.1:1/v1", auth="no-colon-secret-here")
    assert "no-colon-secret-here" not in str(error.value)
    with pytest.raises(ValueError) as error:
        Session("ftp://user:url-secret@example.com/v1")
    assert "url-secret" not in str(error.value)


# -- ids cannot escape their URL segment -----


@pytest.mark.parametrize(
    ("given", "expected"),
    [("../../buckets/x", "bucketsx"), ("a/b", "ab"), ("a?b#c", "abc"), ("%2e%2e", "2e2e")],
)
def test_ids_cannot_escape_their_segment(
    proxy, raw, server_url, bucket, collection, given, expected
):
    client = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    record = client.create_record(data={"n": 1}, id=given)
    assert record["data"]["id"] == expected
    [put] = proxy.requests("PUT")
    assert put.path == f"/v1/buckets/{bucket}/collections/{collection}/records/{expected}"
    listed = raw.get(
        f"{server_url}/buckets/{bucket}/collections/{collection}/records", timeout=10
    ).json()["data"]
    assert [r["id"] for r in listed] == [expected]
    buckets = raw.get(f"{server_url}/buckets", timeout=10).json()["data"]
    assert [b["id"] for b in buckets] == [bucket]


@pytest.mark.parametrize("user", ["..", "."])
def test_dot_segments_are_refused_before_sending(proxy, user):
    session = Session(proxy.url, auth=AUTH)
    with pytest.raises(KintoException, match="would change the URL path"):
        session.request("get", Endpoints().get("account", user=user))
    assert proxy.count() == 0


def test_account_ids_keep_plus_dot_at_and_encode_the_rest(proxy):
    endpoints = Endpoints()
    assert endpoints.get("account", user="a.b+c@x.org") == "/accounts/a.b+c@x.org"
    path = endpoints.get("account", user="../x?y#z")
    assert path == "/accounts/..%2Fx%3Fy%23z"
    session = Session(proxy.url, auth=AUTH)
    with pytest.raises(KintoException):
        session.request("get", path)  # no accounts plugin on the test server: 404
    assert [s.path for s in proxy.seen] == ["/v1/accounts/..%2Fx%3Fy%23z"]


# -- TLS -----


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture
def tls_proxy(server_url: str, flush: None, certificate) -> Iterator[FaultProxy]:
    with running(server_url, tls=certificate) as p:
        yield p


def test_tls_is_verified_by_default_and_not_retried(tls_proxy):
    client = Client(server_url=tls_proxy.url, auth=AUTH, retry=FAST)
    assert client.session.verify is True
    with pytest.raises(KintoConnectionError) as error:
        client.get_buckets()
    assert "TLS certificate verification failed" in str(error.value)
    assert "may have been applied" not in str(error.value)
    assert tls_proxy.accepted == 1  # one handshake, not retried
    assert tls_proxy.count() == 0  # nothing reached the HTTP layer


def test_tls_verify_accepts_a_ca_bundle_path(tls_proxy, certificate):
    client = Client(server_url=tls_proxy.url, auth=AUTH, verify=certificate[0])
    client.create_bucket(bucket="over-tls")
    assert [b["id"] for b in client.get_buckets()] == ["over-tls"]
    assert Session(tls_proxy.url, verify=Path(certificate[0])).verify == certificate[0]


def test_tls_verify_false_warns(tls_proxy):
    with pytest.warns(UserWarning, match="TLS certificate verification is disabled"):
        client = Client(server_url=tls_proxy.url, auth=AUTH, verify=False)
    with pytest.warns(Warning):  # urllib3's InsecureRequestWarning, on each request
        assert client.get_buckets() == []


def test_tls_verify_bad_values_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no such CA bundle file or directory"):
        Session("https://127.0.0.1:1/v1", verify=str(tmp_path / "missing.pem"))
    with pytest.raises(TypeError, match="verify must be True, False, or the path"):
        Session("https://127.0.0.1:1/v1", verify=1)


# -- bad input is refused before anything is sent -----


@pytest.fixture
def proxied(proxy, bucket, collection) -> Iterator[Client]:
    c = Client(server_url=proxy.url, auth=AUTH, bucket=bucket, collection=collection)
    yield c
    c.session.close()


class Unencodable:
    pass


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: c.create_record(data=["a", "b"]), TypeError, "data must be a dict"),
        (lambda c: c.create_record(data="text"), TypeError, "got a str"),
        (lambda c: c.update_record(data=[1], id="r1"), TypeError, "data must be a dict"),
        (
            lambda c: c.create_record(data={"a": {"b": [1, Unencodable()]}}),
            TypeError,
            "at data.a.b[1]",
        ),
        (lambda c: c.create_record(data={"x": float("nan")}), TypeError, "at data.x"),
        (
            lambda c: c.create_record(data={}, permissions={"read": "system.Everyone"}),
            TypeError,
            "permissions['read'] must be a list of principals",
        ),
        (
            lambda c: c.create_record(data={}, permissions=["read"]),
            TypeError,
            "permissions must be a dict of permission names to lists of principals",
        ),
        (
            lambda c: c.create_record(data={}, permissions={"write": [""]}),
            TypeError,
            "principals are non-empty strings",
        ),
        (lambda c: c.create_record(data={}, id=""), KintoException, "is empty"),
        (lambda c: c.create_record(data={}, id="!!!"), KintoException, "is empty"),
        (lambda c: c.get_record(id=""), KintoException, "is empty"),
        (lambda c: c.delete_record(id=None), KintoException, "id is missing"),
        (lambda c: c.create_bucket(bucket=""), KintoException, "is empty"),
        (lambda c: c.update_record(data={"n": 1}), KeyError, "need an id"),
        (lambda c: c.get_records(_limit={"a": 1}), TypeError, "_limit"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(proxy, proxied, call, error, message):
    with pytest.raises(error) as caught:
        call(proxied)
    assert message in str(caught.value)
    assert proxy.count() == 0


def test_negative_retry_counts_are_refused(proxy):
    with pytest.raises(ValueError, match="0 or more"):
        Client(server_url=proxy.url, auth=AUTH, retry=-1)
    assert proxy.count() == 0


def test_dates_are_stored_as_iso_8601(proxied, raw, server_url, bucket, collection):
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    proxied.create_record(
        data={"when": when, "day": datetime.date(2024, 5, 6), "nested": [when]}, id="r1"
    )
    url = f"{server_url}/buckets/{bucket}/collections/{collection}/records/r1"
    stored = raw.get(url, timeout=10).json()["data"]
    assert stored["when"] == "2024-05-06T07:08:09+00:00"
    assert stored["day"] == "2024-05-06"
    assert stored["nested"] == ["2024-05-06T07:08:09+00:00"]


# -- property-based: endpoint building and request preparation -----

SPECIAL_IDS = ["..", ".", "../x", "a/b", "?", "#", "%2F", "v1/", " ", "\x00", "é/è", "a b"]

ids = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=string.printable, max_size=30),
    st.sampled_from(SPECIAL_IDS),
    st.integers(),
    st.floats(),
    st.booleans(),
)

FIELDED = {name: p for name, p in Endpoints.endpoints.items() if "{" in p.replace("{root}", "")}


@settings(max_examples=200, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(FIELDED)))
def test_built_paths_keep_their_segments(data, name):
    pattern = FIELDED[name]
    fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f and f != "root"]
    values = {f: data.draw(ids, label=f) for f in fields}
    try:
        path = Endpoints().get(name, **values)
    except (KintoException, TypeError) as error:
        assert str(error).startswith(f"Cannot get {name} endpoint")
        if isinstance(error, TypeError):  # only str and int are ids
            assert any(isinstance(v, (bool, float)) for v in values.values())
        return
    expected = pattern.format(root="", **{f: f"<{f}>" for f in fields}).split("/")
    built = path.split("/")
    assert len(built) == len(expected)
    # requests (and proxies) normalise URLs: the path must survive unchanged.
    prepared = requests.Request("GET", "http://127.0.0.1/v1" + path).prepare()
    assert prepared.path_url == "/v1" + path
    for placeholder, segment in zip(expected, built):
        assert segment not in (".", "..")
        assert not set("/?#") & set(segment)
        pattern_re = re.escape(placeholder)
        for f in fields:
            pattern_re = pattern_re.replace(re.escape(f"<{f}>"), f"(?P<{f}>[^/]+?)")
        match = re.fullmatch(pattern_re, segment)
        assert match is not None, (placeholder, segment)
        for field, encoded in match.groupdict().items():
            value = values[field]
            wanted = str(value) if field == "user" else kinto_utils.slugify(value)
            assert unquote(encoded) == wanted


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities included: refused
    st.text(),
    st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=2),  # surrogates
    st.datetimes(),
    st.dates(),
    st.builds(Unencodable),
)
payloads = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(), st.integers()), children, max_size=4),
        st.dictionaries(st.tuples(st.integers()), children, min_size=1, max_size=1),
    ),
    max_leaves=12,
)
permissions = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["read", "write"]), st.lists(st.text(), max_size=3)),
    payloads,
)


@settings(max_examples=200, deadline=None)
@given(data=payloads, perms=permissions, method=st.sampled_from(["PUT", "PATCH", "POST"]))
def test_prepare_gives_valid_json_or_a_clear_error(data, perms, method):
    try:
        body = kinto_payloads.kinto_body(data, perms)
    except (KintoException, TypeError, ValueError) as error:
        message = str(error)
        assert message and ("data" in message or "permissions" in message)
        return
    if not body:
        assert not data and not perms
        return
    decoded = json.loads(kinto_utils.json_encode(body).decode("utf-8"))
    assert isinstance(decoded, dict)
    assert set(decoded) <= {"data", "permissions"}
    if data is not None:
        assert isinstance(decoded["data"], dict)
