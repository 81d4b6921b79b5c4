"""The retry policy: which failures are retried, how often, and how long to wait.

One immutable :class:`Retry` object holds the whole policy; the session's
single retry loop asks it what to do. Nothing else in the library retries.
"""

from __future__ import annotations

import dataclasses
import email.utils
import random
import time
from typing import Any

#: Statuses retried by default: throttling, server errors, and 409 (Kinto's
#: answer to a transaction conflict on PostgreSQL).
DEFAULT_RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


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
    """

    total: int = 0
    statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    retry_after: float | None = None
    budget: float | None = None
    retry_connection_errors: bool = True

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

    def allows(self, retries_done: int, started: float, wait: float) -> bool:
        """Whether one more attempt is allowed after ``retries_done`` retries."""
        return self.stop_reason(retries_done, started, wait) is None

    def stop_reason(self, retries_done: int, started: float, wait: float) -> str | None:
        """Why no further attempt is allowed (``None``: one more is allowed).

        ``started`` is the ``time.monotonic()`` of the first attempt and
        ``wait`` the seconds the next attempt would wait first.
        """
        if self.total == 0:
            return "retries are disabled (retry=0)"
        if retries_done >= self.total:
            return f"all {self.total} retries used"
        if self.budget is not None:
            spent = time.monotonic() - started
            if spent + wait > self.budget:
                return (
                    f"the retry budget of {self.budget:g}s would be exceeded "
                    f"({spent:.2f}s spent, next wait {wait:.2f}s)"
                )
        return None

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
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def _seconds(name: str, value: Any) -> float:
    """``value`` as a finite number of seconds, 0 or more, or a clear ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number of seconds (got {value!r}).")
    seconds = float(value)
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{name} must be a finite number of seconds, 0 or more (got {value!r}).")
    return seconds
