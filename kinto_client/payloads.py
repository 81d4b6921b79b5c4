"""Kinto request bodies, built and checked once, before anything is sent.

The client builds every body here: ``{'data': ..., 'permissions': ...}``,
JSON Patch operations, ids and the concurrency-control headers. What comes
out is ready for the wire (see :func:`kinto_client.utils.json_ready`), so a
bad value raises at the call that passed it, inside a batch too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from kinto_client import utils

__all__ = [
    "DO_NOT_OVERWRITE",
    "ID_FIELD",
    "OBJECTS_PERMISSIONS",
    "check_permissions",
    "data_ops",
    "if_match",
    "kinto_body",
    "patch_ops",
    "principal_ops",
    "unpack",
    "with_id",
]

#: Create only: the server answers 412 if the object already exists.
DO_NOT_OVERWRITE = {"If-None-Match": "*"}

#: The field that holds an object's id.
ID_FIELD = "id"

#: The permissions each kind of object takes, as kinto-client 4.0 listed them.
OBJECTS_PERMISSIONS = {
    "bucket": ["group:create", "collection:create", "write", "read"],
    "group": ["write", "read"],
    "collection": ["write", "read", "record:create"],
    "record": ["read", "write"],
}

#: The permissions every object has: JSON Patch can address their principals
#: directly. Others (``collection:create``...) may be absent from an object.
BASE_PERMISSIONS = ("read", "write")

_valid_as_is = utils.VALID_SLUG_REGEXP.fullmatch

_JSON_PATCH_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})

#: A bcrypt hash, as the accounts plugin stores (and returns) passwords.
_BCRYPT_HASH = re.compile(r"^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$")


def kinto_body(data: Any = None, permissions: Any = None, payload: Any = None) -> dict[str, Any]:
    """The JSON body ``{'data': ..., 'permissions': ...}``, checked and copied.

    ``payload`` holds other top-level fields; ``permissions`` may be any
    object with ``as_dict()``.
    """
    body: dict[str, Any] = utils.json_ready(payload) if payload else {}
    if data is not None:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"data must be a dict (a JSON object); got a {type(data).__name__}.")
        body["data"] = utils.json_ready(data, "data")
    if permissions is not None:
        if hasattr(permissions, "as_dict"):
            permissions = permissions.as_dict()
        body["permissions"] = utils.json_ready(check_permissions(permissions), "permissions")
    return body


def check_permissions(permissions: Any) -> dict[str, list[str]]:
    """Validate a permissions mapping: ``{'read': ['principal', ...], ...}``."""
    if not isinstance(permissions, Mapping):
        raise TypeError(
            "permissions must be a dict of permission names to lists of principals, "
            f"e.g. {{'read': ['system.Everyone']}}; got a {type(permissions).__name__}."
        )
    checked: dict[str, list[str]] = {}
    for name, principals in permissions.items():
        if isinstance(principals, str) or not isinstance(principals, (list, tuple, set, frozenset)):
            raise TypeError(
                f"permissions[{name!r}] must be a list of principals such as "
                f"['system.Everyone']; got {type(principals).__name__} {principals!r}."
            )
        bad = [p for p in principals if not isinstance(p, str) or not p]
        if bad:
            raise TypeError(
                f"permissions[{name!r}] holds {bad[0]!r}: principals are non-empty strings."
            )
        checked[str(name)] = list(principals)
    return checked


def unpack(data: Any, permissions: Any) -> tuple[Any, Any]:
    """Accept a whole object ``{'data': ..., 'permissions': ...}`` as ``data``.

    Explicit ``permissions`` win over the object's own.
    """
    if data is None:
        return None, permissions
    if type(data) is not dict and not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict (a JSON object); got a {type(data).__name__}.")
    inner = data.get("data")
    if inner is not None and isinstance(inner, Mapping) and set(data) <= {"data", "permissions"}:
        if permissions is None:
            permissions = data.get("permissions")
        return inner, permissions
    return data, permissions


def with_id(data: Mapping[str, Any], record_id: Any) -> Mapping[str, Any]:
    """``data`` whose ``id`` is ``record_id`` as the server stores it (slugified).

    The caller's mapping itself when it already holds that id: it is copied
    by :func:`kinto_body`, never written into.
    """
    if type(record_id) is str and data.get("id") == record_id and _valid_as_is(record_id):
        return data
    return {**data, "id": utils.slugify(record_id)}


def if_match(safe: bool, data: Any, last_modified: Any) -> dict[str, str] | None:
    """``If-Match`` on the object's timestamp, when ``safe`` and one is known."""
    if last_modified is None and isinstance(data, Mapping):
        last_modified = data.get("last_modified")
    if safe and last_modified is not None:
        return {"If-Match": utils.quote(last_modified)}
    return None


def if_none_match(timestamp: Any) -> dict[str, str] | None:
    """``If-None-Match`` on a timestamp read earlier (a 304 if nothing changed since)."""
    return None if timestamp is None else {"If-None-Match": utils.quote(timestamp)}


def pointer(token: str) -> str:
    """One JSON Pointer (RFC 6901) reference token: ``~`` and ``/`` escaped."""
    return token.replace("~", "~0").replace("/", "~1")


def data_ops(data: Any) -> list[dict[str, Any]]:
    """``add /data/<field>`` operations: a top-level merge of ``data`` as JSON Patch."""
    if data is None:
        return []
    return [
        {"op": "add", "path": "/data/" + pointer(str(key)), "value": value}
        for key, value in data.items()
        if key not in ("id", "last_modified")
    ]


def patch_ops(changes: Any) -> list[dict[str, Any]]:
    """Validate RFC 6902 operations before anything is sent."""
    if changes is None:
        return []
    if isinstance(changes, (str, bytes, Mapping)) or not isinstance(changes, Iterable):
        raise TypeError(
            "changes must be a list of JSON Patch operations such as "
            "[{'op': 'add', 'path': '/data/title', 'value': 'x'}]; "
            f"got a {type(changes).__name__}."
        )
    ops = list(changes)
    for op in ops:
        if (
            not isinstance(op, Mapping)
            or op.get("op") not in _JSON_PATCH_OPS
            or not isinstance(op.get("path"), str)
            or not op["path"].startswith(("/data", "/permissions"))
        ):
            raise ValueError(
                f"Invalid JSON Patch operation {op!r}: each needs 'op' (one of "
                f"{', '.join(sorted(_JSON_PATCH_OPS))}) and a 'path' under /data or "
                "/permissions."
            )
    return [dict(op) for op in ops]


def principal_ops(
    add: Mapping[str, Any], remove: Mapping[str, Any], current: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], bool]:
    """JSON Patch operations adding and removing principals, and whether one
    of them creates a permission list (from ``current``, as just read).

    ``read`` and ``write`` exist on every object: their principals are
    patched directly, atomically; a removal is ``add`` then ``remove``, so
    removing an absent principal is not an error. Other permissions
    (``collection:create``...) may be missing from the object, and JSON Patch
    cannot add to a missing list: ``current`` says which exist.
    """
    ops: list[dict[str, Any]] = []
    created: set[str] = set()
    for name, principals in add.items():
        path = "/permissions/" + pointer(name)
        if name in BASE_PERMISSIONS or name in current:
            ops += [{"op": "add", "path": f"{path}/{pointer(p)}", "value": p} for p in principals]
        elif principals:
            ops.append({"op": "add", "path": path, "value": {p: p for p in principals}})
            created.add(name)
    for name, principals in remove.items():
        path = "/permissions/" + pointer(name)
        if name in BASE_PERMISSIONS or name in current or name in created:
            for p in principals:
                ops.append({"op": "add", "path": f"{path}/{pointer(p)}", "value": p})
                ops.append({"op": "remove", "path": f"{path}/{pointer(p)}"})
    return ops, bool(created)


def account_data(data: Any, password: Any, method: str, *, required: bool) -> Any:
    """An account's fields with ``password`` merged in, checked before sending."""
    fields = dict(data) if data is not None else {}
    if password is not None:
        fields["password"] = password
    if "password" not in fields:
        if required:
            raise ValueError(
                f"{method}() writes the whole account and needs its password: pass "
                "password=... (patch_account() changes only the fields given)."
            )
        return fields or None
    value = fields["password"]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{method}(): the password must be a non-empty string.")
    if password is None and _BCRYPT_HASH.match(value):
        raise ValueError(
            f"{method}(): data['password'] is the hash read from the server; writing it "
            "back would make that hash the password. Pass password=... or remove it."
        )
    return fields
