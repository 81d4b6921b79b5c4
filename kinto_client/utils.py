"""Small pure helpers: id slugs, URL joining, quoting, chunking, JSON encoding."""

from __future__ import annotations

import datetime
import decimal
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote as _percent_quote

from unidecode import unidecode

T = TypeVar("T")

VALID_SLUG_REGEXP = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
_NOT_SLUG_CHARS = re.compile(r"[^\w\s-]")
_SPACES_AND_HYPHENS = re.compile(r"[-\s]+")


def slugify(value: Any) -> str:
    """Turn ``value`` into a valid Kinto id.

    Valid ids (``^[a-zA-Z0-9][a-zA-Z0-9_-]*$``) are returned unchanged;
    integers become their decimal string (``0`` included); anything else is
    transliterated to ASCII, lowercased, stripped of punctuation, and its
    spaces become hyphens (``"Hôtel de ville"`` gives ``"hotel-de-ville"``).
    """
    if isinstance(value, bool):
        raise TypeError(f"An id cannot be a boolean (got {value!r}).")
    value = str(value)
    if VALID_SLUG_REGEXP.match(value):
        return value
    value = unidecode(value)
    value = _NOT_SLUG_CHARS.sub("", value).strip().lower()
    return _SPACES_AND_HYPHENS.sub("-", value)


def quote_segment(value: str, safe: str = "") -> str:
    """Percent-encode one URL path segment so it can never change the path."""
    return _percent_quote(value, safe=safe)


def urljoin(server_url: str, path: str) -> str:
    """Join ``path`` to ``server_url`` (which keeps its prefix, e.g. ``/v1``).

    An absolute ``path`` (``http://...``, as in ``Next-Page``) is returned as is.
    """
    if path.startswith(("http://", "https://")):
        return path
    return server_url.rstrip("/") + "/" + path.lstrip("/")


def quote(text: Any) -> str:
    """Wrap ``text`` in double quotes, once (``1234`` gives ``'"1234"'``)."""
    text = str(text)
    if not text.startswith('"'):
        text = f'"{text}"'
    return text


def chunks(items: Sequence[T], n: int) -> Iterator[Sequence[T]]:
    """Yield successive slices of ``items`` of at most ``n`` elements.

    ``n <= 0`` yields everything as one chunk.
    """
    if n <= 0:
        n = max(len(items), 1)
    for i in range(0, len(items), n):
        yield items[i : i + n]


def new_id() -> str:
    """A fresh record id (UUID4), drawn once per operation, never per attempt."""
    return str(uuid.uuid4())


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, (datetime.datetime, datetime.date, datetime.time)):
            return o.isoformat()
        if isinstance(o, uuid.UUID):
            return str(o)
        if isinstance(o, decimal.Decimal):
            return float(o) if o % 1 else int(o)
        if isinstance(o, (set, frozenset, tuple)):
            return list(o)
        return super().default(o)


_encoder = _Encoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def json_dumps(payload: Any) -> bytes:
    """Encode ``payload`` as compact UTF-8 JSON.

    Dates and datetimes become ISO 8601 strings. A value JSON cannot carry
    raises :class:`TypeError` naming the field that holds it.
    """
    try:
        return _encoder.encode(payload).encode("utf-8")
    except (TypeError, ValueError) as exc:
        where = find_unencodable(payload)
        field = f" at {where}" if where else ""
        raise TypeError(
            f"Cannot encode the request body as JSON{field}: {exc}. "
            "Pass only dicts, lists, strings, numbers, booleans, None, "
            "dates or datetimes."
        ) from None


def find_unencodable(value: Any, path: str = "") -> str | None:
    """Return the dotted path of the first value that JSON cannot encode."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return f"{path}.{key!r}".lstrip(".") or repr(key)
            found = find_unencodable(item, f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            found = find_unencodable(item, f"{path}[{index}]")
            if found:
                return found
        return None
    try:
        _encoder.encode(value)
    except (TypeError, ValueError):
        return path.lstrip(".") or "<top level>"
    return None


def encode_params(params: dict[str, Any]) -> dict[str, str]:
    """Encode list filters and options as Kinto expects them in a query string.

    Lists, tuples and sets become comma-separated values (``_fields``,
    ``in_``, ``exclude_``...), booleans ``true``/``false``, dates and
    datetimes ISO 8601. ``None`` values are dropped. Anything else that is
    not a string or a number raises :class:`TypeError` naming the parameter.
    """
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        encoded[name] = _param_value(name, value)
    return encoded


def _param_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return ",".join(_param_value(name, item) for item in items)
    raise TypeError(
        f"Cannot encode the query parameter {name}={value!r}: use a string, a number, "
        "a boolean, a date, or a list of those."
    )
