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
        if not self.backoff_factor or self.backoff_factor <= 0:
            raise ValueError(
                "backoff_factor must be a positive number of seconds "
                f"(got {self.backoff_factor!r})."
            )
        if self.backoff_max <= 0:
            raise ValueError(f"backoff_max must be positive (got {self.backoff_max!r}).")
        if self.budget is not None and self.budget <= 0:
            raise ValueError(f"budget must be positive seconds or None (got {self.budget!r}).")
        object.__setattr__(self, "statuses", frozenset(self.statuses))

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
        if retries_done >= self.total:
            return False
        return self.budget is None or time.monotonic() - started + wait <= self.budget

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
        ceiling = min(self.backoff_max, self.backoff_factor * (2**retries_done))
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
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds (got {value!r}).") from None
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"{name} must be 0 or more seconds (got {value!r}).")
    return seconds
