"""AsyncClient: every method of :class:`~kinto_client.Client` as a coroutine.

An :class:`AsyncClient` wraps a synchronous :class:`~kinto_client.Client` and
runs its blocking calls in a bounded thread pool that it owns, so the client's
logic exists once and ``requests`` stays the HTTP layer. Each worker thread
keeps its own pooled connection (the session holds one ``requests.Session``
per thread): a burst of concurrent calls opens at most ``max_workers``
connections and then reuses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import itertools
import operator
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

import requests

from kinto_client.client import Client
from kinto_client.exceptions import KintoException
from kinto_client.pipeline import Sender
from kinto_client.session import NOT_GIVEN, HTTPFactory, NotGiven, OnBackoff, Session

__all__ = ["DEFAULT_MAX_WORKERS", "AsyncClient"]

#: The size of an :class:`AsyncClient`'s thread pool unless ``max_workers=`` says otherwise.
DEFAULT_MAX_WORKERS = 10

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class _Pool:
    """The thread pool shared by an :class:`AsyncClient` and its clones."""

    def __init__(self, max_workers: int) -> None:
        self.executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="kinto_client-async"
        )
        self.max_workers = max_workers
        self.closed = False


class _UnboundMethods:
    """Client's methods as plain functions, typed (through :data:`_CLIENT`) as bound.

    ``_coroutine(Client.get_records)`` cannot be typed: ParamSpec refuses a
    ``self`` that a ``**filters`` could also receive by name. Typed as bound
    methods (``_CLIENT.get_records``), the parameters after ``self`` are
    captured exactly; at runtime each is ``Client``'s own function.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(Client, name)


_CLIENT = cast(Client, _UnboundMethods())


def _coroutine(
    method: Callable[P, R],
) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, R]]:
    """``Client.<method>`` (given as ``_CLIENT.<method>``) as a coroutine method.

    Same name, docstring and ``inspect.signature`` (``functools.wraps``);
    the call runs in the client's thread pool (inline on a batch client,
    where it only queues).
    """
    function = cast(Callable[..., R], method)  # Client's function: it takes the client first

    @functools.wraps(function)
    async def call(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        bound = functools.partial(function, self._client, *args, **kwargs)
        return await self._run(bound, inline=self._queues)

    return call


def _async_iterator(
    method: Callable[P, Iterator[T]],
) -> Callable[Concatenate[AsyncClient, P], AsyncIterator[T]]:
    """A generator method of ``Client`` as an async generator, one page per thread hop."""
    function = cast(Callable[..., Iterator[T]], method)

    @functools.wraps(function)
    async def iterate(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        items = function(self._client, *args, **kwargs)  # a generator: nothing runs yet
        try:
            while True:
                page = await self._run(functools.partial(_next_page, items), inline=self._queues)
                if page is None:
                    return
                for item in page:
                    yield item
                del page  # let this page go before the next one is fetched
        finally:
            close = getattr(items, "close", None)  # a generator's: let it go now
            if close is not None:
                with contextlib.suppress(ValueError):  # still running in a worker (cancelled)
                    close()

    return iterate


def _next_page(items: Iterator[T]) -> list[T] | None:
    """The items ``items`` holds without another request, or ``None`` at its end.

    Runs in a worker. The first ``next()`` may fetch a page; the generator is
    then suspended in its ``yield from <page>``, whose iterator
    (``gi_yieldfrom``) says how many items of that page are left: exactly
    those are taken, so the next page is requested only by the next call.
    """
    try:
        first = next(items)
    except StopIteration:
        return None
    page = [first]
    rest = getattr(items, "gi_yieldfrom", None)
    if rest is not None:
        page.extend(itertools.islice(items, operator.length_hint(rest)))
    return page


class _AwaitableProperty(Generic[R]):
    """A property of ``Client`` that may do I/O, as an awaitable property.

    ``await async_client.capabilities``: each access returns a coroutine
    that reads the sync property in the thread pool.
    """

    def __init__(self, getter: Callable[[Client], R]) -> None:
        # mypy types Client.<property> as its getter; at runtime it is the property.
        self._getter: Callable[[Client], R] = getattr(getter, "fget", None) or getter
        self.__doc__ = getter.__doc__
        self.__wrapped__ = getter

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> _AwaitableProperty[R]: ...

    @overload
    def __get__(
        self, obj: AsyncClient, owner: type[Any] | None = None
    ) -> Coroutine[Any, Any, R]: ...

    def __get__(
        self, obj: AsyncClient | None, owner: type[Any] | None = None
    ) -> _AwaitableProperty[R] | Coroutine[Any, Any, R]:
        if obj is None:
            return self
        return obj._run(functools.partial(self._getter, obj._client))


def _awaitable_property(getter: Callable[[Client], R]) -> _AwaitableProperty[R]:
    """``Client.<property>`` (one that may do I/O) as an awaitable property."""
    return _AwaitableProperty(getter)


class AsyncClient:
    """A client for one Kinto server whose methods are coroutines.

    Takes the arguments of :class:`~kinto_client.Client`, plus
    ``max_workers``: the size of the thread pool that runs the blocking calls
    (default :data:`DEFAULT_MAX_WORKERS`), hence the most requests in flight
    and the most connections this client opens. Use it as
    ``async with AsyncClient(...) as client:``, or ``await client.close()``
    when done: that waits for the calls in flight, stops the pool and closes
    the connections; calling the client afterwards raises
    :class:`~kinto_client.exceptions.KintoException`.

    Every public method of ``Client`` is here with the same signature,
    as a coroutine (``await client.get_record("id")``), except:

    - ``iter_records(...)`` and ``get_paginated_records(...)`` are async
      iterators (``async for``) reading one page at a time;
    - ``batch(...)`` is an async context manager (``async with``);
    - ``clone(...)``, ``results()``, ``failures()``, ``get_endpoint(...)``
      and the properties ``bucket_name``, ``collection_name`` and
      ``server_url`` do no I/O and answer at once;
    - ``capabilities`` may read the server (once per session): it is
      awaited, ``await client.capabilities``.

    A cancelled call stops being awaited at once, but a request already
    sent by a worker runs to its end (threads cannot be interrupted): a
    cancelled write may still land, as with a sync call abandoned halfway.
    """

    def __init__(
        self,
        server_url: str | None = None,
        session: Session | None = None,
        auth: Any = None,
        bucket: str | None = "default",
        collection: str | None = None,
        retry: Any = 0,
        retry_after: float | None = None,
        *,
        timeout: float | tuple[float, float] | NotGiven | None = NOT_GIVEN,
        headers: Mapping[str, str] | None = None,
        verify: bool | str | NotGiven = NOT_GIVEN,
        on_backoff: OnBackoff | NotGiven = NOT_GIVEN,
        http: requests.Session | HTTPFactory | None = None,
        cert: str | tuple[str, str] | None = None,
        deadline: float | str | NotGiven | None = NOT_GIVEN,
        dry_mode: bool = False,
        ignore_batch_4xx: bool = False,
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(
                f"max_workers must be a positive int (the size of the thread pool, default "
                f"{DEFAULT_MAX_WORKERS}); got {max_workers!r}."
            )
        client = Client(
            server_url,
            session,
            auth,
            bucket,
            collection,
            retry,
            retry_after,
            timeout=timeout,
            headers=headers,
            verify=verify,
            on_backoff=on_backoff,
            http=http,
            cert=cert,
            deadline=deadline,
            dry_mode=dry_mode,
            ignore_batch_4xx=ignore_batch_4xx,
        )
        self._setup(client, _Pool(max_workers), owner=None, queues=False)

    @classmethod
    def _wrapping(
        cls, client: Client, pool: _Pool, owner: AsyncClient, queues: bool
    ) -> AsyncClient:
        """An AsyncClient on ``client`` that borrows ``owner``'s pool."""
        new = cls.__new__(cls)
        new._setup(client, pool, owner, queues)
        return new

    def _setup(self, client: Client, pool: _Pool, owner: AsyncClient | None, queues: bool) -> None:
        self._client = client
        self._pool = pool
        #: The client whose pool this is (``None``: this one's own).
        self._owner = owner
        #: A batch client: its calls only queue, so they run inline, in call order.
        self._queues = queues
        self._closed = False

    def __repr__(self) -> str:
        return f"<Async{repr(self._client)[1:]}"

    # -- lifecycle --------------------------------------------------------------

    async def __aenter__(self) -> AsyncClient:
        self._check_open()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Wait for the calls in flight, stop the thread pool, close the connections.

        On a clone (which borrows the pool of the client it was cloned from),
        only the clone is closed, with the connections of a session of its
        own if it has one. Closing twice is harmless.
        """
        if self._closed:
            return
        self._closed = True
        if self._owner is None:
            self._pool.closed = True
            # Waits for the calls already submitted, outside the event loop.
            await asyncio.to_thread(self._pool.executor.shutdown, wait=True)
            self._client.close()
        elif not self._queues and self._client.session is not self._owner._client.session:
            self._client.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (on this client or the one owning its pool)."""
        return self._closed or self._pool.closed

    def _check_open(self) -> None:
        if self.closed:
            raise KintoException(
                f"This AsyncClient for {self._client.server_url} is closed: it cannot send "
                "requests any more. Create a new AsyncClient (or keep the client open until "
                "its last call, e.g. with 'async with AsyncClient(...) as client:')."
            )

    async def _run(self, call: Callable[[], R], inline: bool = False) -> R:
        """``call()`` in the thread pool (or here, when it only queues)."""
        self._check_open()
        if inline:
            return call()
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # as asyncio.to_thread does
        try:
            future = loop.run_in_executor(self._pool.executor, context.run, call)
        except RuntimeError:  # the pool was shut down between the check and here
            self._check_open()
            raise
        return await future

    # -- clients ------------------------------------------------------------------

    @property
    def bucket_name(self) -> str | None:
        """The default bucket."""
        return self._client.bucket_name

    @property
    def collection_name(self) -> str | None:
        """The default collection."""
        return self._client.collection_name

    @property
    def server_url(self) -> str:
        """The server's URL, with its prefix (``.../v1``)."""
        return self._client.server_url

    @property
    def session(self) -> Sender:
        """The sender of the wrapped client (its Session, or its Batch)."""
        return self._client.session

    def clone(self, **kwargs: Any) -> AsyncClient:
        """A new AsyncClient, as :meth:`Client.clone <kinto_client.Client.clone>` makes.

        It shares this client's thread pool (so the ``max_workers`` bound
        holds for both) and, unless overridden, its session, bucket and
        collection. Closing the clone leaves this client open; closing this
        client closes its clones too.
        """
        self._check_open()
        owner = self._owner or self
        return AsyncClient._wrapping(self._client.clone(**kwargs), self._pool, owner, self._queues)

    @contextlib.asynccontextmanager
    async def batch(self, **kwargs: Any) -> AsyncIterator[AsyncClient]:
        """``async with client.batch() as batch:``: queue the calls of the block.

        As :meth:`Client.batch <kinto_client.Client.batch>`: the calls made
        on ``batch`` in the block are queued (awaiting one only queues it, in
        call order, without a thread hop), then sent to ``/batch`` on leaving
        the block, in the thread pool; nothing is sent if the block raises.
        After the block, ``batch.results()`` and ``batch.failures()`` answer
        as on the sync batch client.
        """
        manager = self._client.batch(**kwargs)
        # Entering reads the server's batch_max_requests (once per session).
        sync_batch = await self._run(manager.__enter__, inline=self._queues)
        owner = self._owner or self
        batch = AsyncClient._wrapping(sync_batch, self._pool, owner, queues=True)
        try:
            yield batch
        except BaseException as exc:
            if not manager.__exit__(type(exc), exc, exc.__traceback__):  # sends nothing
                raise
        else:
            await self._run(functools.partial(manager.__exit__, None, None, None), self._queues)

    def results(self) -> list[Any]:
        """On a batch client, after its block: one response body per operation."""
        return self._client.results()

    def failures(self) -> list[dict[str, Any]]:
        """On a batch client, after its block: the operations that failed."""
        return self._client.failures()

    @functools.wraps(Client.get_endpoint)
    def get_endpoint(
        self,
        name: str,
        bucket: str | None = None,
        collection: str | None = None,
        id: str | None = None,
        *,
        group: str | None = None,
    ) -> str:
        # no I/O: at once
        return self._client.get_endpoint(name, bucket, collection, id, group=group)

    # -- every other public method of Client, as a coroutine ----------------------
    # One line per method (``_CLIENT.<name>`` is ``Client.<name>``): the
    # signature and docstring are Client's.

    server_info = _coroutine(_CLIENT.server_info)
    capabilities = _awaitable_property(Client.capabilities)
    batch_max_requests = _awaitable_property(Client.batch_max_requests)
    heartbeat = _coroutine(_CLIENT.heartbeat)

    get_buckets = _coroutine(_CLIENT.get_buckets)
    count_buckets = _coroutine(_CLIENT.count_buckets)
    create_bucket = _coroutine(_CLIENT.create_bucket)
    update_bucket = _coroutine(_CLIENT.update_bucket)
    patch_bucket = _coroutine(_CLIENT.patch_bucket)
    get_bucket = _coroutine(_CLIENT.get_bucket)
    delete_bucket = _coroutine(_CLIENT.delete_bucket)
    delete_buckets = _coroutine(_CLIENT.delete_buckets)

    get_collections = _coroutine(_CLIENT.get_collections)
    count_collections = _coroutine(_CLIENT.count_collections)
    create_collection = _coroutine(_CLIENT.create_collection)
    update_collection = _coroutine(_CLIENT.update_collection)
    patch_collection = _coroutine(_CLIENT.patch_collection)
    get_collection = _coroutine(_CLIENT.get_collection)
    delete_collection = _coroutine(_CLIENT.delete_collection)
    delete_collections = _coroutine(_CLIENT.delete_collections)

    get_groups = _coroutine(_CLIENT.get_groups)
    count_groups = _coroutine(_CLIENT.count_groups)
    create_group = _coroutine(_CLIENT.create_group)
    get_group = _coroutine(_CLIENT.get_group)
    update_group = _coroutine(_CLIENT.update_group)
    patch_group = _coroutine(_CLIENT.patch_group)
    delete_group = _coroutine(_CLIENT.delete_group)
    delete_groups = _coroutine(_CLIENT.delete_groups)

    iter_records = _async_iterator(_CLIENT.iter_records)
    get_paginated_records = _async_iterator(_CLIENT.get_paginated_records)
    get_records = _coroutine(_CLIENT.get_records)
    count_records = _coroutine(_CLIENT.count_records)
    get_records_timestamp = _coroutine(_CLIENT.get_records_timestamp)
    sync_records = _coroutine(_CLIENT.sync_records)
    get_record = _coroutine(_CLIENT.get_record)
    create_record = _coroutine(_CLIENT.create_record)
    update_record = _coroutine(_CLIENT.update_record)
    patch_record = _coroutine(_CLIENT.patch_record)
    delete_record = _coroutine(_CLIENT.delete_record)
    update_records = _coroutine(_CLIENT.update_records)
    delete_records = _coroutine(_CLIENT.delete_records)

    get_history = _coroutine(_CLIENT.get_history)
    purge_history = _coroutine(_CLIENT.purge_history)
    get_collection_snapshot = _coroutine(_CLIENT.get_collection_snapshot)
    get_permissions = _coroutine(_CLIENT.get_permissions)

    create_account = _coroutine(_CLIENT.create_account)
    get_account = _coroutine(_CLIENT.get_account)
    get_accounts = _coroutine(_CLIENT.get_accounts)
    update_account = _coroutine(_CLIENT.update_account)
    patch_account = _coroutine(_CLIENT.patch_account)
    change_password = _coroutine(_CLIENT.change_password)
    delete_account = _coroutine(_CLIENT.delete_account)

    add_attachment = _coroutine(_CLIENT.add_attachment)
    remove_attachment = _coroutine(_CLIENT.remove_attachment)
    download_attachment = _coroutine(_CLIENT.download_attachment)

    request_review = _coroutine(_CLIENT.request_review)
    approve_changes = _coroutine(_CLIENT.approve_changes)
    decline_changes = _coroutine(_CLIENT.decline_changes)
    rollback_changes = _coroutine(_CLIENT.rollback_changes)
    get_changeset = _coroutine(_CLIENT.get_changeset)
