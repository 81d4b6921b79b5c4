"""URL patterns of the Kinto HTTP API, and the one place that fills them."""

from __future__ import annotations

import string
from typing import Any

from kinto_client import utils
from kinto_client.exceptions import KintoException

_valid_as_is = utils.VALID_SLUG_REGEXP.fullmatch

#: How many paths ``Endpoints`` remembers (see ``Endpoints._heads``).
_MAX_HEADS = 256

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
        #: paths already built up to their last field, by (endpoint, bucket,
        #: collection): the parents of every endpoint's last field are among
        #: those two, and they come back call after call (record ids do not)
        self._heads: dict[tuple[str, str | None, str | None], tuple[str, str, str]] = {}

    def get(self, endpoint: str, **kwargs: Any) -> str:
        """Return the path of ``endpoint`` with ``kwargs`` slugified and encoded.

        A missing (``None``) value raises :class:`KintoException` naming the
        endpoint and the field; so does a value that slugifies to nothing.
        """
        try:  # the paths of records (and collections) come back call after call
            head, field, literal = self._heads[endpoint, kwargs["bucket"], kwargs["collection"]]
            value = kwargs[field]
        except (KeyError, TypeError):  # not built yet, a value missing or unhashable
            return self._build(endpoint, kwargs)
        if type(value) is str and _valid_as_is(value) is not None:
            return head + value + literal
        return self._build(endpoint, kwargs)

    def record(self, bucket: Any, collection: Any, id: Any) -> str:
        """The path of one record: ``get('record', bucket=..., collection=...,
        id=...)``, made once per record a client writes (no keyword
        arguments to gather)."""
        if type(self).get is Endpoints.get:  # else a subclass builds its own paths
            try:
                head, _, literal = self._heads["record", bucket, collection]
            except (KeyError, TypeError):
                pass
            else:
                if type(id) is str and _valid_as_is(id) is not None:
                    return head + id + literal
        return self.get("record", bucket=bucket, collection=collection, id=id)

    def _build(self, endpoint: str, kwargs: dict[str, Any]) -> str:
        try:
            path, steps = self._steps[endpoint]
        except KeyError:
            raise KintoException(
                f"Unknown endpoint {endpoint!r}; known: {', '.join(sorted(self.endpoints))}."
            ) from None
        for position, (field, literal) in enumerate(steps):
            if position == len(steps) - 1:
                self._remember(endpoint, kwargs, path, field, literal)
            value = kwargs.get(field)
            if type(value) is not str or _valid_as_is(value) is None:
                if value is None:
                    missing = ",".join(f for f, _ in steps if kwargs.get(f) is None)
                    raise KintoException(f"Cannot get {endpoint} endpoint, {missing} is missing")
                value = self._segment(endpoint, field, value)
            path += value
            path += literal
        return path

    def _remember(
        self, endpoint: str, kwargs: dict[str, Any], head: str, field: str, literal: str
    ) -> None:
        """Keep ``head``, the path of ``endpoint`` before its last ``field``."""
        bucket, collection = kwargs.get("bucket"), kwargs.get("collection")
        # Only text keys: 1 == True, and neither is a valid name as it is.
        texts = (bucket is None or type(bucket) is str) and (
            collection is None or type(collection) is str
        )
        if texts and len(self._heads) < _MAX_HEADS:
            self._heads[(endpoint, bucket, collection)] = (head, field, literal)

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
