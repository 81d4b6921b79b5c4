"""Unit tests of the retry policy (pure logic, no server)."""

from __future__ import annotations

import dataclasses
import email.utils
import time
from typing import Any

import pytest

from kinto_client import Client, Retry, Session
from kinto_client.retry import (
    DEFAULT_RETRY_STATUSES,
    Decision,
    Failure,
    parse_backoff,
    parse_retry_after,
)

# -- validation -----


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"total": -1}, "retry must be a whole number of retries, 0 or more (got -1)"),
        ({"total": 1.5}, "retry must be a whole number of retries"),
        ({"total": "3"}, "retry must be a whole number of retries"),
        ({"total": True}, "retry must be a whole number of retries"),
        ({"retry_after": -2}, "retry_after must be a finite number of seconds, 0 or more"),
        ({"retry_after": "5"}, "retry_after must be a number of seconds (got '5')"),
        ({"retry_after": float("nan")}, "retry_after must be a finite number"),
        ({"backoff_factor": 0}, "0 would retry in a tight loop"),
        ({"backoff_factor": -1}, "backoff_factor must be a finite number of seconds"),
        ({"backoff_max": 0}, "backoff_max must be a positive number of seconds"),
        ({"backoff_max": float("inf")}, "backoff_max must be a finite number"),
        ({"budget": 0}, "budget must be positive seconds, or None"),
        ({"budget": -3}, "budget must be a finite number of seconds"),
        ({"statuses": {200}}, "statuses must hold HTTP error statuses between 400 and 599"),
        ({"statuses": {"503"}}, "statuses must hold HTTP error statuses"),
        ({"statuses": {600}}, "statuses must hold HTTP error statuses"),
    ],
)
def test_invalid_values_give_clear_errors(kwargs, expected):
    with pytest.raises(ValueError) as error:
        Retry(**kwargs)
    assert expected in str(error.value)


@pytest.mark.parametrize("statuses", [503, "503"])
def test_statuses_must_be_a_collection(statuses):
    with pytest.raises(TypeError, match="statuses must be a collection of HTTP statuses"):
        Retry(statuses=statuses)


def test_retry_connection_errors_must_be_a_bool():
    with pytest.raises(TypeError, match="retry_connection_errors must be True or False"):
        Retry(retry_connection_errors="yes")  # type: ignore[arg-type]


def test_negative_retry_on_client_and_session_fails_before_anything():
    with pytest.raises(ValueError, match="0 or more"):
        Client(server_url="http://127.0.0.1:1/v1", retry=-1)
    with pytest.raises(ValueError, match="0 or more"):
        Session("http://127.0.0.1:1/v1", retry=-1)
    with pytest.raises(ValueError, match="retry_after"):
        Client(server_url="http://127.0.0.1:1/v1", retry=1, retry_after=-1)


def test_defaults():
    policy = Retry()
    assert policy.total == 0
    assert policy.statuses == frozenset({409, 429, 500, 502, 503, 504}) == DEFAULT_RETRY_STATUSES
    assert policy.retry_after is None and policy.budget is None
    assert policy.backoff_factor > 0 and policy.backoff_max > 0
    assert policy.retry_connection_errors is True


def test_policies_are_immutable_and_replace_copies():
    policy = Retry(total=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.total = 5  # type: ignore[misc]
    other = policy.replace(total=5, statuses=[503])
    assert (policy.total, other.total) == (2, 5)
    assert other.statuses == frozenset({503})
    with pytest.raises(ValueError):
        policy.replace(total=-1)


# -- from_args -----


def test_from_args_builds_from_the_original_arguments():
    assert Retry.from_args(3, 5) == Retry(total=3, retry_after=5.0)
    assert Retry.from_args(None) == Retry(total=0)
    assert Retry.from_args() == Retry()
    assert Retry.from_args(10).retry_after is None


def test_from_args_keeps_a_policy_and_overrides_its_fixed_wait():
    policy = Retry(total=4, backoff_factor=0.1, budget=30)
    assert Retry.from_args(policy) is policy
    assert Retry.from_args(policy, 2) == policy.replace(retry_after=2.0)


def test_session_and_client_use_from_args():
    session = Session("http://127.0.0.1:1/v1", retry=3, retry_after=1)
    assert session.retry == Retry(total=3, retry_after=1.0)
    assert session.retry_after == 1.0
    policy = Retry(total=2, statuses={503})
    client = Client(server_url="http://127.0.0.1:1/v1", retry=policy)
    assert client.session.retry is policy
    assert client.clone(auth=("a", "b")).session.retry is policy


# -- wait() -----


def test_fixed_retry_after_wins_over_everything():
    policy = Retry(total=3, retry_after=0.5)
    assert policy.wait(0) == 0.5
    assert policy.wait(5, "120") == 0.5
    assert Retry(total=1, retry_after=0).wait(0, "30") == 0.0


def test_server_retry_after_wins_over_backoff():
    policy = Retry(total=3, backoff_factor=10)
    assert policy.wait(0, "2") == 2.0
    assert policy.wait(2, "0") == 0.0


def test_backoff_is_exponential_jittered_capped_and_never_zero():
    policy = Retry(total=20, backoff_factor=0.5, backoff_max=8)
    for retries_done in range(20):
        ceiling = min(8.0, 0.5 * 2**retries_done)
        waits = {policy.wait(retries_done) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jitter: clients do not retry in lockstep
    assert Retry(total=1, backoff_factor=1e-6).wait(0) > 0


def test_backoff_does_not_overflow_after_many_retries():
    policy = Retry(total=100_000, backoff_factor=1, backoff_max=60)
    assert 30 <= policy.wait(5_000) <= 60


def test_unparsable_retry_after_falls_back_to_backoff():
    policy = Retry(total=1, backoff_factor=4)
    assert 2 <= policy.wait(0, "soon") <= 4


# -- decide() -----

UNAVAILABLE = Failure("status", 503)


def decide(policy: Retry, failure: Failure = UNAVAILABLE, **kw: Any) -> Decision:
    options: dict[str, Any] = {"idempotent": True, "retries_done": 0, "elapsed": 0.0}
    options.update(kw)
    return policy.decide(failure, **options)


def test_decide_counts_retries():
    policy = Retry(total=2, retry_after=0.1)
    assert decide(policy).retry and decide(policy, retries_done=1).retry
    stop = decide(policy, retries_done=2)
    assert not stop.retry and stop.stop == "exhausted" and stop.reason == "all 2 retries used"
    disabled = decide(Retry())
    assert disabled.stop == "disabled" and disabled.reason == "retries are disabled (retry=0)"


def test_decide_enforces_the_budget_including_the_next_wait():
    policy = Retry(total=10, budget=5, retry_after=4.0)
    assert decide(policy).retry
    stop = decide(policy, elapsed=1.5)
    assert stop.stop == "budget" and "retry budget of 5s would be exceeded" in str(stop.reason)


@pytest.mark.parametrize(
    ("failure", "idempotent", "retried"),
    [
        (Failure("unsent"), False, True),  # never reached the server: safe to resend
        (Failure("sent"), False, False),  # may have landed: a POST is not sent twice
        (Failure("sent"), True, True),
        (Failure("status", 503), False, False),  # a 5xx may come after the request landed
        (Failure("status", 500), True, True),
        (Failure("status", 429), False, True),  # throttled: not applied
        (Failure("status", 404), True, False),  # not a retryable status
        (Failure("tls"), True, False),
    ],
)
def test_decide_what_is_retried(failure, idempotent, retried):
    decision = decide(Retry(total=3, retry_after=0), failure, idempotent=idempotent)
    assert decision.retry is retried


def test_decide_names_a_post_that_may_have_landed():
    decision = decide(Retry(total=3), Failure("status", 502), idempotent=False, method="POST")
    assert decision.stop == "not_idempotent"
    assert decision.reason == "a POST answered 502 may have been applied, and is not sent twice"


@pytest.mark.parametrize("asked", ["86400", "121"])
def test_decide_refuses_a_server_wait_beyond_the_cap(asked):
    decision = decide(Retry(total=3), Failure("status", 503, retry_after=asked))
    assert decision.stop == "wait_too_long" and f"wait {asked}s" in str(decision.reason)
    assert decide(Retry(total=3, max_server_wait=100000), Failure("status", 503, asked)).retry


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e308", "abc", "0", "-5", None])
def test_parse_backoff_ignores_non_finite_and_invalid_values(value):
    expected = 1e308 if value == "1e308" else None
    assert parse_backoff(value) == expected


def test_backoff_wait_is_capped():
    assert Retry().backoff_wait(30) == 30
    assert Retry().backoff_wait(86400) is None
    assert Retry(max_server_wait=100000).backoff_wait(86400) == 86400


# -- parse_retry_after -----


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 10 ", 10.0), ("0", 0.0), ("1.5", 1.5), ("-4", 0.0)],
)
def test_parse_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    future = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 57 <= parse_retry_after(future) <= 60  # type: ignore[operator]
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert parse_retry_after(past) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "inf", "-inf", "Mon, 99 Foo"])
def test_parse_retry_after_rejects_garbage(value):
    assert parse_retry_after(value) is None
