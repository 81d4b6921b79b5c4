"""Small pure helpers: id slugs, URL joining, quoting, chunking, JSON encoding."""

from __future__ import annotations

import datetime
import decimal
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote as _percent_quote
from urllib.parse import urlsplit

from unidecode import unidecode

T = TypeVar("T")

VALID_SLUG_REGEXP = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")


def is_valid_id(text: str) -> bool:
    """Whether ``text`` is a valid Kinto id as it is (``^[a-zA-Z0-9][a-zA-Z0-9_-]*$``)."""
    return VALID_SLUG_REGEXP.fullmatch(text) is not None


_NOT_SLUG_CHARS = re.compile(r"[^\w\s-]")
_SPACES_AND_HYPHENS = re.compile(r"[-\s]+")


def slugify(value: Any) -> str:
    """Turn ``value`` into a valid Kinto id.

    Valid ids (``^[a-zA-Z0-9][a-zA-Z0-9_-]*$``) are returned unchanged;
    integers become their decimal string (``0`` included); anything else is
    transliterated to ASCII, lowercased, stripped of punctuation, and its
    spaces become hyphens (``"Hôtel de ville"`` gives ``"hotel-de-ville"``).
    """
    if type(value) is str and VALID_SLUG_REGEXP.fullmatch(value) is not None:
        return value  # the common case, first
    if isinstance(value, bool):
        raise TypeError(f"An id cannot be a boolean (got {value!r}).")
    text = str(value)
    if is_valid_id(text):
        return text
    text = unidecode(text)
    text = _NOT_SLUG_CHARS.sub("", text).strip().lower()
    return _SPACES_AND_HYPHENS.sub("-", text)


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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def same_origin(url: str, other: str) -> bool:
    """Whether ``url`` has the scheme, host and port of ``other``."""

    def origin(u: str) -> tuple[str, str | None, int | None]:
        parts = urlsplit(u)
        return parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme)

    return origin(url) == origin(other)


def below_prefix(path: str, prefix: str) -> str:
    """``path`` without the server's ``prefix`` (``/v1``), removed from its start
    only (an id may contain ``v1/``), and starting with ``/``."""
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix) :]
    return path if path.startswith("/") else "/" + path


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, for messages (never its credentials)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")


def quote(text: Any) -> str:
    """Wrap ``text`` in double quotes, once (``1234`` and ``'"1234"'`` give ``'"1234"'``)."""
    if isinstance(text, str):
        text = text.strip('"')
    return f'"{text}"'


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


#: How deep a request body may nest: far beyond any real document, well within
#: the interpreter's recursion limit (a value that contains itself ends here).
MAX_JSON_DEPTH = 200

_DATES = (datetime.datetime, datetime.date, datetime.time)


class _NotJSON(Exception):
    """Raised inside :func:`json_ready`; carries the path to the bad value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


def json_ready(value: Any, where: str = "") -> Any:
    """A copy of ``value`` made only of JSON types, checked for the wire.

    Request bodies go through this once, when the call is made: a value JSON
    cannot carry raises :class:`TypeError` naming the field that holds it,
    before anything is sent, and the copy cannot change afterwards even if
    the caller's objects do (a queued batch operation sends what was passed).
    Dates and datetimes become ISO 8601 strings, UUIDs strings, decimals
    numbers, tuples and sets lists. ``where`` names ``value`` in messages
    (``'data'``: the request body's ``data``).
    """
    try:
        return _ready_dict(value, 0) if type(value) is dict else _ready(value, 0)
    except _NotJSON as exc:
        path = (where + "".join(exc.path)).lstrip(".")
        field = f" at {path}" if path else ""
        reason = exc.reason
        if reason == "too deep":
            cycle = _find_cycle(value, where, ())
            if cycle is not None:
                field, reason = f" at {cycle} (a circular reference)", "a value contains itself"
            else:
                reason = f"it is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        raise TypeError(
            f"Cannot encode the request body as JSON{field}: {reason}. "
            "Pass only dicts, lists, strings, numbers, booleans, None, "
            "dates or datetimes."
        ) from None


def _ready(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind is dict:
        return _ready_dict(value, depth)
    if kind is list:
        return _ready_list(value, depth)
    if kind is str:
        if not value.isascii():
            _check_text(value)
        return value
    if kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if value != value or value in (_INF, -_INF):
            raise _NotJSON(f"{value!r} is not a finite number")
        return value
    if isinstance(value, Mapping):
        return _ready_dict(value, depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return _ready_list(value, depth)
    if isinstance(value, _DATES):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise _NotJSON(f"{value!r} is not a finite number")
        return float(value) if value % 1 else int(value)
    if isinstance(value, str):
        return _ready(str(value), depth)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _ready(float(value), depth)
    raise _NotJSON(f"Object of type {kind.__name__} is not JSON serializable")


def _ready_dict(value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    if depth >= MAX_JSON_DEPTH:
        raise _NotJSON("too deep")
    if type(value) is not dict:
        return _ready_items(value, depth)
    out = value.copy()  # at once; then only the values that are not plain are replaced
    for key, item in value.items():
        if type(key) is not str:
            return _ready_items(value, depth)
        kind = type(item)
        if (kind is str and item.isascii()) or kind is int or kind is bool or item is None:
            continue  # the common case, inline
        try:
            out[key] = _ready_list(item, depth + 1) if kind is list else _ready(item, depth + 1)
        except _NotJSON as exc:
            exc.path.insert(0, f".{key}")
            raise
    return out


def _ready_items(value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    """:func:`_ready_dict` for any mapping: a new dict, its keys made JSON text."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            key = _json_key(key, value)
        try:
            out[key] = _ready(item, depth + 1)
        except _NotJSON as exc:
            exc.path.insert(0, f".{key}")
            raise
    return out


def _ready_list(value: Any, depth: int) -> list[Any]:
    if depth >= MAX_JSON_DEPTH:
        raise _NotJSON("too deep")
    for item in value:
        kind = type(item)
        if (kind is str and item.isascii()) or kind is int or kind is bool or item is None:
            continue
        break
    else:
        return list(value)  # the common case: plain values only, copied at once
    items = []
    for index, item in enumerate(value):
        try:
            items.append(_ready(item, depth + 1))
        except _NotJSON as exc:
            exc.path.insert(0, f"[{index}]")
            raise
    return items


_INF = float("inf")


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _NotJSON("a string holds a lone surrogate, which UTF-8 cannot carry") from None


def _json_key(key: Any, mapping: Mapping[Any, Any]) -> str:
    """The JSON text of a non-string key, refused if another key has the same text."""
    if key is None or isinstance(key, (bool, int, float)):
        text = json.dumps(key)
        if text in mapping:
            raise _NotJSON(
                f"the keys {key!r} and {text!r} would both be sent as the JSON key {text!r}"
            )
        return text
    raise _NotJSON(f"keys must be strings, not {type(key).__name__} ({key!r})")


def _find_cycle(value: Any, path: str, ancestors: tuple[int, ...]) -> str | None:
    """The path of the first container inside itself, or ``None``."""
    if len(ancestors) > MAX_JSON_DEPTH + 1:
        return None
    if isinstance(value, Mapping):
        children: Iterable[tuple[str, Any]] = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, (list, tuple, set, frozenset)):
        children = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    if id(value) in ancestors:
        return path.lstrip(".") or "<top level>"
    ancestors += (id(value),)
    for child_path, child in children:
        found = _find_cycle(child, child_path, ancestors)
        if found is not None:
            return found
    return None


_encoder = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)


def json_encode(ready: Any) -> bytes:
    """Encode a value made by :func:`json_ready` as compact UTF-8 JSON."""
    return _encoder.encode(ready).encode("utf-8")


def json_dumps(payload: Any) -> bytes:
    """Check and encode ``payload`` as compact UTF-8 JSON (see :func:`json_ready`)."""
    return json_encode(json_ready(payload))


#: Query parameters that are options, not filters: their values are sent as
#: given (lists comma-separated), never JSON-quoted.
_OPTION_PARAMS = frozenset({"_sort", "_fields", "_limit", "_token", "_since", "_before", "_to"})


def encode_params(params: dict[str, Any]) -> dict[str, str]:
    """Encode filters and options as Kinto reads them from a query string.

    - ``None`` values are dropped (an optional argument left unset).
    - Options (``_sort``, ``_fields``, ``_since``...): a list becomes ``a,b``.
    - ``in_``/``exclude_`` filters: a list becomes comma-separated values; a
      single value is sent alone (no trailing comma).
    - ``contains_``/``contains_any_`` filters: the value is sent as JSON
      (``["a","b"]``), which is how Kinto reads them, so values may hold commas.
    - Other filters (``field=``, ``has_``, ``like_``, ``min_``/``max_``,
      ``lt_``/``gt_``, ``not_``, dotted sub-fields such as ``author.name``):
      one value. Booleans are ``true``/``false``, dates ISO 8601. A string
      that Kinto would read as another JSON type (``"123"``, ``"true"``,
      ``"null"``) is sent JSON-quoted so that it still matches a string.

    A value that cannot be encoded (a dict, a nested list, NaN, a string with
    a comma inside an ``in_`` list...) raises :class:`TypeError` or
    :class:`ValueError` naming the parameter, before anything is sent.
    """
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if not isinstance(name, str) or not name:
            raise TypeError(f"Query parameter names must be non-empty strings; got {name!r}.")
        if name in _OPTION_PARAMS or name.startswith("_"):
            encoded[name] = _option_value(name, value)
        elif name.startswith(("contains_any_", "contains_")):
            encoded[name] = _json_value(name, value)
        elif name.startswith(("in_", "exclude_")):
            encoded[name] = _list_value(name, value)
        else:
            encoded[name] = _filter_value(name, value)
    return encoded


def _option_value(name: str, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_option_value(name, item) for item in _scalars(name, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise TypeError(
        f"Cannot encode the query parameter {name}={value!r}: use a string, an integer, "
        "or a list of those."
    )


def _list_value(name: str, value: Any) -> str:
    items = _scalars(name, value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
    if not items:
        raise ValueError(f"The query parameter {name} needs at least one value; got {value!r}.")
    texts = [_filter_value(name, item) for item in items]
    for text in texts:
        if "," in text:
            raise ValueError(
                f"Cannot encode {name}={value!r}: Kinto splits {name} values on commas, so "
                f"a value cannot contain one ({text!r})."
            )
    return ",".join(texts)


def _json_value(name: str, value: Any) -> str:
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=str)
    if isinstance(value, (list, tuple)):
        value = [_json_scalar(name, item) for item in value]
    else:
        value = _json_scalar(name, value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _json_scalar(name: str, value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        _check_finite(name, value)
        return value
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise _unencodable(name, value)


def _filter_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        _check_finite(name, value)
        return repr(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
        # Kinto parses filter values as JSON: keep this one a string.
        return json.dumps(value, ensure_ascii=False)
    raise _unencodable(name, value)


def _scalars(name: str, values: Any) -> list[Any]:
    items = sorted(values, key=str) if isinstance(values, (set, frozenset)) else list(values)
    for item in items:
        if isinstance(item, (list, tuple, set, frozenset, dict)):
            raise TypeError(
                f"Cannot encode the query parameter {name}={values!r}: it holds a nested "
                f"{type(item).__name__}; give a flat list of values."
            )
    return items


def _check_finite(name: str, value: float) -> None:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(
            f"Cannot encode the query parameter {name}={value!r}: not a finite number."
        )


def _unencodable(name: str, value: Any) -> TypeError:
    return TypeError(
        f"Cannot encode the query parameter {name}={value!r} ({type(value).__name__}): use a "
        "string, a number, a boolean, a date, or a list of those."
    )
