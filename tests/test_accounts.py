"""Accounts (kinto.plugins.accounts) on the plugins server.

Its policies are ``account basicauth``: a user name with an account
authenticates as ``account:<name>``, any other pair as a basicauth user.
Anyone may sign up; the ``admin`` account manages every account.
"""

from __future__ import annotations

import pytest
import requests

from kinto_client import Client
from kinto_client.exceptions import KintoHTTPError

pytestmark = pytest.mark.functional

BOB = "bob+tag@example.com"  # ids keep + . @


def whoami(url: str, user: str, password: str) -> str:
    """The user id the server gives these credentials (read with plain requests)."""
    response = requests.get(url + "/", auth=(user, password), timeout=10)
    response.raise_for_status()
    return response.json()["user"]["id"]


def read_account(url: str, user: str, auth: tuple[str, str]) -> requests.Response:
    return requests.get(f"{url}/accounts/{user}", auth=auth, timeout=10)


@pytest.fixture
def url(plugins_server_url: str, plugins_flush: None) -> str:
    return plugins_server_url


@pytest.fixture
def anonymous(url: str) -> Client:
    return Client(server_url=url)


@pytest.fixture
def admin(url: str, anonymous: Client) -> Client:
    anonymous.create_account("admin", "4dm1n")
    return Client(server_url=url, auth=("admin", "4dm1n"))


def test_sign_up_anonymously(url, anonymous):
    created = anonymous.create_account(BOB, "s3cr3t", data={"name": "Bob"})
    assert created["data"]["id"] == BOB
    assert created["permissions"]["write"] == [f"account:{BOB}"]
    assert whoami(url, BOB, "s3cr3t") == f"account:{BOB}"
    stored = read_account(url, BOB, (BOB, "s3cr3t")).json()["data"]
    assert stored["name"] == "Bob"
    assert stored["password"] != "s3cr3t"  # only a hash is kept


def test_creating_an_existing_account_fails_without_showing_the_hash(url, anonymous):
    anonymous.create_account(BOB, "s3cr3t")
    with pytest.raises(KintoHTTPError) as exc_info:
        anonymous.create_account(BOB, "other")
    error = exc_info.value
    assert error.status_code == 412
    assert "$2b$" in error.response.text  # the server sent it...
    assert "$2" not in str(error) and '"password": "***"' in str(error)  # ...not shown
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert whoami(url, BOB, "s3cr3t") == f"account:{BOB}"  # unchanged


def test_create_if_not_exists(url, anonymous):
    anonymous.create_account(BOB, "s3cr3t", data={"name": "Bob"})
    bob = Client(server_url=url, auth=(BOB, "s3cr3t"))
    existing = bob.create_account(BOB, "s3cr3t", data={"name": "Robert"}, if_not_exists=True)
    assert existing["data"]["name"] == "Bob"
    # Anonymous: it exists, but cannot be read by these credentials.
    assert anonymous.create_account(BOB, "other", if_not_exists=True) is None
    assert read_account(url, BOB, (BOB, "s3cr3t")).json()["data"]["name"] == "Bob"
    created = anonymous.create_account("carl", "pw", if_not_exists=True)
    assert created["data"]["id"] == "carl"


def test_an_administrator_creates_and_reads_any_account(url, admin):
    admin.create_account("carl", "c4rl", data={"team": "ops"})
    assert whoami(url, "carl", "c4rl") == "account:carl"
    assert admin.get_account("carl")["data"]["team"] == "ops"
    with admin.batch() as batch:
        batch.create_account("dave", "d4ve")
        batch.create_account("carl", "other", if_not_exists=True)
    assert whoami(url, "dave", "d4ve") == "account:dave"
    assert whoami(url, "carl", "c4rl") == "account:carl"
    assert batch.results()[0]["data"]["id"] == "dave"


def test_creating_someone_elses_account_is_explained(url, plugins_client, admin):
    with pytest.raises(KintoHTTPError) as exc_info:
        plugins_client.create_account("dave", "d4ve")  # alexis, a basicauth user
    assert exc_info.value.status_code == 400
    assert "sign up from a client without auth=" in str(exc_info.value)
    assert read_account(url, "dave", ("admin", "4dm1n")).status_code == 404


@pytest.mark.parametrize("user", ["", "bad id", "-x", "a/b", "é", 12, None])
def test_invalid_account_ids_are_refused_before_sending(anonymous, user):
    with pytest.raises(ValueError, match="user must be an account id"):
        anonymous.create_account(user, "s3cr3t")
    with pytest.raises(ValueError, match="user must be an account id"):
        anonymous.get_account(user)


@pytest.mark.parametrize("password", ["", None, 1234])
def test_invalid_passwords_are_refused_before_sending(url, anonymous, password):
    with pytest.raises(ValueError, match="password"):
        anonymous.create_account("carl", password)
    assert whoami(url, "carl", "") != "account:carl"
    assert read_account(url, "carl", ("carl", "x")).status_code in (401, 403)


def test_get_account_and_get_accounts(url, anonymous):
    anonymous.create_account("carl", "c4rl", data={"age": 30})
    anonymous.create_account("dave", "d4ve")
    carl = Client(server_url=url, auth=("carl", "c4rl"))
    assert carl.get_account("carl")["data"]["age"] == 30
    assert [a["id"] for a in carl.get_accounts()] == ["carl"]  # users see their own
    with pytest.raises(KintoHTTPError) as exc_info:
        carl.get_account("dave")
    assert exc_info.value.status_code == 403


def test_update_account_replaces_it_and_needs_the_password(url, anonymous):
    anonymous.create_account("carl", "c4rl", data={"age": 30, "team": "ops"})
    carl = Client(server_url=url, auth=("carl", "c4rl"))
    with pytest.raises(ValueError, match="needs its password"):
        carl.update_account("carl", data={"age": 31})
    carl.update_account("carl", data={"age": 31}, password="c4rl")
    stored = read_account(url, "carl", ("carl", "c4rl")).json()["data"]
    assert stored["age"] == 31 and "team" not in stored


def test_update_account_is_safe_with_last_modified(url, anonymous):
    created = anonymous.create_account("carl", "c4rl")
    carl = Client(server_url=url, auth=("carl", "c4rl"))
    carl.patch_account("carl", data={"age": 31})
    with pytest.raises(KintoHTTPError) as exc_info:
        carl.patch_account("carl", data={"age": 40}, last_modified=created["data"]["last_modified"])
    assert exc_info.value.status_code == 412
    assert read_account(url, "carl", ("carl", "c4rl")).json()["data"]["age"] == 31


def test_patch_account_merges(url, anonymous):
    anonymous.create_account("carl", "c4rl", data={"team": "ops"})
    carl = Client(server_url=url, auth=("carl", "c4rl"))
    carl.patch_account("carl", data={"age": 31})
    stored = read_account(url, "carl", ("carl", "c4rl")).json()["data"]
    assert (stored["team"], stored["age"]) == ("ops", 31)
    assert whoami(url, "carl", "c4rl") == "account:carl"  # password unchanged


def test_writing_back_the_password_hash_is_refused(url, anonymous):
    anonymous.create_account("carl", "c4rl")
    carl = Client(server_url=url, auth=("carl", "c4rl"))
    account = carl.get_account("carl")
    with pytest.raises(ValueError, match="hash read from the server"):
        carl.update_account("carl", account)
    with pytest.raises(ValueError, match="hash read from the server"):
        carl.patch_account("carl", account["data"])
    assert whoami(url, "carl", "c4rl") == "account:carl"


def test_change_own_password_keeps_the_client_working(url, anonymous):
    anonymous.create_account(BOB, "s3cr3t", data={"name": "Bob"})
    bob = Client(server_url=url, auth=(BOB, "s3cr3t"))
    clone = bob.clone(bucket="other")
    bob.change_password(BOB, "n3w-s3cr3t")
    assert whoami(url, BOB, "n3w-s3cr3t") == f"account:{BOB}"
    assert whoami(url, BOB, "s3cr3t") != f"account:{BOB}"  # the old one is gone
    assert bob.get_account(BOB)["data"]["name"] == "Bob"  # the client switched over
    assert clone.get_account(BOB)["data"]["name"] == "Bob"
    assert "n3w-s3cr3t" not in repr(bob.session.auth)


def test_an_administrator_changes_a_password(url, admin):
    admin.create_account("carl", "c4rl")
    admin.change_password("carl", "n3w")
    assert whoami(url, "carl", "n3w") == "account:carl"
    assert admin.get_account("carl")["data"]["id"] == "carl"  # admin's own auth unchanged
    with pytest.raises(ValueError, match="needs the new password"):
        admin.change_password("carl", None)


def test_delete_account(url, admin):
    admin.create_account("carl", "c4rl")
    deleted = admin.delete_account("carl")
    assert deleted["deleted"] is True and deleted["id"] == "carl"
    assert whoami(url, "carl", "c4rl") != "account:carl"
    assert read_account(url, "carl", ("admin", "4dm1n")).status_code == 404
    assert admin.delete_account("carl", if_exists=True) is None
    with pytest.raises(KintoHTTPError) as exc_info:
        admin.delete_account("carl")
    assert exc_info.value.status_code == 404


def test_delete_own_account(url, anonymous):
    anonymous.create_account(BOB, "s3cr3t")
    bob = Client(server_url=url, auth=(BOB, "s3cr3t"))
    bob.delete_account(BOB)
    assert whoami(url, BOB, "s3cr3t") != f"account:{BOB}"
