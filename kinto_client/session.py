"""The HTTP session: the sender that sends now, and the only code that talks HTTP.

It owns authentication (sent only to the server's own origin), default
headers, timeouts, TLS verification, the retry loop (whose every decision
is the policy's, :mod:`kinto_client.retry`), the settling of replayed
writes, the server's ``Backoff`` and ``Alert`` signals, and the mapping of
failures to exceptions. What carries the bytes is a ``requests.Session``,
which a caller may supply (``http=``).
"""

from __future__ import annotations

import enum
import json
import logging
import os
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import cookiejar as http_cookiejar
from typing import Any, Final, Literal
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3.exceptions

from kinto_client import payloads, utils
from kinto_client.auth import BasicAuth, parse_auth
from kinto_client.exceptions import (
    BackoffException,
    KintoConnectionError,
    KintoException,
    KintoHTTPError,
    KintoTimeout,
    describe_body,
)
from kinto_client.pipeline import Request, Response
from kinto_client.retry import Decision, Failure, FailureKind, Retry, parse_backoff, replay_landed

logger = logging.getLogger("kinto_client")

__all__ = ["DEFAULT_TIMEOUT", "NOT_GIVEN", "NotGiven", "OnBackoff", "Session", "create_session"]

#: (connect, read) seconds: no call can hang forever.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)

_NO_BODY_METHODS = frozenset({"GET", "HEAD"})


class _NotGiven(enum.Enum):
    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: The default of an option whose ``None`` means something (``timeout=None``
#: waits forever): the option was left out, so the session's default applies.
NOT_GIVEN: Final = _NotGiven.NOT_GIVEN
#: The type of :data:`NOT_GIVEN`, for signatures.
NotGiven = Literal[_NotGiven.NOT_GIVEN]
#: The values of ``on_backoff``.
OnBackoff = Literal["wait", "raise", "ignore"]


class _ThreadConnections:
    """One thread's ``requests.Session``, held only by that thread's local
    storage: when the thread ends, this is collected and its connections closed."""

    __slots__ = ("__weakref__", "http", "owned")

    def __init__(self, http: requests.Session, owned: bool) -> None:
        self.http = http
        self.owned = owned

    def __del__(self) -> None:
        if not self.owned:
            return
        try:
            self.http.close()
        except Exception:  # at interpreter exit, modules may already be gone
            pass


def _new_http() -> requests.Session:
    """A pooled ``requests.Session`` that keeps no cookies between requests
    (kinto-client 4.0 kept none, and Kinto sets none)."""
    http = requests.Session()
    http.cookies.set_policy(http_cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return http


#: What carries the calls: a ``requests.Session`` (shared by every thread) or
#: a function returning a new one (called once per thread, for per-thread pools).
HTTPFactory = Callable[[], requests.Session]


@dataclass
class _Call:
    """One request as it goes on the wire: encoded once, sent as often as the policy allows."""

    method: str
    url: str
    headers: dict[str, str]
    data: Any = None
    files: Any = None
    params: Any = None
    timeout: Any = None
    stream: bool = False
    authenticate: bool = True
    extra: Mapping[str, Any] | None = None
    #: sent to the server's own origin: a redirect may not leave it
    own_origin: bool = True
    file_positions: list[tuple[Any, int]] = field(default_factory=list)

    def rewind_files(self) -> None:
        """Uploads are re-read from where they started on every attempt."""
        for handle, position in self.file_positions:
            handle.seek(position)


class Session:
    """The HTTP sender: sends each request now, to one Kinto server.

    :param server_url: the server root with its prefix, e.g.
        ``http://localhost:8888/v1``. Credentials embedded in it
        (``http://user:pass@host/v1``) become the session's basic auth and are
        removed from the URL.
    :param auth: a ``(user, password)`` tuple, ``'user:password'``,
        ``'Bearer <token>'`` or any ``requests`` auth object.
    :param retry: how many times to retry, or a :class:`~kinto_client.retry.Retry`.
    :param retry_after: a fixed wait between retries, in seconds.
    :param timeout: seconds, or a ``(connect, read)`` pair; ``None`` waits forever.
    :param headers: headers sent with every request.
    :param verify: ``True`` (default), a CA bundle path, or ``False`` (warns).
    :param on_backoff: what to do when the server sent a ``Backoff`` header:
        ``'wait'`` (default) sleeps before the next request, ``'raise'``
        raises :class:`~kinto_client.exceptions.BackoffException` instead,
        ``'ignore'`` only logs it.
    :param http: what carries the calls (the transport seam): a
        ``requests.Session`` with your own adapters, proxies or certificates
        (shared by every thread), or a function returning a new one (called
        once per thread). By default each thread gets its own pooled
        ``requests.Session``. A session given here is not closed by
        :meth:`close`; sessions made by a function are.
    :param cert: a client certificate for mutual TLS: the path of a PEM file
        holding the certificate and its key, or a ``(cert, key)`` pair of paths.
    :param deadline: the most seconds one attempt may take, from sending the
        request to the last byte of its answer (a streamed download
        included): a server that drips its answer raises
        :class:`~kinto_client.exceptions.KintoTimeout` when it passes.
        ``'auto'`` (default): twice the connect plus read timeouts (140 s
        with the default timeout; none when ``timeout=None``); ``None``: no
        deadline.
    """

    def __init__(
        self,
        server_url: str,
        auth: Any = None,
        retry: Retry | int = 0,
        retry_after: float | None = None,
        *,
        timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        on_backoff: str = "wait",
        http: requests.Session | HTTPFactory | None = None,
        cert: str | tuple[str, str] | None = None,
        deadline: float | str | None = "auto",
    ) -> None:
        self.server_url, url_auth = _split_credentials(server_url)
        self.auth = parse_auth(auth) if auth is not None else url_auth
        self.retry = Retry.from_args(retry, retry_after)
        self.timeout = _check_timeout(timeout)
        _check_verify(verify)
        if verify is False:
            warnings.warn(
                "TLS certificate verification is disabled (verify=False): "
                "anyone on the network path can read and change this traffic.",
                stacklevel=2,
            )
        self.verify = verify if isinstance(verify, bool) else os.fspath(verify)
        if on_backoff not in ("wait", "raise", "ignore"):
            raise ValueError(
                f"on_backoff must be 'wait', 'raise' or 'ignore' (got {on_backoff!r})."
            )
        self.on_backoff = on_backoff
        if http is not None and not (isinstance(http, requests.Session) or callable(http)):
            raise TypeError(
                "http must be a requests.Session or a function returning one; "
                f"got a {type(http).__name__}."
            )
        self.http = http
        self.cert = _check_cert(cert)
        self.deadline = _check_deadline(deadline)
        #: headers sent with every request (none but yours: as kinto-client
        #: 4.0, requests' own User-Agent and Accept go out otherwise)
        self.headers: dict[str, str] = dict(headers) if headers else {}
        self._backoff_until = 0.0
        self._local = threading.local()
        self._all_http: weakref.WeakSet[_ThreadConnections] = weakref.WeakSet()
        self._lock = threading.Lock()

    @property
    def retry_after(self) -> float | None:
        return self.retry.retry_after

    @property
    def nb_retry(self) -> int:
        """How many times a request is retried (kinto-client 4.0's name)."""
        return self.retry.total

    def __repr__(self) -> str:
        return f"<Session {self.server_url}>"

    def copy(self, **changes: Any) -> Session:
        """A new session with this one's settings, and ``changes`` to them.

        ``changes`` takes :class:`Session`'s arguments (``server_url``,
        ``auth``, ``retry``, ``retry_after``, ``timeout``...).
        """
        settings: dict[str, Any] = {
            "server_url": self.server_url,
            "auth": self.auth,
            "retry": self.retry,
            "timeout": self.timeout,
            "headers": dict(self.headers),
            "verify": self.verify,
            "on_backoff": self.on_backoff,
            "http": self.http,
            "cert": self.cert,
            "deadline": self.deadline,
        }
        settings.update(changes)
        return create_session(**settings)

    def results(self) -> list[Any]:
        """Not for a session, which sends at once: see :meth:`Batch.results`."""
        raise KintoException(
            "results() is only available on a batch client: the one that "
            "`with client.batch() as batch:` gives."
        )

    def failures(self) -> list[dict[str, Any]]:
        """Not for a session, which sends at once: see :meth:`Batch.failures`."""
        raise KintoException(
            "failures() is only available on a batch client: the one that "
            "`with client.batch() as batch:` gives."
        )

    # -- connections ------------------------------------------------------

    def _http(self) -> requests.Session:
        """This thread's ``requests.Session`` (keep-alive).

        Its connections are closed when the thread ends, or by :meth:`close`.
        """
        holder: _ThreadConnections | None = getattr(self._local, "holder", None)
        if holder is None:
            given = self.http
            if isinstance(given, requests.Session):
                holder = _ThreadConnections(given, owned=False)
            else:
                http = _new_http() if given is None else given()
                if not isinstance(http, requests.Session):
                    raise TypeError(
                        f"the http= factory must return a requests.Session; got a "
                        f"{type(http).__name__}."
                    )
                holder = _ThreadConnections(http, owned=True)
            self._local.holder = holder
            with self._lock:
                self._all_http.add(holder)
        return holder.http

    def close(self) -> None:
        """Close the pooled connections of every thread (a given ``http`` session stays open)."""
        with self._lock:
            holders, self._all_http = list(self._all_http), weakref.WeakSet()
        for holder in holders:
            if holder.owned:
                holder.http.close()
        self._local = threading.local()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- the 4.0 call -------------------------------------------------------

    def request(
        self,
        method: str,
        endpoint: str,
        data: Any = None,
        permissions: Any = None,
        payload: Any = None,
        **kwargs: Any,
    ) -> tuple[Any, Mapping[str, str]]:
        """Send one request and return ``(body, headers)``, as kinto-client 4.0 did.

        ``endpoint`` is joined to the server URL unless absolute. ``data`` and
        ``permissions`` go into the JSON body (``permissions`` may be any
        object with ``as_dict()``), with ``payload``'s other fields. With
        ``files=`` the body's fields are sent as multipart form fields
        (JSON, or as given when already text). GET and HEAD carry no body. A
        304 gives a ``None`` body. ``headers``, ``params`` and ``timeout``
        are the request's; any other keyword argument (``cookies``,
        ``verify``, ``stream``, ``allow_redirects``...) goes to ``requests``
        as given.
        """
        method = _check_method(method)
        headers = kwargs.pop("headers", None)
        params = kwargs.pop("params", None)
        timeout = kwargs.pop("timeout", ...)
        files = kwargs.pop("files", None)
        idempotent = kwargs.pop("idempotent", None)
        body = None
        if method not in _NO_BODY_METHODS:
            if files and isinstance(data, str):
                # 4.0's upload pattern: data already JSON text, sent as the form field.
                body = {**payloads.kinto_body(None, permissions, payload), "data": data}
            else:
                body = payloads.kinto_body(data, permissions, payload) or None
        response = self.dispatch(
            Request(
                method,
                endpoint,
                body=body,
                query=params,
                headers=headers,
                files=files,
                timeout=timeout,
                idempotent=idempotent,
                extra=kwargs or None,
            )
        )
        return response.body, response.headers

    # -- the sender ---------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Send ``request`` now, under the retry policy, and return its answer.

        Error statuses raise :class:`~kinto_client.exceptions.KintoHTTPError`
        unless ``request.tolerate`` holds them; transport failures raise
        :class:`~kinto_client.exceptions.KintoConnectionError` or
        :class:`~kinto_client.exceptions.KintoTimeout`.
        """
        return self._send(self._prepare(request), request)

    def _prepare(self, request: Request) -> _Call:
        """Encode ``request`` for the wire, once."""
        url = utils.urljoin(self.server_url, request.path)
        own_origin = utils.same_origin(url, self.server_url)
        # The session's headers may be credentials (X-Api-Key...): only for its server.
        headers = dict(self.headers) if own_origin else dict(_default_headers(self.headers))
        if request.headers:
            headers.update(request.headers)
        authenticate = request.authenticate and own_origin
        if not authenticate:
            headers.pop("Authorization", None)
        call = _Call(
            method=request.method,
            url=url,
            headers=headers,
            params=request.query,
            timeout=self.timeout if request.timeout is ... else _check_timeout(request.timeout),
            stream=request.stream,
            authenticate=authenticate,
            extra=request.extra,
            own_origin=own_origin,
        )
        if request.files:
            call.files = request.files
            call.data = {
                name: value if isinstance(value, str) else utils.json_encode(value).decode()
                for name, value in (request.body or {}).items()
            }
            call.file_positions = _file_positions(request.files)
        elif request.body is not None:
            call.data = utils.json_encode(request.body)
            headers.setdefault("Content-Type", "application/json")
        return call

    def _send(self, call: _Call, request: Request) -> Response:
        """The one retry loop: each failure is described, and the policy decides."""
        policy = self.retry
        started = time.monotonic()
        retries = 0
        replayed = False
        while True:
            self._honour_backoff()
            call.rewind_files()
            raw: requests.Response | None = None
            deadline = _deadline_at(self.deadline, call.timeout)
            try:
                raw = self._http().request(call.method, call.url, **self._options(call))
                if call.stream:
                    _watch_stream(raw, deadline)
                else:
                    _read_body(raw, deadline)
            except requests.RequestException as exc:
                if raw is not None:
                    raw.close()
                    raw = None
                failure = Failure(_failure_kind(exc))
                error: KintoException = _transport_error(call, exc)
                outcome: Any = _transport_reason(exc)
            else:
                status = raw.status_code
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("%s %s -> %s", call.method, call.url, status)
                self._read_signals(raw)
                if status < 400 or status in request.tolerate:
                    return Response(
                        status,
                        raw.headers,
                        None if call.stream else _decode_success(raw, call),
                        replayed,
                        raw,
                        http_error(raw) if status >= 400 else None,
                    )
                failure = Failure("status", status, raw.headers.get("Retry-After"))
                error = http_error(raw)
                outcome = status
            decision = policy.decide(
                failure,
                method=call.method,
                idempotent=bool(request.idempotent),
                retries_done=retries,
                elapsed=time.monotonic() - started,
            )
            if decision.retry:
                replayed = replayed or failure.may_have_landed
                retries += 1
                self._log_retry(call, retries, outcome, decision.wait)
                if raw is not None:
                    raw.close()
                time.sleep(decision.wait)
                continue
            if raw is not None and replayed:
                settled = self.settle_replay(request, raw.status_code, raw.headers)
                if settled is not None:
                    return settled
            raise _explain(error, call, retries, decision, replayed, failure.may_have_landed)

    def _options(self, call: _Call) -> dict[str, Any]:
        """The ``requests`` arguments of ``call`` (the caller's own ones win)."""
        options = {
            "params": call.params,
            "data": call.data,
            "files": call.files,
            "headers": call.headers,
            "auth": self.auth if call.authenticate else None,
            "timeout": call.timeout,
            # Per request: requests lets REQUESTS_CA_BUNDLE override Session.verify.
            "verify": self.verify,
            "cert": self.cert,
        }
        if call.extra:
            options.update(call.extra)
        # The body is always read here, under the deadline (_read_body, _watch_stream).
        options["stream"] = True
        if call.own_origin and options.get("allow_redirects", True):
            given = options.get("hooks") or {}
            response_hooks = given.get("response") or []
            if callable(response_hooks):
                response_hooks = [response_hooks]
            options["hooks"] = {
                **given,
                "response": [self._refuse_cross_origin_redirect, *response_hooks],
            }
        return options

    def _refuse_cross_origin_redirect(self, raw: requests.Response, **_: Any) -> None:
        """A ``requests`` response hook: never follow a redirect off the server's origin.

        Runs on each answer before ``requests`` follows its redirect. Same-origin
        redirects are followed as ``requests`` does; one to another origin (host,
        scheme or port) raises before anything is sent there, so that neither the
        credentials nor the session's headers (``X-Api-Key``...) nor the body go there.
        """
        if not raw.is_redirect:
            return
        target = urljoin(raw.url, raw.headers.get("Location", ""))
        if utils.same_origin(target, self.server_url):
            return
        raw.close()
        raise KintoException(
            f"{raw.request.method} {_strip_userinfo(raw.url)} was redirected ({raw.status_code}) "
            f"to another origin ({utils.origin(target)}) than the server's "
            f"({utils.origin(self.server_url)}): not followed, so that neither the credentials, "
            "the session's headers nor the request body go there. If the server moved, use "
            "its new URL as server_url."
        )

    def settle_replay(
        self, request: Request, status: int | None, headers: Mapping[str, str] | None = None
    ) -> Response | None:
        """Whether a replayed write's error answer means its first attempt landed.

        An earlier attempt may have been applied before its reply was lost:
        a DELETE answered 404 then did its job; a PUT or PATCH answered 412
        landed only when the object read back holds what was sent, data and
        permissions (:func:`~kinto_client.retry.replay_landed`). Returns the
        answer to give the caller, or ``None`` (the error stands).
        """
        if request.method == "DELETE" and status == 404:
            logger.info("Replayed DELETE %s found it gone: the first attempt landed", request.path)
            return Response(200, headers or {}, {"data": {"deleted": True}}, True)
        if status != 412 or request.method not in ("PUT", "PATCH"):
            return None
        if not isinstance(request.body, dict):
            return None  # a JSON Patch (a list of operations): cannot tell
        read_headers = {
            k: v
            for k, v in (request.headers or {}).items()
            if k not in ("If-Match", "If-None-Match", "Content-Type")
        }
        current = self.dispatch(Request("GET", request.path, headers=read_headers))
        if not replay_landed(request.method, request.body, current.body):
            return None
        logger.info(
            "Replayed %s %s answered 412 but the stored object holds what was sent: "
            "the first attempt landed",
            request.method,
            request.path,
        )
        return Response(200, current.headers, current.body, True, current.raw)

    def _log_retry(self, call: _Call, retries: int, outcome: Any, wait: float) -> None:
        """One INFO line per retry; the values are also on the record (``kinto_*``)."""
        logger.info(
            "Attempt %d of %s %s: %s; retrying in %.2fs",
            retries,
            call.method,
            call.url,
            outcome,
            wait,
            extra={
                "kinto_attempt": retries,
                "kinto_method": call.method,
                "kinto_url": call.url,
                "kinto_outcome": outcome,
                "kinto_wait": wait,
            },
        )

    # -- server signals -----------------------------------------------------

    def _honour_backoff(self) -> None:
        remaining = self._backoff_until - time.monotonic()
        if remaining <= 0 or self.on_backoff == "ignore":
            return
        wait = self.retry.backoff_wait(remaining)
        if self.on_backoff == "raise" or wait is None:
            too_long = (
                f", more than max_server_wait={self.retry.max_server_wait:g}s"
                if wait is None
                else ""
            )
            raise BackoffException(
                f"The server asked clients to back off for {remaining:.1f} more seconds{too_long}.",
                remaining,
            )
        logger.info(
            "Waiting %.2fs before the next request to %s (server's Backoff)",
            wait,
            self.server_url,
            extra={"kinto_wait": wait},
        )
        time.sleep(wait)

    def _read_signals(self, raw: requests.Response) -> None:
        headers = raw.headers
        backoff = headers.get("Backoff")
        if backoff is not None:
            seconds = parse_backoff(backoff)
            if seconds is not None:
                self._backoff_until = max(self._backoff_until, time.monotonic() + seconds)
                logger.warning(
                    "Server %s asked clients to back off for %gs (Backoff header)%s",
                    self.server_url,
                    seconds,
                    "" if self.on_backoff == "ignore" else "; next request will wait",
                )
        alert = headers.get("Alert")
        if alert is not None:
            try:
                info = json.loads(alert)
            except ValueError:
                info = {"message": alert}
            if not isinstance(info, dict):
                info = {"message": str(info)}
            logger.warning(
                "Server alert%s: %s%s",
                f" ({info['code']})" if info.get("code") else "",
                info.get("message", alert),
                f" See {info['url']}" if info.get("url") else "",
            )


def create_session(
    server_url: str | None = None,
    auth: Any = None,
    session: Session | None = None,
    retry: Retry | int = 0,
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
) -> Session:
    """Return ``session`` as is, or a new :class:`Session` for ``server_url``.

    Giving ``session`` together with ``server_url`` or ``auth``, or giving
    none of the three, raises ``AttributeError`` as in kinto-client 4.0.
    The keyword-only options (``timeout``, ``headers``, ``verify``,
    ``on_backoff``, ``http``, ``cert``, ``deadline``) go to :class:`Session`; an option
    left out (:data:`NOT_GIVEN`, or ``None`` for those whose default is
    ``None``) keeps the session's default. With ``session`` they (and a
    ``retry``/``retry_after``, and ``dry_mode=True``) raise ``TypeError``
    instead of being ignored. ``dry_mode=True`` makes a
    :class:`~kinto_client.dry.DrySession`, which sends nothing.
    """
    if session is not None and (server_url is not None or auth is not None):
        raise AttributeError(
            "You cannot specify session and server_url or auth: the session already has them."
        )
    if session is None and server_url is None and auth is None:
        raise AttributeError(
            "Either session or server_url or auth should be specified, "
            "e.g. Client(server_url='http://localhost:8888/v1')."
        )
    options: dict[str, Any] = {}
    for name, value, unset in (
        ("timeout", timeout, NOT_GIVEN),
        ("headers", headers, None),
        ("verify", verify, NOT_GIVEN),
        ("on_backoff", on_backoff, NOT_GIVEN),
        ("http", http, None),
        ("cert", cert, None),
        ("deadline", deadline, NOT_GIVEN),
    ):
        if value is not unset:
            options[name] = value
    if session is not None:
        ignored = sorted([*options, *(["dry_mode"] if dry_mode else [])])
        if retry not in (0, None):
            ignored.insert(0, "retry")
        if retry_after is not None:
            ignored.insert(0, "retry_after")
        if ignored:
            raise TypeError(
                f"{', '.join(ignored)} cannot be combined with session=: the session "
                "already has its own settings. Configure them on the Session, or give "
                "server_url= to make a new session."
            )
        return session
    if server_url is None:
        raise AttributeError(
            "server_url is required to create a session, e.g. 'http://localhost:8888/v1'."
        )
    if not isinstance(dry_mode, bool):
        raise TypeError(f"dry_mode must be True or False; got {dry_mode!r}.")
    if dry_mode:
        from kinto_client.dry import DrySession

        return DrySession(server_url, auth, retry, retry_after, **options)
    return Session(server_url, auth, retry, retry_after, **options)


# -- helpers --------------------------------------------------------------------


def _split_credentials(server_url: str) -> tuple[str, BasicAuth | None]:
    """``server_url`` checked, without its credentials, and those as basic auth.

    The credentials end at the last ``@``, so that a password may hold ``/``,
    ``?`` or ``#`` (a server URL's path never holds an ``@``). No message
    ever shows them.
    """
    if not isinstance(server_url, str):
        raise TypeError(f"server_url must be a string URL; got a {type(server_url).__name__}.")
    text = server_url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise ValueError(
            "server_url must start with http:// or https://, like "
            f"'http://localhost:8888/v1'; got {_strip_userinfo(text)!r}."
        )
    userinfo, at, location = rest.rpartition("@")
    if not at:
        location = rest
    url = f"{scheme.lower()}://{location}"
    problem = _url_problem(url)
    if problem:
        raise ValueError(
            f"server_url {url!r} {problem}; give the server root with its prefix, "
            "like 'http://localhost:8888/v1'."
        )
    auth = None
    if at:
        user, _, password = userinfo.partition(":")
        auth = BasicAuth(unquote(user), unquote(password))
    return url.rstrip("/"), auth


def _url_problem(url: str) -> str | None:
    """What is wrong with a server URL (no credentials in it), or ``None``."""
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        return "holds spaces or control characters"
    if "?" in url:
        return "has a query string (?...), which a server root cannot have"
    if "#" in url:
        return "has a fragment (#...), which a server root cannot have"
    parts = urlsplit(url)
    if not parts.hostname:
        return "has no host"
    try:
        port = parts.port
    except ValueError:
        return "has an invalid port (a number from 1 to 65535 is expected)"
    if port == 0 or parts.netloc.endswith(":"):
        return "has an invalid port (a number from 1 to 65535 is expected)"
    try:
        requests.PreparedRequest().prepare_url(url, None)
    except (requests.RequestException, ValueError, UnicodeError) as exc:
        return f"is not a valid URL ({type(exc).__name__}: {exc})"
    return None


def _strip_userinfo(url: str) -> str:
    """``url`` without anything up to its last ``@`` (the credentials)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rpartition("@")[2]
    return f"{scheme}://{rest.rpartition('@')[2]}"


def _default_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Of the session's headers, those that may go to another origin: the
    ``User-Agent`` and ``Accept`` a caller set (not secrets, unlike an API key)."""
    return {k: v for k, v in headers.items() if k in ("User-Agent", "Accept")}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _check_method(method: Any) -> str:
    verb = method.upper() if isinstance(method, str) else None
    if verb not in _METHODS:
        raise ValueError(
            f"method must be one of {', '.join(_METHODS)}; got {method!r}. Nothing was sent."
        )
    return verb


def _positive_seconds(value: Any) -> bool:
    """Whether ``value`` is a positive, finite number of seconds (not a bool)."""
    return (
        not isinstance(value, bool) and isinstance(value, (int, float)) and 0 < value < float("inf")
    )


def _check_timeout(timeout: Any) -> Any:
    if timeout is None:
        return None
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if isinstance(timeout, tuple) and len(timeout) != 2:
        values = ()
    for value in values or (None,):
        if not _positive_seconds(value):
            raise ValueError(
                "timeout must be positive finite seconds, a (connect, read) pair of them, "
                f"or None; got {timeout!r}."
            )
    return timeout


def _check_deadline(deadline: Any) -> float | str | None:
    if deadline is None or deadline == "auto":
        return deadline  # type: ignore[no-any-return]
    if not _positive_seconds(deadline):
        raise ValueError(
            "deadline must be positive finite seconds, 'auto' (twice the connect plus read "
            f"timeouts) or None (no deadline); got {deadline!r}."
        )
    return float(deadline)


def _deadline_at(setting: float | str | None, timeout: Any) -> float | None:
    """When the attempt starting now must be over (``time.monotonic()``), or ``None``."""
    if setting is None:
        return None
    if setting == "auto":
        if timeout is None:
            return None
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        setting = 2.0 * (connect + read)
    assert isinstance(setting, float)
    return time.monotonic() + setting


class _DeadlinePassed(requests.exceptions.ReadTimeout):
    """The answer did not arrive whole before the attempt's deadline."""


def _deadline_passed(raw: requests.Response, deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise _DeadlinePassed(
            "no complete answer before the deadline (the server sends it too slowly; "
            "see Session(deadline=))",
            response=raw,
        )


#: How much of an answer is read at once: whatever has arrived, up to this.
_READ_SIZE = 256 * 1024


def _read_body(raw: requests.Response, deadline: float | None) -> None:
    """Read ``raw``'s whole body now, checking ``deadline`` between reads.

    Failures are raised as ``requests`` raises them when it reads a body.
    """
    body = raw.raw
    if not hasattr(body, "read1"):  # a transport that is not urllib3 (http=)
        raw.content  # noqa: B018
        return
    chunks = []
    try:
        while True:
            _deadline_passed(raw, deadline)
            chunk = body.read1(_READ_SIZE, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
    except urllib3.exceptions.HTTPError as exc:
        raise _requests_error(exc, raw) from None
    raw._content = b"".join(chunks)
    raw._content_consumed = True  # type: ignore[attr-defined]


def _requests_error(exc: Exception, raw: requests.Response) -> requests.RequestException:
    """The ``requests`` exception for a failure while reading a body (as ``iter_content``)."""
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return requests.exceptions.ReadTimeout(exc, response=raw)
    if isinstance(exc, urllib3.exceptions.DecodeError):
        return requests.exceptions.ContentDecodingError(exc, response=raw)
    if isinstance(exc, urllib3.exceptions.SSLError):
        return requests.exceptions.SSLError(exc, response=raw)
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return requests.exceptions.ChunkedEncodingError(exc, response=raw)
    return requests.ConnectionError(exc, response=raw)


class _DeadlineStream:
    """A streamed body (``Response.raw``) whose reads stop at the deadline."""

    def __init__(self, raw: requests.Response, deadline: float) -> None:
        self._response = raw
        self._body = raw.raw
        self._deadline = deadline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._body, name)

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Any:
        while True:
            _deadline_passed(self._response, self._deadline)
            chunk = self._body.read1(amt, decode_content=decode_content)
            if not chunk:
                return
            yield chunk

    def read(self, amt: int | None = None, *args: Any, **kwargs: Any) -> Any:
        _deadline_passed(self._response, self._deadline)
        if amt is not None and amt > 0:
            return self._body.read1(amt, *args, **kwargs)
        return self._body.read(amt, *args, **kwargs)


def _watch_stream(raw: requests.Response, deadline: float | None) -> None:
    """Put a streamed body under ``deadline`` (read later by the caller)."""
    if deadline is not None and hasattr(raw.raw, "read1"):
        raw.raw = _DeadlineStream(raw, deadline)


def _check_verify(verify: Any) -> None:
    if isinstance(verify, bool):
        return
    if not isinstance(verify, (str, os.PathLike)):
        raise TypeError(
            "verify must be True, False, or the path of a CA bundle file or directory; "
            f"got a {type(verify).__name__}."
        )
    if not os.path.exists(verify):
        raise ValueError(
            f"verify={os.fspath(verify)!r}: no such CA bundle file or directory. Give the "
            "path of the PEM file (or directory) of the CAs that signed the server's "
            "certificate, or True for the system's CAs."
        )


def _check_cert(cert: Any) -> str | tuple[str, str] | None:
    """A client certificate: a PEM path, or a ``(cert, key)`` pair of existing paths."""
    if cert is None:
        return None
    paths = cert if isinstance(cert, tuple) else (cert,)
    if len(paths) not in (1, 2) or not all(isinstance(p, (str, os.PathLike)) for p in paths):
        raise TypeError(
            "cert must be the path of a PEM file with the certificate and its key, or a "
            f"(certificate, key) pair of paths; got {cert!r}."
        )
    for path in paths:
        if not os.path.isfile(path):
            raise ValueError(f"cert: no such file {os.fspath(path)!r}.")
    names = tuple(os.fspath(p) for p in paths)
    return (names[0], names[1]) if len(names) == 2 else names[0]


def _file_positions(files: Any) -> list[tuple[Any, int]]:
    items = files.values() if isinstance(files, Mapping) else [f for _, f in files]
    positions = []
    for item in items:
        handle = item[1] if isinstance(item, tuple) else item
        if hasattr(handle, "seek") and hasattr(handle, "tell"):
            positions.append((handle, handle.tell()))
    return positions


def _transport_reason(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, _DeadlinePassed):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return "read timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut short (connection closed before its end)"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the answer's body could not be decoded (corrupt Content-Encoding)"
    text = repr(exc.args[0] if exc.args else exc)
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return (
                "TLS certificate verification failed (give verify= the path of the CA "
                "bundle that signed the server's certificate)"
            )
        return "TLS handshake failed"
    if "refused" in text:
        return "connection refused"
    if "NameResolutionError" in text or "Failed to resolve" in text:
        return "host name not resolved"
    if "RemoteDisconnected" in text or "reset" in text.lower() or "aborted" in text.lower():
        return "connection dropped by the server"
    return type(exc).__name__


def _failure_kind(exc: requests.RequestException) -> FailureKind:
    """How a ``requests`` exception failed, for the retry policy."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls"
    if isinstance(exc, requests.ConnectTimeout):
        return "unsent"
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc.args[0] if exc.args else exc)
        if "NewConnectionError" in text or "NameResolutionError" in text:
            return "unsent"
        if "Connection refused" in text or "Failed to resolve" in text:
            return "unsent"
    if isinstance(exc, _TRANSPORT_ERRORS):
        return "sent"  # read timeout, dropped connection, body cut short or corrupt
    raise KintoException(f"The request could not be sent: {type(exc).__name__}: {exc}") from None


#: Failures of the exchange itself: a body cut short or corrupt counts, since
#: the request may have been applied before it.
_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _transport_error(call: _Call, exc: Exception) -> KintoException:
    reason = _transport_reason(exc)
    message = f"{call.method} {call.url} failed: {reason}."
    cls = KintoTimeout if isinstance(exc, requests.Timeout) else KintoConnectionError
    error = cls(message, exception=exc)
    error.request = getattr(exc, "request", None)
    return error


def _explain(
    error: KintoException,
    call: _Call,
    retries: int,
    decision: Decision,
    replayed: bool,
    landed: bool,
) -> KintoException:
    """Add to ``error`` how many attempts were made, why retrying stopped, and
    whether the request may have been applied (also as ``error.may_have_landed``:
    an earlier attempt's reply was lost, or this one failed after sending)."""
    message = error.message or str(error)
    reason = decision.reason
    if decision.stop == "disabled" and not retries:
        reason = None  # retrying was never asked for: nothing to explain
    if isinstance(error, KintoHTTPError):
        notes = [f"after {retries + 1} attempts"] if retries else []
        if reason:
            notes.append(f"not retried: {reason}" if not retries else f"stopped: {reason}")
        if notes:
            message += f" ({'; '.join(notes)})"
        if replayed and call.method not in _NO_BODY_METHODS:
            message += ". An earlier attempt's reply was lost: it may have been applied."
    else:
        if retries:
            head, _, rest = message.partition(" failed: ")
            message = f"{head} failed after {retries + 1} attempts: {rest}"
        if (replayed or landed) and call.method not in _NO_BODY_METHODS:
            message += " The request may have been applied before the failure."
        if reason:
            message += f" Not retried: {reason}."
    error.message = message
    error.args = (message,)
    error.may_have_landed = replayed or landed
    return error


def _decode_success(raw: requests.Response, call: _Call) -> Any:
    if raw.status_code == 304 or call.method == "HEAD" or not raw.content:
        return None
    if raw.status_code >= 400:  # a tolerated error: its body may come from a proxy
        try:
            return json.loads(raw.content)
        except ValueError:
            return None
    try:
        return json.loads(raw.content)
    except ValueError:
        raise KintoHTTPError(
            f"{raw.status_code} - {call.method} {call.url} answered with a body that is "
            f"not JSON ({raw.headers.get('Content-Type', 'no content type')}): "
            f"{raw.text[:200]!r}"
        ) from None


def http_error(raw: requests.Response) -> KintoHTTPError:
    """The exception for an error response: ``"<status> - [<hint>] <json body>"``.

    401 and 403 answers get a hint first, as the command line gives (which
    credentials to check); the hint never quotes the credentials.
    """
    try:
        body: Any = json.loads(raw.content) if raw.content else None
        text = describe_body(body) if body is not None else raw.reason or "no body"
    except ValueError:
        body = None
        snippet = " ".join(raw.text.split())[:200]
        text = (
            f"{raw.reason or 'error'} (the server sent {raw.headers.get('Content-Type', 'a body')}"
            f" instead of JSON: {snippet!r})"
        )
    hint = _auth_hint(raw)
    error = KintoHTTPError(f"{raw.status_code} - {hint + ' ' if hint else ''}{text}")
    error.request = raw.request
    error.response = raw
    return error


def _auth_hint(raw: requests.Response) -> str:
    """What to check after a 401 or 403 (``''`` for other statuses).

    Names the path only: never a query string, header or credential.
    """
    prepared = raw.request
    if raw.status_code not in (401, 403) or prepared is None:
        return ""
    authenticated = "Authorization" in prepared.headers
    method = (prepared.method or "GET").upper()
    verb = {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(method, "write")
    where = urlsplit(prepared.url or "").path or "/"
    if raw.status_code == 401:
        if authenticated:
            return (
                f"Unauthorized: the server refused these credentials to {verb} {where}; "
                "check the auth= credentials."
            )
        return (
            f"Unauthorized: {where} needs credentials; pass auth=('user', 'password') "
            "or auth='Bearer <token>' to the Client."
        )
    owner = "these credentials" if authenticated else "anonymous users (no auth= given)"
    if verb == "read":
        return (
            f"Forbidden: {owner} may not read {where}: it does not exist or is not shared "
            "with them (Kinto answers 403, not 404, for a bucket you cannot read); check the "
            "bucket and collection names and the auth= credentials."
        )
    return (
        f"Forbidden: {owner} may not {verb} {where}: ask its owner for write permission, "
        "or check the bucket and collection names and the auth= credentials."
    )
