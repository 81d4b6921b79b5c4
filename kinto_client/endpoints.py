"""URL patterns of the Kinto HTTP API, and the one place that fills them."""

from __future__ import annotations

import string
from typing import Any

from kinto_client import utils
from kinto_client.exceptions import KintoException

#: The fields whose valid values are remembered (see ``Endpoints._names``).
_NAME_FIELDS = frozenset({"bucket", "collection", "group"})
_MAX_NAMES = 256

# Account ids are user names: Kinto allows ``+ . @`` in them, so they are
# not slugified, only percent-encoded with those characters kept.
_VERBATIM_FIELDS = {"user": "+.@"}


class Endpoints:
    """Build endpoint paths such as ``/buckets/{bucket}/collections/{collection}``.

    ``root`` is prefixed to every path (empty by default: the session's
    server URL already carries the ``/v1`` prefix).
    """

    endpoints: dict[str, str] = {
        "root": "{root}/",
        "batch": "{root}/batch",
        "heartbeat": "{root}/__heartbeat__",
        "lbheartbeat": "{root}/__lbheartbeat__",
        "flush": "{root}/__flush__",
        "permissions": "{root}/permissions",
        "accounts": "{root}/accounts",
        "account": "{root}/accounts/{user}",
        "buckets": "{root}/buckets",
        "bucket": "{root}/buckets/{bucket}",
        "history": "{root}/buckets/{bucket}/history",
        "snapshot": "{root}/buckets/{bucket}/snapshot/collections/{collection}@{timestamp}",
        "groups": "{root}/buckets/{bucket}/groups",
        "group": "{root}/buckets/{bucket}/groups/{group}",
        "collections": "{root}/buckets/{bucket}/collections",
        "collection": "{root}/buckets/{bucket}/collections/{collection}",
        "records": "{root}/buckets/{bucket}/collections/{collection}/records",
        "record": "{root}/buckets/{bucket}/collections/{collection}/records/{id}",
        "attachment": "{root}/buckets/{bucket}/collections/{collection}/records/{id}/attachment",
        "changeset": "{root}/buckets/{bucket}/collections/{collection}/changeset",
    }

    def __init__(self, root: str = "") -> None:
        #: bucket, collection and group names already found valid as they are:
        #: they come back call after call (record ids do not, and are not kept)
        self._names: set[str] = set()
        #: per endpoint: the path up to its first field (root filled in), then
        #: each field with the literal text that follows it
        self._steps: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
        for name, pattern in self.endpoints.items():
            head, steps = "", list[tuple[str, str]]()
            for literal, field, _, _ in string.Formatter().parse(pattern):
                if steps:
                    steps[-1] = (steps[-1][0], steps[-1][1] + literal)
                else:
                    head += literal
                if field == "root":
                    head += root
                elif field:
                    steps.append((field, ""))
            self._steps[name] = (head, tuple(steps))

    def get(self, endpoint: str, **kwargs: Any) -> str:
        """Return the path of ``endpoint`` with ``kwargs`` slugified and encoded.

        A missing (``None``) value raises :class:`KintoException` naming the
        endpoint and the field; so does a value that slugifies to nothing.
        """
        try:
            path, steps = self._steps[endpoint]
        except KeyError:
            raise KintoException(
                f"Unknown endpoint {endpoint!r}; known: {', '.join(sorted(self.endpoints))}."
            ) from None
        names = self._names
        for field, literal in steps:
            value = kwargs.get(field)
            if type(value) is not str or value not in names:
                if type(value) is not str or utils.VALID_SLUG_REGEXP.fullmatch(value) is None:
                    if value is None:
                        missing = ",".join(f for f, _ in steps if kwargs.get(f) is None)
                        raise KintoException(
                            f"Cannot get {endpoint} endpoint, {missing} is missing"
                        )
                    value = self._segment(endpoint, field, value)
                elif field in _NAME_FIELDS and len(names) < _MAX_NAMES:
                    names.add(value)
            path += value
            path += literal
        return path

    @staticmethod
    def _segment(endpoint: str, field: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise TypeError(
                f"Cannot get {endpoint} endpoint: {field} must be a string or an integer, "
                f"not {type(value).__name__} ({value!r}); ids are never converted from "
                "other types."
            )
        if field in _VERBATIM_FIELDS:
            text = str(value)
            safe = _VERBATIM_FIELDS[field]
        else:
            try:
                text = utils.slugify(value)
            except TypeError as exc:
                raise KintoException(f"Cannot get {endpoint} endpoint: {exc}") from None
            safe = ""
        if text in (".", ".."):
            # Percent-encoding cannot protect these: URLs are normalised
            # ("%2E" is decoded and "/x/.." removed) by requests and proxies.
            raise KintoException(
                f"Cannot get {endpoint} endpoint: {field} {value!r} is not a valid id "
                "(it would change the URL path)."
            )
        if not text:
            raise KintoException(
                f"Cannot get {endpoint} endpoint: {field} {value!r} is empty once made "
                "a valid id (use letters, digits, '-' or '_')."
            )
        return utils.quote_segment(text, safe=safe)
