"""Small pure helpers: id slugs, URL joining, quoting, chunking, JSON encoding."""

from __future__ import annotations

import datetime
import decimal
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote as _percent_quote

from unidecode import unidecode

T = TypeVar("T")

VALID_SLUG_REGEXP = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")

#: Strings recently found to be valid ids as they are. Bucket and collection
#: names come back request after request, and a record's id is checked for
#: its URL, then for its body: a set lookup is far cheaper than a match.
known_ids: set[str] = set()
_MAX_KNOWN_IDS = 1024


def is_valid_id(text: str) -> bool:
    """Whether the ``str`` ``text`` is a valid Kinto id as it is.

    Hot paths test ``text in known_ids`` first, and call this on a miss.
    """
    if text in known_ids:
        return True
    if VALID_SLUG_REGEXP.fullmatch(text) is None:
        return False
    if len(known_ids) >= _MAX_KNOWN_IDS:
        known_ids.clear()  # record ids pass through too: start afresh
    known_ids.add(text)
    return True


_NOT_SLUG_CHARS = re.compile(r"[^\w\s-]")
_SPACES_AND_HYPHENS = re.compile(r"[-\s]+")


def slugify(value: Any) -> str:
    """Turn ``value`` into a valid Kinto id.

    Valid ids (``^[a-zA-Z0-9][a-zA-Z0-9_-]*$``) are returned unchanged;
    integers become their decimal string (``0`` included); anything else is
    transliterated to ASCII, lowercased, stripped of punctuation, and its
    spaces become hyphens (``"Hôtel de ville"`` gives ``"hotel-de-ville"``).
    """
    if type(value) is str and (value in known_ids or is_valid_id(value)):
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


def quote(text: Any) -> str:
    """Wrap ``text`` in double quotes, once (``1234`` gives ``'"1234"'``)."""
    quoted = str(text)
    if not quoted.startswith('"'):
        quoted = f'"{quoted}"'
    return quoted


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
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
# The C encoder _encoder.encode() would build, built once. JSONEncoder.encode()
# builds a new one per call, which costs as much as encoding a small record,
# and a batch encodes thousands of operations one by one. Without markers (no
# circular-reference bookkeeping per container) it holds no state, so one
# serves every thread; a value that holds itself ends in a RecursionError,
# which json_text() reports as a circular reference.
_c_encode: Callable[[Any, int], Sequence[str]] | None = (
    None
    if _c_make_encoder is None  # an interpreter without the C accelerator
    else _c_make_encoder(
        None,  # markers
        _encoder.default,
        json.encoder.encode_basestring,  # ensure_ascii=False
        None,  # indent
        _encoder.key_separator,
        _encoder.item_separator,
        False,  # sort_keys
        False,  # skipkeys
        False,  # allow_nan
    )
)


def json_dumps(payload: Any) -> bytes:
    """Encode ``payload`` as compact UTF-8 JSON.

    Dates and datetimes become ISO 8601 strings. A value JSON cannot carry
    raises :class:`TypeError` naming the field that holds it.
    """
    return json_text(payload).encode("utf-8")


def json_text(payload: Any) -> str:
    """:func:`json_dumps`, as text (known to encode to UTF-8)."""
    try:
        text = _encoder.encode(payload) if _c_encode is None else "".join(_c_encode(payload, 0))
        if not text.isascii():
            text.encode("utf-8")  # a lone surrogate ("\ud800") cannot be sent
        return text
    except (TypeError, ValueError, RecursionError) as exc:
        reason = str(exc)
        try:
            where = find_unencodable(payload)
        except RecursionError:
            where = None
        if isinstance(exc, RecursionError):
            circular = where is not None and where.endswith("(a circular reference)")
            reason = "a value contains itself" if circular else "it is nested too deeply"
        field = f" at {where}" if where else ""
        raise TypeError(
            f"Cannot encode the request body as JSON{field}: {reason}. "
            "Pass only dicts, lists, strings, numbers, booleans, None, "
            "dates or datetimes."
        ) from None


def find_unencodable(value: Any, path: str = "") -> str | None:
    """Return the dotted path of the first value that JSON cannot encode.

    A container that holds itself (a circular reference) is such a value.
    """
    return _find_unencodable(value, path, ())


def _find_unencodable(value: Any, path: str, ancestors: tuple[int, ...]) -> str | None:
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        if id(value) in ancestors:
            return (path.lstrip(".") or "<top level>") + " (a circular reference)"
        ancestors += (id(value),)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return f"{path}.{key!r}".lstrip(".") or repr(key)
            if isinstance(key, str) and find_unencodable(key) is not None:
                return f"{path}.{key!r}".lstrip(".")
            found = _find_unencodable(item, f"{path}.{key}", ancestors)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            found = _find_unencodable(item, f"{path}[{index}]", ancestors)
            if found:
                return found
        return None
    try:
        _encoder.encode(value).encode("utf-8")
    except (TypeError, ValueError):
        return path.lstrip(".") or "<top level>"
    return None


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
