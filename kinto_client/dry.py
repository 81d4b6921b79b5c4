"""Dry mode: the sender that sends nothing.

``Client(..., dry_mode=True)`` carries its requests with a :class:`DrySession`:
each request that would have gone out is logged at ``DEBUG`` (method, URL,
body; never the credentials) and answered here, without any network call,
with a body of the shape the server would give. What the answer cannot
know (the stored fields, the other objects, the server's settings) is
listed in the guide ("Dry mode" in docs/guide-client.rst).
"""

from __future__ import annotations

import hashlib
import logging
import re
import string
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from kinto_client import utils
from kinto_client.endpoints import Endpoints
from kinto_client.exceptions import KintoException
from kinto_client.pipeline import Request, Response
from kinto_client.session import Session

logger = logging.getLogger("kinto_client")

__all__ = ["DRY_SERVER_INFO", "DrySession"]

#: What a dry client answers for ``GET /`` (:meth:`Client.server_info`): Kinto's
#: default ``batch_max_requests``, and every capability the client checks, so
#: that calls needing one are shown rather than refused.
DRY_SERVER_INFO: dict[str, Any] = {
    "project_name": "kinto",
    "project_version": None,
    "http_api_version": None,
    "settings": {"batch_max_requests": 25, "readonly": False},
    "capabilities": {
        "history": {},
        "accounts": {},
        "attachments": {},
        "permissions_endpoint": {},
    },
}

#: The field of each singular endpoint that holds the object's id.
_ID_FIELDS = {
    "bucket": "bucket",
    "collection": "collection",
    "group": "group",
    "record": "id",
    "account": "user",
}
_PLURALS = frozenset(
    {"buckets", "collections", "groups", "records", "accounts", "history", "permissions"}
)
#: Fields never written to the log: their values are replaced by this.
_SECRET_FIELDS = frozenset({"password"})
_MASK = "***"
#: Headers worth showing in the log (the others are the session's own, or
#: may be credentials).
_LOGGED_HEADERS = ("If-Match", "If-None-Match", "Content-Type")


def _routes() -> list[tuple[str, re.Pattern[str]]]:
    """Each endpoint of :class:`Endpoints` as a regular expression on the path."""
    routes = []
    for name, pattern in Endpoints.endpoints.items():
        regex = ""
        for literal, field, _, _ in string.Formatter().parse(pattern):
            regex += re.escape(literal)
            if field == "root":
                continue
            if field:
                regex += f"(?P<{field}>[^/]+)"
        routes.append((name, re.compile(regex + "$")))
    return routes


_ROUTES = _routes()


# A DrySession is a Session (its third kind of sender, beside the HTTP
# session and the batch) so that everything built on a session works
# unchanged: a Batch sends its chunks with a Session's retry policy, clones
# copy its settings, and options are checked by the same code.
class DrySession(Session):
    """A session that sends nothing: each request is logged, then answered here.

    It takes :class:`~kinto_client.session.Session`'s arguments (checked the
    same way), so a dry client is configured like the real one; ``Client(...,
    dry_mode=True)`` makes one. Answers have the shape of the server's (see
    the guide): a write echoes what was sent, with the id and a
    ``last_modified`` from the local clock; a read gives an object with the
    requested id; a list is empty; a delete gives a tombstone. No request
    fails: dry mode cannot know what the server would refuse.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock_lock = threading.Lock()
        self._last_timestamp = 0
        self._prefix = urlsplit(self.server_url).path.rstrip("/")

    def __repr__(self) -> str:
        return f"<DrySession {self.server_url}>"

    def copy(self, **changes: Any) -> Session:
        """A new session like this one: dry too, unless ``dry_mode=False``."""
        changes.setdefault("dry_mode", True)
        return super().copy(**changes)

    def _http(self) -> Any:
        raise KintoException("A DrySession never opens a connection.")  # a guard: never called

    # -- the sender -----------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Log ``request`` and answer it without sending anything."""
        url = utils.urljoin(self.server_url, request.path)
        if request.query:
            url += ("&" if "?" in url else "?") + urlencode(request.query, doseq=True)
        if request.stream:
            self._log(request.method, url, None, request.headers)
            raise KintoException(
                f"Dry mode: {request.method} {url} reads a file from the server, which dry "
                "mode cannot give: nothing was downloaded."
            )
        path = self._route_path(url)
        if request.method == "POST" and path == "/batch" and isinstance(request.body, dict):
            return self._batch(url, request.body)
        body: Any = request.body
        if request.files:
            body = {**(request.body or {}), "files": sorted(_file_names(request.files))}
        self._log(request.method, url, body, request.headers)
        status, headers, answer = self._answer(
            request.method, path, request.body, request.headers or {}, request.files
        )
        return Response(status, headers, answer, simulated=True)

    def _batch(self, url: str, body: Mapping[str, Any]) -> Response:
        subs = body.get("requests") or []
        self._log("POST", url, {"requests": f"{len(subs)} requests"}, None)
        # What every sub-request shares (the batch sends its method and headers
        # once, there); a sub-request's own values win, as on the server.
        defaults = body.get("defaults") or {}
        responses = []
        for sub in subs:
            method = str(sub.get("method", defaults.get("method", "GET"))).upper()
            sub_url = utils.urljoin(self.server_url, sub.get("path", "/"))
            sub_headers = {**(defaults.get("headers") or {}), **(sub.get("headers") or {})}
            self._log(method, sub_url, sub.get("body"), sub_headers, batch=True)
            status, headers, answer = self._answer(
                method, self._route_path(sub_url), sub.get("body"), sub_headers
            )
            responses.append(
                {"status": status, "path": sub.get("path"), "body": answer, "headers": headers}
            )
        return Response(200, {}, {"responses": responses}, simulated=True)

    def _route_path(self, url: str) -> str:
        """The path of ``url`` below the server URL, without the query."""
        return utils.below_prefix(urlsplit(url).path, self._prefix)

    def _timestamp(self) -> int:
        """A ``last_modified`` from the local clock (ms), growing strictly."""
        with self._clock_lock:
            self._last_timestamp = max(self._last_timestamp + 1, int(time.time() * 1000))
            return self._last_timestamp

    def _log(
        self,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str] | None,
        batch: bool = False,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        shown = {k: v for k, v in (headers or {}).items() if k in _LOGGED_HEADERS}
        text = "" if body is None else utils.json_encode(_masked(body)).decode()
        logger.debug(
            "Dry mode, not sent%s: %s %s%s%s",
            " (in a batch)" if batch else "",
            method,
            url,
            "".join(f" [{k}: {v}]" for k, v in shown.items()),
            f" {text}" if text else "",
            extra={
                "kinto_dry": True,
                "kinto_method": method,
                "kinto_url": url,
                "kinto_body": text or None,
            },
        )

    # -- answers ----------------------------------------------------------------

    def _answer(
        self,
        method: str,
        path: str,
        body: Any,
        headers: Mapping[str, str],
        files: Any = None,
    ) -> tuple[int, dict[str, str], Any]:
        """(status, headers, body) as the server would answer, as far as known."""
        name, fields = _match(path)
        timestamp = self._timestamp()
        etag = {"ETag": utils.quote(timestamp)}
        if name == "root":
            return 200, {}, {**DRY_SERVER_INFO, "url": self.server_url + "/"}
        if name in ("heartbeat", "lbheartbeat"):
            return 200, {}, {}
        if name == "flush":
            return 202, {}, {}
        if name == "changeset":
            metadata = {
                "id": fields["collection"],
                "bucket": fields["bucket"],
                "last_modified": timestamp,
            }
            return 200, etag, {"metadata": metadata, "changes": [], "timestamp": timestamp}
        if name == "attachment":
            if method == "DELETE":
                return 204, {}, None
            return 201, {}, _attachment(files)
        if name in _PLURALS or name == "snapshot":
            if method == "POST" and name == "records":
                return 201, {}, self._written(utils.new_id(), "PUT", body, headers, timestamp)
            return 200, {**etag, "Total-Objects": "0"}, None if method == "HEAD" else {"data": []}
        if name in _ID_FIELDS:
            object_id = fields[_ID_FIELDS[name]]
            if method in ("GET", "HEAD"):
                data = {"id": object_id, "last_modified": timestamp}
                answer = None if method == "HEAD" else {"data": data, "permissions": {}}
                return 200, etag, answer
            if method == "DELETE":
                return (
                    200,
                    {},
                    {"data": {"id": object_id, "last_modified": timestamp, "deleted": True}},
                )
            created = method == "PUT" and headers.get("If-None-Match") == "*"
            answer = self._written(object_id, method, body, headers, timestamp)
            return (201 if created else 200), etag, answer
        # A path this library does not build (Session.request with any endpoint).
        return 200, {}, {}

    @staticmethod
    def _written(
        object_id: str, method: str, body: Any, headers: Mapping[str, str], timestamp: int
    ) -> dict[str, Any]:
        """The object a write leaves, as far as what was sent tells."""
        data: dict[str, Any] = {}
        permissions: dict[str, Any] = {}
        if isinstance(body, list):  # a JSON Patch: the operations that set something
            for op in body:
                _apply(op, data, permissions)
        elif isinstance(body, Mapping):
            data = dict(body.get("data") or {})
            permissions = {k: list(v) for k, v in (body.get("permissions") or {}).items()}
            if headers.get("Content-Type") == "application/merge-patch+json":
                data = {k: v for k, v in data.items() if v is not None}
                permissions = {k: v for k, v in permissions.items() if v is not None}
        if "password" in data:
            data["password"] = _MASK  # the server keeps a hash, never the password
        data.update(id=object_id, last_modified=timestamp)
        return {"data": data, "permissions": permissions}


def _match(path: str) -> tuple[str | None, dict[str, str]]:
    for name, regex in _ROUTES:
        found = regex.match(path)
        if found:
            return name, {k: unquote(v) for k, v in found.groupdict().items()}
    return None, {}


def _apply(op: Any, data: dict[str, Any], permissions: dict[str, Any]) -> None:
    """The part of a JSON Patch operation a dry answer can show."""
    if not isinstance(op, Mapping) or op.get("op") not in ("add", "replace"):
        return
    parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")]
    if len(parts) == 3 and parts[1] == "data":
        data[parts[2]] = op.get("value")
    elif len(parts) == 4 and parts[1] == "permissions":
        permissions.setdefault(parts[2], []).append(parts[3])


def _masked(value: Any) -> Any:
    """``value`` with the values of secret fields (passwords) masked, for the log."""
    if isinstance(value, Mapping):
        return {k: _MASK if k in _SECRET_FIELDS else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _file_names(files: Any) -> list[str]:
    items = files.items() if isinstance(files, Mapping) else files
    return [
        f"{field}={spec[0]}" if isinstance(spec, tuple) else str(field) for field, spec in items
    ]


def _attachment(files: Any) -> dict[str, Any]:
    """The attachment metadata kinto-attachment would store, from the local file.

    The file is read (locally) for its size and hash, then put back where it
    was; where the server would store it (``location``) is unknown.
    """
    items = list(files.items() if isinstance(files, Mapping) else files or [])
    if not items:
        return {}
    spec = items[0][1]
    name, handle, mimetype = (
        (*spec, None, None)[:3] if isinstance(spec, tuple) else (None, spec, None)
    )
    digest, size = hashlib.sha256(), 0
    if hasattr(handle, "read"):
        start = handle.tell()
        for chunk in iter(lambda: handle.read(64 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
        handle.seek(start)
    return {
        "filename": name,
        "hash": digest.hexdigest(),
        "location": None,
        "mimetype": mimetype,
        "size": size,
    }
