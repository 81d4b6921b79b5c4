"""kinto_client.auth: what every ``auth=`` form becomes, and what is refused (no server)."""

from __future__ import annotations

import pytest

from kinto_client.auth import BasicAuth, BearerTokenAuth, parse_auth, parse_bearer


@pytest.mark.parametrize(
    "value",
    [(None, None), ("alice", None), (None, "s3cr3t"), ["alice", None], ("alice", 42), (b"a", "b")],
)
def test_a_tuple_needs_two_strings(value):
    with pytest.raises(TypeError, match=r"auth tuple must be \(user, password\), two strings"):
        parse_auth(value)


def test_a_tuple_of_strings_is_basic_auth():
    assert parse_auth(("alice", "s3cr3t")) == BasicAuth("alice", "s3cr3t")
    assert parse_auth(["alice", ""]) == BasicAuth("alice", "")


@pytest.mark.parametrize(
    "value",
    [
        "Bearer sekrit\ndef",
        "Bearer sekrit\r\nX-Injected: 1",
        "Bearer sekrit\ndef:ghi",  # once read as user 'Bearer sekrit\ndef' with a password
        "bearer+OIDC sekrit\x00en",
        "Bearer sekrit\x7f",
        "Bearer sekrit\x85",
        "Bearer \t",
        "Bearer",
    ],
)
def test_a_bad_bearer_token_is_refused_never_basic(value):
    with pytest.raises(ValueError) as exc_info:
        parse_auth(value)
    message = str(exc_info.value)
    assert "sekrit" not in message  # the secret is not shown


@pytest.mark.parametrize("token", ["a\nb", "a\rb", " a", "", "a\x00"])
def test_bearer_token_auth_refuses_control_characters(token):
    with pytest.raises(ValueError, match="control characters"):
        BearerTokenAuth(token)


def test_bearer_token_auth_type_is_checked():
    with pytest.raises(ValueError, match="Unknown token type"):
        BearerTokenAuth("tok", type="Basic")
    with pytest.raises(TypeError):
        BearerTokenAuth(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Bearer abc", ("Bearer", "abc")),
        ("  bearer+OIDC   a.b-c  ", ("bearer+OIDC", "a.b-c")),
        ("Bearer a b", ("Bearer", "a b")),
        ("alice:s3cr3t", None),
        ("Bearer:s3cr3t", None),  # a user named Bearer
        ("Bearerx y", None),
    ],
)
def test_parse_bearer(value, expected):
    assert parse_bearer(value) == expected


def test_strings():
    assert parse_auth("Bearer abc") == BearerTokenAuth("abc")
    assert parse_auth("Bearer+OIDC abc") == BearerTokenAuth("abc", type="Bearer+OIDC")
    assert parse_auth("alice:pa:ss") == BasicAuth("alice", "pa:ss")
    with pytest.raises(ValueError, match="none of these forms"):
        parse_auth("alice")


@pytest.mark.parametrize("value", ["Bearer sekrit\nx", "Bearer sekrit\x00", "Bearer", "Bearer  "])
def test_parse_bearer_refuses_a_bad_token(value):
    with pytest.raises(ValueError) as exc_info:
        parse_bearer(value)
    assert "sekrit" not in str(exc_info.value)
