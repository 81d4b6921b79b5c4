"""The retry policy: which failures are retried, how often, how long to wait,
and whether a replayed write landed.

One immutable :class:`Retry` object holds the whole policy. The session's
retry loop and the batch's per-operation retries describe each failure as a
:class:`Failure` and ask :meth:`Retry.decide`; neither adds attempts of its
own. Everything here is a pure function of its arguments: no I/O.
"""

from __future__ import annotations

import dataclasses
import email.utils
import math
import random
import time
from collections.abc import Mapping
from typing import Any, Literal

#: Statuses retried by default: throttling, server errors, and 409 (Kinto's
#: answer to a transaction conflict on PostgreSQL).
DEFAULT_RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})

#: The longest wait a server may impose, in seconds (``Retry-After``,
#: ``Backoff``), unless the policy says otherwise.
DEFAULT_MAX_SERVER_WAIT = 120.0

#: How a request failed, as the retry policy sees it:
#: ``unsent``: it certainly never reached the server (refused, name not
#: resolved, connect timeout); ``tls``: the TLS handshake failed; ``sent``:
#: it may have reached the server (dropped connection, read timeout, a body
#: cut short or corrupt); ``status``: the server answered an error status.
FailureKind = Literal["unsent", "tls", "sent", "status"]

#: Why retrying stops (``Decision.stop``).
StopCode = Literal[
    "disabled",
    "exhausted",
    "budget",
    "not_idempotent",
    "tls",
    "connection_errors",
    "not_retryable",
    "wait_too_long",
]


@dataclasses.dataclass(frozen=True)
class Failure:
    """One failed attempt: how it failed, and what the server said."""

    kind: FailureKind
    status: int | None = None
    #: the ``Retry-After`` header of the answer, if any
    retry_after: str | None = None

    @property
    def may_have_landed(self) -> bool:
        """Whether the request may have been applied despite the failure.

        True for a failure after sending, and for any 5xx: a server or a
        gateway may have applied (or passed on) the request before failing.
        """
        return self.kind == "sent" or (self.status is not None and self.status >= 500)


@dataclasses.dataclass(frozen=True)
class Decision:
    """The policy's answer to a failure: retry after ``wait`` seconds, or stop."""

    retry: bool
    wait: float = 0.0
    stop: StopCode | None = None
    #: why retrying stops, for the error message
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Retry:
    """A retry policy.

    :param total: how many times a failed request is sent again (0: never).
    :param statuses: the HTTP statuses that are retried.
    :param backoff_factor: base of the exponential backoff, in seconds: the
        n-th retry waits about ``backoff_factor * 2 ** n`` (with jitter).
    :param backoff_max: the longest backoff wait, in seconds.
    :param retry_after: a fixed wait between attempts, overriding both the
        server's ``Retry-After`` and the backoff (not recommended).
    :param budget: the most seconds to spend retrying one call, waits
        included; ``None`` for no limit.
    :param retry_connection_errors: retry refused or dropped connections
        and timeouts.
    :param max_server_wait: the longest wait, in seconds, that the server may
        ask for (``Retry-After``, ``Backoff``); a longer one is not waited:
        the call fails, naming the wait.
    """

    total: int = 0
    statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    retry_after: float | None = None
    budget: float | None = None
    retry_connection_errors: bool = True
    max_server_wait: float = DEFAULT_MAX_SERVER_WAIT

    def __post_init__(self) -> None:
        if isinstance(self.total, bool) or not isinstance(self.total, int) or self.total < 0:
            raise ValueError(
                f"retry must be a whole number of retries, 0 or more (got {self.total!r})."
            )
        if self.retry_after is not None:
            object.__setattr__(self, "retry_after", _seconds("retry_after", self.retry_after))
        backoff_factor = _seconds("backoff_factor", self.backoff_factor)
        if backoff_factor == 0:
            raise ValueError(
                "backoff_factor must be a positive number of seconds: 0 would retry in a "
                "tight loop (use retry_after=0 to force that explicitly)."
            )
        object.__setattr__(self, "backoff_factor", backoff_factor)
        backoff_max = _seconds("backoff_max", self.backoff_max)
        if backoff_max == 0:
            raise ValueError("backoff_max must be a positive number of seconds (got 0).")
        object.__setattr__(self, "backoff_max", backoff_max)
        if self.budget is not None:
            budget = _seconds("budget", self.budget)
            if budget == 0:
                raise ValueError("budget must be positive seconds, or None for no limit (got 0).")
            object.__setattr__(self, "budget", budget)
        if isinstance(self.statuses, (str, bytes, int)) or not hasattr(self.statuses, "__iter__"):
            raise TypeError(
                f"statuses must be a collection of HTTP statuses such as {{503, 504}} "
                f"(got {self.statuses!r})."
            )
        statuses = frozenset(self.statuses)
        bad = sorted(
            (s for s in statuses if isinstance(s, bool) or not isinstance(s, int) or s < 400),
            key=repr,
        )
        if bad or any(s > 599 for s in statuses):
            raise ValueError(
                "statuses must hold HTTP error statuses between 400 and 599 "
                f"(got {sorted(statuses, key=repr)!r})."
            )
        object.__setattr__(self, "statuses", statuses)
        max_server_wait = _seconds("max_server_wait", self.max_server_wait)
        object.__setattr__(self, "max_server_wait", max_server_wait)
        if not isinstance(self.retry_connection_errors, bool):
            raise TypeError(
                "retry_connection_errors must be True or False "
                f"(got {self.retry_connection_errors!r})."
            )

    @classmethod
    def from_args(cls, retry: Retry | int | None = 0, retry_after: float | None = None) -> Retry:
        """Build a policy from the original ``retry=N, retry_after=S`` arguments.

        ``retry`` may already be a :class:`Retry` (``retry_after`` then
        overrides its fixed wait when given).
        """
        if isinstance(retry, Retry):
            return retry if retry_after is None else retry.replace(retry_after=retry_after)
        return cls(total=0 if retry is None else retry, retry_after=retry_after)

    def replace(self, **changes: Any) -> Retry:
        """A copy of this policy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def decide(
        self,
        failure: Failure,
        *,
        idempotent: bool,
        retries_done: int,
        elapsed: float,
        method: str = "request",
    ) -> Decision:
        """Whether to send the request again after ``failure``, and after what wait.

        ``retries_done`` retries were already made, ``elapsed`` seconds
        since the first attempt. A request that may have been applied is sent
        again only when it is ``idempotent``.
        """
        if failure.kind == "tls":
            return Decision(False, stop="tls", reason="a TLS failure is not retried")
        if failure.kind == "status":
            if failure.status not in self.statuses:
                return Decision(False, stop="not_retryable")
        elif not self.retry_connection_errors:
            return Decision(
                False,
                stop="connection_errors",
                reason="connection errors are not retried (retry_connection_errors=False)",
            )
        if failure.may_have_landed and not idempotent:
            what = f"answered {failure.status}" if failure.status else "interrupted"
            return Decision(
                False,
                stop="not_idempotent",
                reason=f"a {method} {what} may have been applied, and is not sent twice",
            )
        if self.total == 0:
            return Decision(False, stop="disabled", reason="retries are disabled (retry=0)")
        if retries_done >= self.total:
            return Decision(False, stop="exhausted", reason=f"all {self.total} retries used")
        asked = parse_retry_after(failure.retry_after) if self.retry_after is None else None
        if asked is not None and asked > self.max_server_wait:
            return Decision(
                False,
                stop="wait_too_long",
                reason=(
                    f"the server asked to wait {asked:g}s (Retry-After), more than "
                    f"max_server_wait={self.max_server_wait:g}s"
                ),
            )
        wait = self.wait(retries_done, failure.retry_after)
        if self.budget is not None and elapsed + wait > self.budget:
            return Decision(
                False,
                stop="budget",
                reason=(
                    f"the retry budget of {self.budget:g}s would be exceeded "
                    f"({elapsed:.2f}s spent, next wait {wait:.2f}s)"
                ),
            )
        return Decision(True, wait=wait)

    def backoff_wait(self, seconds: float) -> float | None:
        """How long to honour a server's ``Backoff`` of ``seconds``.

        ``None`` when it asks for more than :attr:`max_server_wait` (the
        caller then raises instead of waiting).
        """
        return seconds if seconds <= self.max_server_wait else None

    def wait(self, retries_done: int, retry_after_header: str | None = None) -> float:
        """Seconds to wait before the next attempt.

        A fixed ``retry_after`` wins; else the server's ``Retry-After``
        (seconds or an HTTP date); else exponential backoff with jitter.
        """
        if self.retry_after is not None:
            return self.retry_after
        from_server = parse_retry_after(retry_after_header)
        if from_server is not None:
            return from_server
        ceiling = min(self.backoff_max, self.backoff_factor * 2.0 ** min(retries_done, 64))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def parse_backoff(value: str | None) -> float | None:
    """Seconds from a ``Backoff`` header; ``None`` for absent, invalid or non-finite."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


def replay_landed(method: str, sent: Any, stored: Any) -> bool:
    """Whether a write replayed after a lost reply had landed the first time.

    ``sent`` is the body that was sent (``{'data': ..., 'permissions': ...}``)
    and ``stored`` the object read back from the server. A ``PUT`` landed
    when the stored data is exactly the data sent (the server adds only
    ``id`` and ``last_modified``); a ``PATCH`` when every field sent is
    stored as sent. The permissions sent must be stored too: each principal
    given, and after a ``PUT`` no other one in those lists, except the
    writer that Kinto adds to ``write``. A JSON Patch (a list) cannot be checked: ``False``.
    """
    if not isinstance(sent, Mapping) or not isinstance(stored, Mapping):
        return False
    stored_data = stored.get("data")
    sent_data = sent.get("data")
    if sent_data is not None:
        if not isinstance(sent_data, Mapping) or not isinstance(stored_data, Mapping):
            return False
        fields = {k: v for k, v in sent_data.items() if k != "last_modified"}
        if any(stored_data.get(k, _MISSING) != v for k, v in fields.items()):
            return False
        if method == "PUT" and set(stored_data) - set(fields) - {"id", "last_modified"}:
            return False
    sent_permissions = sent.get("permissions")
    if sent_permissions is not None:
        stored_permissions = stored.get("permissions")
        if not isinstance(sent_permissions, Mapping) or not isinstance(stored_permissions, Mapping):
            return False
        for name, principals in sent_permissions.items():
            extra = set(stored_permissions.get(name) or ()) - set(principals)
            if set(principals) - set(stored_permissions.get(name) or ()):
                return False
            if method == "PUT" and len(extra) > (1 if name == "write" else 0):
                return False
    return sent_data is not None or sent_permissions is not None


_MISSING = object()


def _seconds(name: str, value: Any) -> float:
    """``value`` as a finite number of seconds, 0 or more, or a clear ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number of seconds (got {value!r}).")
    seconds = float(value)
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{name} must be a finite number of seconds, 0 or more (got {value!r}).")
    return seconds
