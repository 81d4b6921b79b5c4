"""The HTTP session: the only code in kinto_client that talks to the network.

It owns authentication, default headers, concurrency-control headers,
timeouts, TLS verification, the single retry loop, the server's ``Backoff``
and ``Alert`` signals, and the mapping of failures to exceptions.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from kinto_client import utils
from kinto_client.auth import BasicAuth, parse_auth
from kinto_client.exceptions import (
    BackoffException,
    KintoConnectionError,
    KintoException,
    KintoHTTPError,
    KintoTimeout,
    describe_body,
)
from kinto_client.retry import Retry

logger = logging.getLogger("kinto_client")

__all__ = ["DEFAULT_TIMEOUT", "Response", "Session", "create_session"]

#: (connect, read) seconds: no call can hang forever.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})
_NO_BODY_METHODS = frozenset({"GET", "HEAD"})
#: Answers from a gateway that may have passed the request on before failing.
_AMBIGUOUS_STATUSES = frozenset({502, 504})


def _user_agent() -> str:
    from kinto_client._version import __version__

    return (
        f"kinto_client/{__version__} requests/{requests.__version__} "
        f"{platform.python_implementation()}/{platform.python_version()}"
    )


@dataclass
class Response:
    """What one call produced once the retry loop is done with it."""

    body: Any
    headers: Mapping[str, str]
    status: int
    #: True when an earlier attempt may have reached the server (the
    #: connection dropped after sending): a write may already be applied.
    replayed: bool = False
    raw: requests.Response | None = field(default=None, repr=False)


class _ThreadConnections:
    """One thread's ``requests.Session``, held only by that thread's local
    storage: when the thread ends, this is collected and its connections closed."""

    __slots__ = ("__weakref__", "http")

    def __init__(self, http: requests.Session) -> None:
        self.http = http

    def __del__(self) -> None:
        try:
            self.http.close()
        except Exception:  # at interpreter exit, modules may already be gone
            pass


@dataclass
class _Call:
    """One request, encoded once and sent as many times as the policy allows."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None
    form: dict[str, str] | None = None
    files: Any = None
    params: Any = None
    timeout: Any = None
    idempotent: bool = True
    stream: bool = False
    #: False for a URL outside the Kinto server (an attachment on a CDN):
    #: the session's credentials are not sent there.
    authenticate: bool = True
    file_positions: list[tuple[Any, int]] = field(default_factory=list)

    def rewind_files(self) -> None:
        """Uploads are re-read from where they started on every attempt."""
        for handle, position in self.file_positions:
            handle.seek(position)


class Session:
    """Send requests to one Kinto server.

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
        self.headers = {"User-Agent": _user_agent(), "Accept": "application/json"}
        if headers:
            self.headers.update(headers)
        #: Shared by the clients of this session (server info and settings).
        self.cache: dict[str, Any] = {}
        self._cache_lock = threading.RLock()
        self._backoff_until = 0.0
        self._local = threading.local()
        self._all_http: weakref.WeakSet[_ThreadConnections] = weakref.WeakSet()
        self._lock = threading.Lock()

    def cached(self, key: str, load: Callable[[], Any]) -> Any:
        """``cache[key]``, computed once by ``load()`` even when many threads ask at once."""
        value = self.cache.get(key)
        if value is None:
            with self._cache_lock:
                value = self.cache.get(key)
                if value is None:
                    value = load()
                    self.cache[key] = value
        return value

    @property
    def retry_after(self) -> float | None:
        return self.retry.retry_after

    def __repr__(self) -> str:
        return f"<Session {self.server_url}>"

    # -- connections ------------------------------------------------------

    def _http(self) -> requests.Session:
        """This thread's pooled ``requests.Session`` (keep-alive).

        Its connections are closed when the thread ends, or by :meth:`close`.
        """
        holder: _ThreadConnections | None = getattr(self._local, "holder", None)
        if holder is None:
            http = requests.Session()
            http.verify = self.verify
            holder = _ThreadConnections(http)
            self._local.holder = holder
            with self._lock:
                self._all_http.add(holder)
        return holder.http

    def close(self) -> None:
        """Close the pooled connections of every thread."""
        with self._lock:
            holders, self._all_http = list(self._all_http), weakref.WeakSet()
        for holder in holders:
            holder.http.close()
        self._local = threading.local()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- the public call --------------------------------------------------

    def request(
        self,
        method: str,
        endpoint: str,
        data: Any = None,
        permissions: Any = None,
        payload: Any = None,
        **kwargs: Any,
    ) -> tuple[Any, Mapping[str, str]]:
        """Send one request and return ``(body, headers)``.

        ``endpoint`` is joined to the server URL unless absolute. ``data`` and
        ``permissions`` go into the JSON body (``permissions`` may be any
        object with ``as_dict()``); ``files=`` sends them form-encoded
        instead. GET and HEAD carry no body. A 304 gives a ``None`` body.
        Other keyword arguments: ``headers``, ``params``, ``timeout``,
        ``idempotent`` (override the method's default), ``stream`` (the
        body is left unread in ``Response.raw``), ``authenticate=False``
        (send no credentials: for URLs outside the Kinto server).
        """
        response = self.send(self.prepare(method, endpoint, data, permissions, payload, **kwargs))
        return response.body, response.headers

    def prepare(
        self,
        method: str,
        endpoint: str,
        data: Any = None,
        permissions: Any = None,
        payload: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        files: Any = None,
        timeout: Any = ...,
        idempotent: bool | None = None,
        stream: bool = False,
        authenticate: bool = True,
    ) -> _Call:
        """Validate and encode a request once, before anything is sent."""
        method = method.upper()
        url = utils.urljoin(self.server_url, endpoint)
        call_headers = dict(self.headers)
        if headers:
            call_headers.update(headers)
        call = _Call(
            method=method,
            url=url,
            headers=call_headers,
            params=params,
            timeout=self.timeout if timeout is ... else _check_timeout(timeout),
            idempotent=(method in _IDEMPOTENT_METHODS) if idempotent is None else idempotent,
            stream=stream,
            authenticate=authenticate,
        )
        if not authenticate:
            call.headers.pop("Authorization", None)
        if method in _NO_BODY_METHODS:
            return call
        body = build_payload(data, permissions, payload)
        if files:
            call.files = files
            call.form = {key: json.dumps(value) for key, value in body.items()}
            call.file_positions = _file_positions(files)
        elif body:
            call.body = utils.json_dumps(body)
            call.headers.setdefault("Content-Type", "application/json")
        return call

    def send(self, call: _Call) -> Response:
        """Send ``call`` under the retry policy; the one retry loop of the library.

        Retried (up to the policy's limits): connection failures and timeouts,
        unless the request may have reached the server and is not idempotent;
        and the policy's statuses, except 502/504 for a non-idempotent request
        (a gateway may have passed it on). Each retry is logged at INFO.
        """
        policy = self.retry
        started = time.monotonic()
        retries = 0
        replayed = False
        while True:
            self._honour_backoff()
            call.rewind_files()
            try:
                raw = self._http().request(
                    call.method,
                    call.url,
                    params=call.params,
                    data=call.body if call.form is None else call.form,
                    files=call.files,
                    headers=call.headers,
                    auth=self.auth if call.authenticate else None,
                    timeout=call.timeout,
                    stream=call.stream,
                    allow_redirects=True,
                    # Per request: requests lets REQUESTS_CA_BUNDLE override Session.verify.
                    verify=self.verify,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                reached = _may_have_reached_server(exc)
                reason = _transport_reason(exc)
                wait = policy.wait(retries)
                if isinstance(exc, requests.exceptions.SSLError):
                    stop: str | None = "a TLS failure is not retried"
                elif not policy.retry_connection_errors:
                    stop = "connection errors are not retried (retry_connection_errors=False)"
                elif reached and not call.idempotent:
                    stop = f"a {call.method} that may have been applied is not sent twice"
                else:
                    stop = policy.stop_reason(retries, started, wait)
                if stop is None:
                    replayed = replayed or reached
                    retries += 1
                    self._log_retry(call, retries, reason, wait)
                    time.sleep(wait)
                    continue
                raise _transport_error(call, exc, retries, reached, stop) from None

            status = raw.status_code
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s %s -> %s", call.method, call.url, status)
            self._read_signals(raw)
            if status < 400:
                return Response(
                    body=None if call.stream else _decode_success(raw, call),
                    headers=raw.headers,
                    status=status,
                    replayed=replayed,
                    raw=raw,
                )
            stop = None
            if status in policy.statuses:
                wait = policy.wait(retries, raw.headers.get("Retry-After"))
                ambiguous = status in _AMBIGUOUS_STATUSES
                if ambiguous and not call.idempotent:
                    stop = f"a {call.method} answered {status} may have been applied"
                else:
                    stop = policy.stop_reason(retries, started, wait)
                if stop is None:
                    replayed = replayed or ambiguous
                    retries += 1
                    self._log_retry(call, retries, status, wait)
                    raw.close()
                    time.sleep(wait)
                    continue
            error = http_error(raw, retries, stop if policy.total else None)
            if replayed:
                resolved = self._resolve_replay(call, raw)
                if resolved is not None:
                    return resolved
                if call.method not in _NO_BODY_METHODS:
                    error.message = (
                        f"{error.message}. An earlier attempt's reply was lost: "
                        "it may have been applied."
                    )
                    error.args = (error.message,)
            raise error

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

    # -- exactly once -------------------------------------------------------

    def _resolve_replay(self, call: _Call, raw: requests.Response) -> Response | None:
        """Decide whether a replayed write's failure means the first try landed.

        An earlier attempt may have been applied before its reply was lost.
        A 412 on a write (``If-None-Match: *`` create, or ``If-Match``
        update) is a success when the stored object now equals what was sent;
        a 404 on a DELETE means the first attempt deleted it.
        """
        status = raw.status_code
        if call.method == "DELETE" and status == 404:
            logger.info("Replayed DELETE %s found it gone: the first attempt landed", call.url)
            return Response(
                body={"data": {"deleted": True}},
                headers=raw.headers,
                status=200,
                replayed=True,
                raw=raw,
            )
        if status != 412 or call.method not in ("PUT", "PATCH") or call.body is None:
            return None
        sent_body = json.loads(call.body)
        if not isinstance(sent_body, dict):
            return None  # a JSON Patch (a list of operations): cannot tell, keep the 412
        sent = sent_body.get("data")
        current = self.send(
            _Call(
                method="GET", url=call.url, headers=self._read_headers(call), timeout=call.timeout
            )
        )
        if replay_landed(sent, (current.body or {}).get("data")):
            logger.info(
                "Replayed %s %s answered 412 but the stored object matches what was "
                "sent: the first attempt landed",
                call.method,
                call.url,
            )
            return Response(body=current.body, headers=current.headers, status=200, replayed=True)
        return None

    def _read_headers(self, call: _Call) -> dict[str, str]:
        headers = {k: v for k, v in call.headers.items() if k not in ("If-Match", "If-None-Match")}
        headers.pop("Content-Type", None)
        return headers

    # -- server signals -----------------------------------------------------

    def _honour_backoff(self) -> None:
        remaining = self._backoff_until - time.monotonic()
        if remaining <= 0:
            return
        if self.on_backoff == "raise":
            raise BackoffException(
                f"The server asked clients to back off for {remaining:.1f} more seconds.",
                remaining,
            )
        if self.on_backoff == "wait":
            logger.info(
                "Waiting %.2fs before the next request to %s (server's Backoff)",
                remaining,
                self.server_url,
                extra={"kinto_wait": remaining},
            )
            time.sleep(remaining)

    def _read_signals(self, raw: requests.Response) -> None:
        headers = raw.headers
        backoff = headers.get("Backoff")
        if backoff is not None:
            try:
                seconds = max(0.0, float(backoff))
            except ValueError:
                seconds = 0.0
            if seconds:
                self._backoff_until = max(self._backoff_until, time.monotonic() + seconds)
                logger.warning(
                    "Server %s asked clients to back off for %ss (Backoff header)%s",
                    self.server_url,
                    backoff,
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
    **kwargs: Any,
) -> Session:
    """Return ``session`` as is, or a new :class:`Session` for ``server_url``.

    Giving ``session`` together with ``server_url`` or ``auth``, or giving
    none of the three, raises ``AttributeError`` as in kinto-client 4.0.
    Extra keyword arguments (``timeout``, ``headers``, ``verify``,
    ``on_backoff``) go to :class:`Session`; with ``session`` they (and a
    ``retry``/``retry_after``) raise ``TypeError`` instead of being ignored.
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
    if session is not None:
        ignored = sorted(kwargs)
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
    return Session(server_url=server_url, auth=auth, retry=retry, retry_after=retry_after, **kwargs)


# -- helpers --------------------------------------------------------------------


def replay_landed(sent: Any, stored: Any) -> bool:
    """Whether ``stored`` data holds every field of ``sent`` (the write landed)."""
    if not isinstance(stored, Mapping):
        return False
    if not isinstance(sent, Mapping):
        return True
    return all(stored.get(k) == v for k, v in sent.items() if k != "last_modified")


def build_payload(data: Any, permissions: Any, payload: Any) -> dict[str, Any]:
    """The JSON body ``{'data': ..., 'permissions': ...}``, validated."""
    body = dict(payload) if payload else {}
    if data is not None:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"data must be a dict (a JSON object); got a {type(data).__name__}.")
        body["data"] = data
    if permissions is not None:
        if hasattr(permissions, "as_dict"):
            permissions = permissions.as_dict()
        body["permissions"] = check_permissions(permissions)
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


def _split_credentials(server_url: str) -> tuple[str, BasicAuth | None]:
    if not isinstance(server_url, str):
        raise TypeError(f"server_url must be a string URL; got a {type(server_url).__name__}.")
    parts = urlsplit(server_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"server_url must be an http(s) URL with a host, like "
            f"'http://localhost:8888/v1'; got {_strip_userinfo(server_url)!r}."
        )
    auth = None
    if parts.username is not None or parts.password is not None:
        from urllib.parse import unquote

        auth = BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts).rstrip("/"), auth


def _strip_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    return f"{scheme}://{netloc.rpartition('@')[2]}{slash}{path}"


def _check_timeout(timeout: Any) -> Any:
    if timeout is None:
        return None
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(
                "timeout must be positive seconds, a (connect, read) pair of them, "
                f"or None; got {timeout!r}."
            )
    return timeout


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


def _file_positions(files: Any) -> list[tuple[Any, int]]:
    items = files.values() if isinstance(files, Mapping) else [f for _, f in files]
    positions = []
    for item in items:
        handle = item[1] if isinstance(item, tuple) else item
        if hasattr(handle, "seek") and hasattr(handle, "tell"):
            positions.append((handle, handle.tell()))
    return positions


def _may_have_reached_server(exc: Exception) -> bool:
    """False only when the request certainly never left (refused, DNS, connect
    timeout, TLS handshake failure)."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc.args[0] if exc.args else exc)
        if "NewConnectionError" in text or "NameResolutionError" in text:
            return False
        if "Connection refused" in text or "Failed to resolve" in text:
            return False
    return True


def _transport_reason(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.Timeout):
        return "read timed out"
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


def _transport_error(
    call: _Call, exc: Exception, retries: int, reached: bool, stop: str | None = None
) -> KintoException:
    reason = _transport_reason(exc)
    attempts = f" after {retries + 1} attempts" if retries else ""
    unknown = (
        " The request may have been applied before the failure."
        if reached and call.method not in _NO_BODY_METHODS
        else ""
    )
    not_retried = (
        f" Not retried: {stop}."
        if stop and (retries or not stop.startswith("retries are disabled"))
        else ""
    )
    message = f"{call.method} {call.url} failed{attempts}: {reason}.{unknown}{not_retried}"
    cls = KintoTimeout if isinstance(exc, requests.Timeout) else KintoConnectionError
    error = cls(message, exception=exc)
    error.request = getattr(exc, "request", None)
    return error


def _decode_success(raw: requests.Response, call: _Call) -> Any:
    if raw.status_code == 304 or call.method == "HEAD" or not raw.content:
        return None
    try:
        return json.loads(raw.content)
    except ValueError:
        raise KintoHTTPError(
            f"{raw.status_code} - {call.method} {call.url} answered with a body that is "
            f"not JSON ({raw.headers.get('Content-Type', 'no content type')}): "
            f"{raw.text[:200]!r}"
        ) from None


def http_error(raw: requests.Response, retries: int = 0, stop: str | None = None) -> KintoHTTPError:
    """The exception for an error response: ``"<status> - <json body>"``.

    ``retries`` and ``stop`` (why retrying stopped) are added in parentheses.
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
    message = f"{raw.status_code} - {text}"
    notes = [f"after {retries + 1} attempts"] if retries else []
    if stop:
        notes.append(f"not retried: {stop}" if not retries else f"stopped: {stop}")
    if notes:
        message += f" ({'; '.join(notes)})"
    error = KintoHTTPError(message)
    error.request = raw.request
    error.response = raw
    return error
