"""URL patterns of the Kinto HTTP API, and the one place that fills them."""

from __future__ import annotations

import re
import string
from typing import Any

from kinto_client import utils
from kinto_client.exceptions import KintoException

# Account ids are user names: Kinto allows ``+ . @`` in them, so they are
# not slugified, only percent-encoded with those characters kept.
_VERBATIM_FIELDS = {"user": "+.@"}
#: Ids that slugifying and percent-encoding would leave as they are.
_plain_id = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*").fullmatch


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
    }

    def __init__(self, root: str = "") -> None:
        self._root = root
        #: each endpoint's %-format pattern (root filled in) and its fields
        self._patterns: dict[str, tuple[str, tuple[str, ...]]] = {}
        for name, pattern in self.endpoints.items():
            template, fields = [], []
            for literal, field, _, _ in string.Formatter().parse(pattern):
                template.append(literal.replace("%", "%%"))
                if field == "root":
                    template.append(root.replace("%", "%%"))
                elif field:
                    template.append(f"%({field})s")
                    fields.append(field)
            self._patterns[name] = ("".join(template), tuple(fields))

    def get(self, endpoint: str, **kwargs: Any) -> str:
        """Return the path of ``endpoint`` with ``kwargs`` slugified and encoded.

        A missing (``None``) value raises :class:`KintoException` naming the
        endpoint and the field; so does a value that slugifies to nothing.
        """
        try:
            pattern, fields = self._patterns[endpoint]
        except KeyError:
            raise KintoException(
                f"Unknown endpoint {endpoint!r}; known: {', '.join(sorted(self.endpoints))}."
            ) from None
        for field in fields:
            value = kwargs.get(field)
            if type(value) is not str or not _plain_id(value):
                return pattern % self._segments(endpoint, fields, kwargs)
        # Every value is a valid id of URL-safe characters: used as is (the common case).
        return pattern % kwargs

    def _segments(self, endpoint: str, fields: tuple[str, ...], kwargs: Any) -> dict[str, str]:
        """Each field's value made a valid, percent-encoded path segment."""
        missing = [field for field in fields if kwargs.get(field) is None]
        if missing:
            raise KintoException(f"Cannot get {endpoint} endpoint, {','.join(missing)} is missing")
        return {field: self._segment(endpoint, field, kwargs[field]) for field in fields}

    @staticmethod
    def _segment(endpoint: str, field: str, value: Any) -> str:
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
