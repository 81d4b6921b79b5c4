"""The Client: Kinto resources as Python methods.

A client holds defaults (bucket, collection) and turns each call into an
endpoint plus a request for its session; it never touches HTTP itself.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kinto_client import utils
from kinto_client.batch import BatchSession
from kinto_client.endpoints import Endpoints
from kinto_client.exceptions import (
    BucketNotFound,
    KintoException,
    KintoHTTPError,
    MissingId,
)
from kinto_client.session import Session, create_session

logger = logging.getLogger("kinto_client")

__all__ = ["DO_NOT_OVERWRITE", "Client", "RecordList"]

#: Create only: the server answers 412 if the object already exists.
DO_NOT_OVERWRITE = {"If-None-Match": "*"}

#: Keyword arguments of :class:`Client` that configure its session.
_SESSION_OPTIONS = ("timeout", "headers", "verify", "on_backoff")


class RecordList(list):  # type: ignore[type-arg]
    """The records of a list call: a plain list that also answers ``['data']``.

    ``records['data']`` is the list itself (kinto-client 4.0's documentation
    reads it that way), so code written either way works. ``timestamp`` is
    the collection's timestamp (from the ``ETag`` of the reply) and
    ``total`` the server's ``Total-Objects`` count, when known.
    """

    timestamp: int | None = None
    total: int | None = None

    def __getitem__(self, key: Any) -> Any:
        if key == "data":
            return self
        return super().__getitem__(key)


class KintoObject(dict):  # type: ignore[type-arg]
    """A dict read from the server that remembers its bucket and collection.

    When such an object is passed back (``update_record(record)``) to a
    client that has no default collection and no ``collection=`` argument,
    it goes back where it came from.
    """

    __slots__ = ("origin",)

    def __init__(self, value: Mapping[str, Any], origin: tuple[str | None, str | None]) -> None:
        super().__init__(value)
        self.origin = origin


class Client:
    """A client for one Kinto server.

    :param server_url: the server with its prefix, e.g. ``http://localhost:8888/v1``.
    :param session: an existing :class:`~kinto_client.session.Session` (then
        give neither ``server_url`` nor ``auth``).
    :param auth: ``(user, password)``, ``'user:password'``,
        ``'Bearer <token>'`` or any ``requests`` auth object.
    :param bucket: the default bucket (``'default'``: the per-user bucket).
    :param collection: the default collection.
    :param retry: how many times to retry a throttled or failed request, or a
        :class:`~kinto_client.retry.Retry` policy.
    :param retry_after: a fixed wait between retries, overriding the server's
        ``Retry-After`` (not recommended).

    Keyword-only: ``timeout``, ``headers``, ``verify``, ``on_backoff`` (see
    :class:`~kinto_client.session.Session`) and ``ignore_batch_4xx``.
    """

    def __init__(
        self,
        server_url: str | None = None,
        session: Session | BatchSession | None = None,
        auth: Any = None,
        bucket: str | None = "default",
        collection: str | None = None,
        retry: Any = 0,
        retry_after: float | None = None,
        *,
        ignore_batch_4xx: bool = False,
        **session_options: Any,
    ) -> None:
        unknown = set(session_options) - set(_SESSION_OPTIONS)
        if unknown:
            raise TypeError(
                f"Client() got unexpected keyword arguments: {', '.join(sorted(unknown))}"
            )
        if isinstance(session, BatchSession):
            self.session: Any = session
        else:
            self.session = create_session(
                server_url, auth, session, retry, retry_after, **session_options
            )
        self._bucket_name = bucket
        self._collection_name = collection
        self._ignore_batch_4xx = ignore_batch_4xx
        self.endpoints = Endpoints()

    def __repr__(self) -> str:
        return (
            f"<KintoClient {self.session.server_url}/buckets/{self._bucket_name}"
            f"/collections/{self._collection_name}>"
        )

    @property
    def bucket_name(self) -> str | None:
        """The default bucket."""
        return self._bucket_name

    @property
    def collection_name(self) -> str | None:
        """The default collection."""
        return self._collection_name

    @property
    def server_url(self) -> str:
        return str(self.session.server_url)

    # -- clients --------------------------------------------------------------

    def clone(self, **kwargs: Any) -> Client:
        """A new client sharing this one's session, bucket and collection
        unless overridden (``server_url``/``auth`` make a new session)."""
        if "server_url" in kwargs or "auth" in kwargs:
            http = self._http_session
            kwargs.setdefault("server_url", http.server_url)
            kwargs.setdefault("auth", http.auth)
            kwargs.setdefault("retry", http.retry)
            for option in _SESSION_OPTIONS:
                kwargs.setdefault(option, getattr(http, option))
            kwargs["headers"] = {
                k: v for k, v in kwargs["headers"].items() if k not in ("User-Agent", "Accept")
            }
        else:
            kwargs.setdefault("session", self.session)
        kwargs.setdefault("bucket", self._bucket_name)
        kwargs.setdefault("collection", self._collection_name)
        kwargs.setdefault("ignore_batch_4xx", self._ignore_batch_4xx)
        return Client(**kwargs)

    @contextlib.contextmanager
    def batch(self, **kwargs: Any) -> Iterator[Client]:
        """Queue the requests made in the ``with`` block and send them to ``/batch``.

        Yields a client with the same methods whose requests are queued. On
        leaving the block they are sent in chunks of the server's
        ``batch_max_requests``; nothing is sent if the block raises.
        ``kwargs`` (``bucket=``, ``collection=``...) go to the batch client;
        ``ignore_4xx=True`` reports 4xx failures in ``batch.failures()``
        instead of raising. After the block, ``batch.results()`` has one
        response body per operation.
        """
        ignore_4xx = kwargs.pop("ignore_4xx", self._ignore_batch_4xx)
        if self._batching:
            yield self.clone(**kwargs)  # nested: same queue, sent by the outer block
            return
        batch_session = BatchSession(
            self.session, batch_max_requests=self._batch_max_requests(), ignore_4xx=ignore_4xx
        )
        batch_client = self.clone(session=batch_session, **kwargs)
        yield batch_client
        batch_session.send()

    def results(self) -> list[Any]:
        """On a batch client, after its block: one response body per operation."""
        if not self._batching:
            raise KintoException("results() is only available on a batch client.")
        return self.session.results()  # type: ignore[no-any-return]

    def failures(self) -> list[dict[str, Any]]:
        """On a batch client, after its block: the operations that failed."""
        if not self._batching:
            raise KintoException("failures() is only available on a batch client.")
        return self.session.failures()  # type: ignore[no-any-return]

    @property
    def _batching(self) -> bool:
        return isinstance(self.session, BatchSession)

    @property
    def _http_session(self) -> Session:
        session = self.session.session if self._batching else self.session
        return session  # type: ignore[no-any-return]

    # -- server ---------------------------------------------------------------

    def server_info(self) -> dict[str, Any]:
        """``GET /``: the server's version, settings and capabilities (cached)."""
        cache = self._http_session.cache
        info = cache.get("server_info")
        if info is None:
            info, _ = self._http_session.request("get", self.endpoints.get("root"))
            cache["server_info"] = info
        return info  # type: ignore[no-any-return]

    def _batch_max_requests(self) -> int:
        settings = self.server_info().get("settings", {})
        return int(settings.get("batch_max_requests", 25))

    def _request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        body, _ = self.session.request(method, endpoint, **kwargs)
        return body

    # -- ids and defaults -------------------------------------------------------

    def _bucket(self, bucket: Any = None) -> Any:
        return self._bucket_name if bucket is None else bucket

    def _collection(self, collection: Any = None) -> Any:
        return self._collection_name if collection is None else collection

    def _locate(self, obj: Any, collection: Any, bucket: Any) -> tuple[Any, Any]:
        """(bucket, collection) for an object passed back: arguments first,
        then the client's defaults; an object read from the server fills in
        only when the client has no default collection."""
        if collection is None and self._collection_name is None and isinstance(obj, KintoObject):
            origin_bucket, origin_collection = obj.origin
            return (bucket if bucket is not None else origin_bucket), origin_collection
        return self._bucket(bucket), self._collection(collection)

    def _located(self, body: Any, bucket: Any, collection: Any) -> Any:
        if isinstance(body, dict):
            return KintoObject(body, (utils.slugify(bucket), utils.slugify(collection)))
        return body

    # -- generic operations ---------------------------------------------------

    def _create(
        self,
        endpoint: str,
        data: Any,
        permissions: Any,
        safe: bool,
        if_not_exists: bool,
        *,
        method: str = "put",
    ) -> Any:
        headers = DO_NOT_OVERWRITE if (safe or if_not_exists) else None
        if self._batching:
            return self._request(
                method,
                endpoint,
                data=data,
                permissions=permissions,
                headers=headers,
                tolerate=(412,) if if_not_exists else (),
            )
        try:
            return self._request(
                method, endpoint, data=data, permissions=permissions, headers=headers
            )
        except KintoHTTPError as exc:
            if if_not_exists and exc.status_code == 412:
                return self._request("get", endpoint)
            raise

    def _update(
        self,
        endpoint: str,
        data: Any,
        permissions: Any,
        safe: bool,
        last_modified: Any,
        method: str = "put",
        *,
        content_type: str | None = None,
    ) -> Any:
        headers = _if_match(safe, data, last_modified)
        if content_type:
            headers = {**(headers or {}), "Content-Type": content_type}
        return self._request(method, endpoint, data=data, permissions=permissions, headers=headers)

    def _delete(
        self, endpoint: str, safe: bool, last_modified: Any, if_exists: bool = False
    ) -> Any:
        headers = _if_match(safe, None, last_modified)
        if self._batching:
            return self._request(
                "delete", endpoint, headers=headers, tolerate=(404,) if if_exists else ()
            )
        try:
            body = self._request("delete", endpoint, headers=headers)
        except KintoHTTPError as exc:
            if if_exists and exc.status_code == 404:
                return None
            raise
        return body["data"] if body else body

    def _paginate(
        self, endpoint: str, params: Mapping[str, Any], pages: int | None = None
    ) -> Iterator[tuple[list[Any], Mapping[str, str]]]:
        """Yield ``(objects, headers)`` per page, following ``Next-Page`` in a loop."""
        url: str | None = endpoint
        query: Any = utils.encode_params(dict(params)) or None
        fetched = 0
        while url is not None and (pages is None or fetched < pages):
            body, headers = self.session.request("get", url, params=query)
            fetched += 1
            if body is None:  # queued in a batch, or not modified
                return
            yield body.get("data", []), headers
            url = headers.get("Next-Page")
            query = None  # Next-Page carries the query string

    def _list(self, endpoint: str, params: Mapping[str, Any], pages: int | None = None) -> Any:
        if self._batching:
            return self._request("get", endpoint, params=utils.encode_params(dict(params)))
        result = RecordList()
        for i, (objects, headers) in enumerate(self._paginate(endpoint, params, pages)):
            if i == 0:
                result.timestamp = _etag(headers)
                total = headers.get("Total-Objects") or headers.get("Total-Records")
                result.total = int(total) if total is not None else None
            result.extend(objects)
        return result

    def _delete_list(self, endpoint: str, params: Mapping[str, Any]) -> Any:
        """Plural DELETE, repeated until the server reports no next page."""
        if self._batching:
            return self._request("delete", endpoint, params=utils.encode_params(dict(params)))
        deleted: list[Any] = []
        query = utils.encode_params(dict(params)) or None
        while True:
            body, headers = self.session.request("delete", endpoint, params=query)
            deleted.extend((body or {}).get("data", []))
            if not headers.get("Next-Page"):
                return deleted

    # -- buckets ----------------------------------------------------------------

    def get_buckets(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Every bucket readable by these credentials (all pages)."""
        return self._list(self.endpoints.get("buckets"), kwargs)  # type: ignore[no-any-return]

    def create_bucket(
        self,
        bucket: Any = None,
        data: Any = None,
        permissions: Any = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Any:
        """Create a bucket (``if_not_exists=True``: return it if it exists)."""
        data, permissions = _unpack(data, permissions)
        endpoint = self.endpoints.get("bucket", bucket=self._bucket(bucket))
        return self._create(endpoint, data, permissions, safe, if_not_exists)

    def update_bucket(
        self,
        bucket: Any = None,
        data: Any = None,
        permissions: Any = None,
        safe: bool = True,
        last_modified: Any = None,
        method: str = "put",
    ) -> Any:
        """Replace (``method='put'``) or patch a bucket's data and permissions.

        With ``data=None`` only the permissions are written; data is kept.
        """
        data, permissions = _unpack(data, permissions)
        endpoint = self.endpoints.get("bucket", bucket=self._bucket(bucket))
        return self._update(endpoint, data, permissions, safe, last_modified, method)

    def patch_bucket(
        self,
        bucket: Any = None,
        data: Any = None,
        permissions: Any = None,
        safe: bool = True,
        last_modified: Any = None,
    ) -> Any:
        """Merge ``data`` and ``permissions`` into a bucket."""
        return self.update_bucket(bucket, data, permissions, safe, last_modified, method="patch")

    def get_bucket(self, bucket: Any = None) -> Any:
        """Read a bucket; raises :class:`BucketNotFound` when it cannot be read."""
        name = self._bucket(bucket)
        endpoint = self.endpoints.get("bucket", bucket=name)
        try:
            return self._request("get", endpoint)
        except KintoHTTPError as exc:
            status = exc.status_code
            if status == 401:
                raise KintoException(
                    "Unauthorized. Please authenticate or make sure the bucket "
                    "can be read anonymously.",
                    exc,
                ) from None
            if status in (403, 404):
                error = BucketNotFound(
                    f"Bucket {name!r} not found, or not readable with these credentials "
                    f"({status}).",
                    exc,
                )
                raise error from None
            raise

    def delete_bucket(
        self,
        bucket: Any = None,
        safe: bool = True,
        last_modified: Any = None,
        if_exists: bool = False,
    ) -> Any:
        """Delete a bucket and everything in it; returns the deleted object's data."""
        endpoint = self.endpoints.get("bucket", bucket=self._bucket(bucket))
        return self._delete(endpoint, safe, last_modified, if_exists)

    def delete_buckets(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Delete every bucket these credentials can (filters as kwargs)."""
        return self._delete_list(self.endpoints.get("buckets"), kwargs)  # type: ignore[no-any-return]

    # -- collections --------------------------------------------------------------

    def get_collections(self, bucket: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
        """Every collection of a bucket (all pages)."""
        endpoint = self.endpoints.get("collections", bucket=self._bucket(bucket))
        return self._list(endpoint, kwargs)  # type: ignore[no-any-return]

    def create_collection(
        self,
        collection: Any = None,
        bucket: Any = None,
        data: Any = None,
        permissions: Any = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Any:
        """Create a collection (``if_not_exists=True``: return it if it exists)."""
        data, permissions = _unpack(data, permissions)
        endpoint = self.endpoints.get(
            "collection", bucket=self._bucket(bucket), collection=self._collection(collection)
        )
        return self._create(endpoint, data, permissions, safe, if_not_exists)

    def update_collection(
        self,
        data: Any = None,
        collection: Any = None,
        bucket: Any = None,
        permissions: Any = None,
        method: str = "put",
        safe: bool = True,
        last_modified: Any = None,
    ) -> Any:
        """Replace (or patch) a collection's data and permissions.

        ``data`` may be a whole object as returned by :meth:`get_collection`.
        With ``data=None`` only the permissions are written; data is kept.
        """
        obj = data
        data, permissions = _unpack(data, permissions)
        if collection is None and self._collection_name is None and isinstance(data, Mapping):
            collection = data.get("id")
        bucket, collection = self._locate(obj, collection, bucket)
        endpoint = self.endpoints.get("collection", bucket=bucket, collection=collection)
        return self._update(endpoint, data, permissions, safe, last_modified, method)

    def patch_collection(
        self,
        data: Any = None,
        collection: Any = None,
        bucket: Any = None,
        permissions: Any = None,
        safe: bool = True,
        last_modified: Any = None,
    ) -> Any:
        """Merge ``data`` and ``permissions`` into a collection."""
        return self.update_collection(
            data, collection, bucket, permissions, "patch", safe, last_modified
        )

    def get_collection(self, collection: Any = None, bucket: Any = None) -> Any:
        """Read a collection: ``{'data': ..., 'permissions': ...}``."""
        bucket, collection = self._bucket(bucket), self._collection(collection)
        endpoint = self.endpoints.get("collection", bucket=bucket, collection=collection)
        return self._located(self._request("get", endpoint), bucket, None)

    def delete_collection(
        self,
        collection: Any = None,
        bucket: Any = None,
        safe: bool = True,
        last_modified: Any = None,
        if_exists: bool = False,
    ) -> Any:
        """Delete a collection and its records; returns the deleted object's data."""
        endpoint = self.endpoints.get(
            "collection", bucket=self._bucket(bucket), collection=self._collection(collection)
        )
        return self._delete(endpoint, safe, last_modified, if_exists)

    def delete_collections(self, bucket: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
        """Delete every collection of a bucket (filters as kwargs)."""
        endpoint = self.endpoints.get("collections", bucket=self._bucket(bucket))
        return self._delete_list(endpoint, kwargs)  # type: ignore[no-any-return]

    # -- records ------------------------------------------------------------------

    def iter_records(
        self,
        collection: Any = None,
        bucket: Any = None,
        pages: int | None = None,
        **kwargs: Any,
    ) -> Iterator[dict[str, Any]]:
        """Yield the records page by page; memory stays bounded by one page.

        ``kwargs`` become query parameters (filters, ``_sort``, ``_fields``,
        ``_limit`` for the page size...); ``pages`` stops after that many pages.
        """
        bucket, collection = self._bucket(bucket), self._collection(collection)
        endpoint = self.endpoints.get("records", bucket=bucket, collection=collection)
        for objects, _ in self._paginate(endpoint, kwargs, pages):
            yield from objects

    def get_records(self, collection: Any = None, bucket: Any = None, **kwargs: Any) -> Any:
        """Every record of a collection, all pages followed (a :class:`RecordList`).

        ``kwargs`` become query parameters (``_sort='-last_modified'``,
        ``in_id=['a', 'b']``, ``_since=ts``...); ``pages=N`` stops after N pages.
        """
        pages = kwargs.pop("pages", None)
        bucket, collection = self._bucket(bucket), self._collection(collection)
        endpoint = self.endpoints.get("records", bucket=bucket, collection=collection)
        records = self._list(endpoint, kwargs, pages)
        if self._collection_name is None and isinstance(records, RecordList):
            origin = (utils.slugify(bucket), utils.slugify(collection))
            records[:] = [KintoObject(r, origin) for r in records]
        return records

    def get_record(self, id: Any, collection: Any = None, bucket: Any = None) -> Any:
        """Read one record: ``{'data': {...}, 'permissions': {...}}``."""
        bucket, collection = self._bucket(bucket), self._collection(collection)
        endpoint = self.endpoints.get("record", bucket=bucket, collection=collection, id=id)
        return self._located(self._request("get", endpoint), bucket, collection)

    def create_record(
        self,
        data: Any = None,
        id: Any = None,
        collection: Any = None,
        permissions: Any = None,
        bucket: Any = None,
        safe: bool = True,
        if_not_exists: bool = False,
        *,
        server_id: bool = False,
    ) -> Any:
        """Create a record.

        Its id is ``id``, else ``data['id']``, else a new UUID4 drawn once
        (retries reuse it, so a retried create never duplicates). With
        ``server_id=True`` and no id, the server picks the id (POST).
        """
        data, permissions = _unpack(data if data is not None else {}, permissions)
        bucket, collection = self._bucket(bucket), self._collection(collection)
        record_id = id if id is not None else data.get("id")
        if record_id is None and server_id:
            endpoint = self.endpoints.get("records", bucket=bucket, collection=collection)
            return self._request("post", endpoint, data=data, permissions=permissions)
        if record_id is None:
            record_id = utils.new_id()
        endpoint = self.endpoints.get("record", bucket=bucket, collection=collection, id=record_id)
        data = {**data, "id": utils.slugify(record_id)}
        return self._create(endpoint, data, permissions, safe, if_not_exists)

    def update_record(
        self,
        data: Any,
        id: Any = None,
        collection: Any = None,
        permissions: Any = None,
        bucket: Any = None,
        safe: bool = True,
        method: str = "put",
        last_modified: Any = None,
    ) -> Any:
        """Replace (``method='put'``) or patch a record.

        ``data`` may be a whole object as returned by :meth:`get_record`: its
        data and permissions are both written. The id is ``id`` or
        ``data['id']``; with neither, raises :class:`MissingId` (a ``KeyError``).
        """
        obj = data
        data, permissions = _unpack(data, permissions)
        record_id = id if id is not None else data.get("id")
        if record_id is None:
            raise MissingId(
                "Unable to update a record, need an id: pass id= or include 'id' in data."
            )
        bucket, collection = self._locate(obj, collection, bucket)
        endpoint = self.endpoints.get("record", bucket=bucket, collection=collection, id=record_id)
        data = {**data, "id": utils.slugify(record_id)}
        return self._update(endpoint, data, permissions, safe, last_modified, method)

    def patch_record(
        self,
        data: Any,
        id: Any = None,
        collection: Any = None,
        permissions: Any = None,
        bucket: Any = None,
        safe: bool = True,
        last_modified: Any = None,
    ) -> Any:
        """Merge ``data`` (and ``permissions``) into a record."""
        return self.update_record(
            data, id, collection, permissions, bucket, safe, "patch", last_modified
        )

    def delete_record(
        self,
        id: Any,
        collection: Any = None,
        bucket: Any = None,
        safe: bool = True,
        last_modified: Any = None,
        if_exists: bool = False,
    ) -> Any:
        """Delete one record; returns the deleted object's data (a tombstone)."""
        endpoint = self.endpoints.get(
            "record", bucket=self._bucket(bucket), collection=self._collection(collection), id=id
        )
        return self._delete(endpoint, safe, last_modified, if_exists)

    def update_records(
        self,
        records: Iterable[Any],
        collection: Any = None,
        bucket: Any = None,
        safe: bool = True,
        method: str = "put",
    ) -> list[Any]:
        """Update many records in one batch; returns one response body each."""
        with self.batch() as batch:
            for record in records:
                batch.update_record(
                    record, collection=collection, bucket=bucket, safe=safe, method=method
                )
        return batch.results()

    def delete_records(
        self,
        records: Iterable[Any] | None = None,
        collection: Any = None,
        bucket: Any = None,
        safe: bool = True,
        **kwargs: Any,
    ) -> list[Any]:
        """Delete records.

        With ``records`` (dicts with an ``id``, or ids), deletes those in one
        batch. Without, deletes every record of the collection matching the
        filters in ``kwargs``, following the server's pages until none is left.
        """
        if records is None:
            endpoint = self.endpoints.get(
                "records", bucket=self._bucket(bucket), collection=self._collection(collection)
            )
            return self._delete_list(endpoint, kwargs)  # type: ignore[no-any-return]
        with self.batch() as batch:
            for record in records:
                if isinstance(record, Mapping):
                    data, _ = _unpack(record, None)
                    if data.get("id") is None:
                        raise MissingId(f"Cannot delete a record without an id: {record!r}")
                    rb, rc = self._locate(record, collection, bucket)
                    batch.delete_record(
                        data["id"],
                        collection=rc,
                        bucket=rb,
                        safe=safe,
                        last_modified=data.get("last_modified"),
                    )
                else:
                    batch.delete_record(record, collection=collection, bucket=bucket)
        return [body.get("data") if isinstance(body, dict) else body for body in batch.results()]


# -- helpers ---------------------------------------------------------------------


def _unpack(data: Any, permissions: Any) -> tuple[Any, Any]:
    """Accept a whole object ``{'data': ..., 'permissions': ...}`` as ``data``.

    Explicit ``permissions`` win over the object's own.
    """
    if data is None:
        return None, permissions
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict (a JSON object); got a {type(data).__name__}.")
    inner = data.get("data")
    if isinstance(inner, Mapping) and set(data) <= {"data", "permissions"}:
        if permissions is None:
            permissions = data.get("permissions")
        return inner, permissions
    return data, permissions


def _if_match(safe: bool, data: Any, last_modified: Any) -> dict[str, str] | None:
    if last_modified is None and isinstance(data, Mapping):
        last_modified = data.get("last_modified")
    if safe and last_modified is not None:
        return {"If-Match": utils.quote(last_modified)}
    return None


def _etag(headers: Mapping[str, str]) -> int | None:
    etag = headers.get("ETag")
    if not etag:
        return None
    try:
        return int(etag.strip('"'))
    except ValueError:
        return None
