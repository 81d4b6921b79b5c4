"""The shapes of what a Kinto server sends back, for type checkers.

The :class:`~kinto_client.Client` methods are annotated with these types, so
``mypy --strict`` (or any checker) knows that ``get_record()`` returns an
:class:`ObjectResponse` whose ``["data"]["id"]`` is a ``str``, and refuses
``records: int = client.get_records()``. At runtime every value is a plain
``dict`` (or a :class:`~kinto_client.KintoObject` /
:class:`~kinto_client.RecordList`, which are a ``dict`` and a ``list``).

.. code-block:: python

   from kinto_client.types import KintoData, ObjectResponse

   def title(record: ObjectResponse) -> str:
       data: KintoData = record["data"]
       return f"{data['id']}: {data.get('title', '')}"

Python 3.10's ``TypedDict`` cannot say "these keys, and any others" (PEP
728's ``extra_items`` is not supported by mypy yet), and a Kinto object's
data holds the application's own fields. So :class:`KintoData` is a ``dict``
whose ``id`` reads as a ``str`` and ``last_modified`` as an ``int`` for type
checkers, and every other key as ``Any``. The envelopes, whose keys Kinto
fixes, are ``TypedDict`` s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

__all__ = ["KintoData", "ObjectResponse", "Permissions", "Tombstone"]

#: Permissions as the server returns them: a list of principals per
#: permission name, e.g. ``{'read': ['system.Everyone'], 'write': ['account:bob']}``.
Permissions = dict[str, list[str]]

if TYPE_CHECKING:

    class KintoData(dict[str, Any]):
        """The data of a Kinto object: ``id`` and ``last_modified`` (set by the
        server), plus the application's own fields.

        For type checkers only: ``data['id']`` is a ``str``,
        ``data['last_modified']`` an ``int`` (milliseconds), any other key
        ``Any``. At runtime it is ``dict``.
        """

        @overload
        def __getitem__(self, key: Literal["id"]) -> str: ...
        @overload
        def __getitem__(self, key: Literal["last_modified"]) -> int: ...
        @overload
        def __getitem__(self, key: str) -> Any: ...
        def __getitem__(self, key: str) -> Any: ...

else:
    #: The data of a Kinto object: ``id`` and ``last_modified`` (set by the
    #: server), plus the application's own fields. A ``dict``; type checkers
    #: read ``data['id']`` as a ``str``, ``data['last_modified']`` as an
    #: ``int`` (milliseconds) and any other key as ``Any``.
    KintoData = dict


class _Data(TypedDict):
    data: KintoData


class ObjectResponse(_Data, total=False):
    """A Kinto object as read or written: ``{'data': {...}, 'permissions': {...}}``.

    Kinto shows ``permissions`` only to those who may write the object, hence
    not required. What a client with no default collection reads is a
    :class:`~kinto_client.KintoObject` (a ``dict``) of this shape.
    """

    permissions: Permissions


class Tombstone(TypedDict):
    """What a delete returns: the deleted object's ``id``, its new
    ``last_modified`` and ``deleted: True``; also what ``_since`` lists
    return for deleted records."""

    id: str
    last_modified: int
    deleted: bool
