"""Everyday command-line tools: ``python -m kinto_client`` (or ``kinto-client``).

Subcommands, each built on :mod:`kinto_client.cli_utils` (``-s``, ``-a``,
``-b``, ``-c``, ``--retry``, ``--timeout``, ``-v/-q/-D``):

``info``
    The server's version, settings, capabilities and who you are.
``export``
    Stream a collection's records as JSON lines (one record's data per line)
    to stdout or ``-o FILE``.
``import``
    Write JSON lines (as ``export`` writes them, or whole
    ``{"data": ..., "permissions": ...}`` objects) into a collection, in
    batches, with a progress display.

Humans read stderr (progress, summary, errors); stdout carries only data.
Expected failures (server unreachable, credentials refused, bucket or
collection missing, bad input) end the command with status 1 and one line
``<prog>: error: <reason>``, never a traceback. This module also holds the
error-explaining and running machinery shared with
:mod:`kinto_client.replication`.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from kinto_client import __version__, cli_utils, utils
from kinto_client.client import Client
from kinto_client.exceptions import (
    KintoBatchException,
    KintoConnectionError,
    KintoException,
    KintoHTTPError,
    KintoTimeout,
    describe_body,
)
from kinto_client.payloads import check_permissions
from kinto_client.progress import Progress, format_duration, is_interactive

logger = logging.getLogger(__name__)

__all__ = [
    "DESTINATION",
    "STANDARD",
    "CommandError",
    "Side",
    "build_parser",
    "describe_location",
    "explain_error",
    "main",
    "make_client",
    "progress_for",
    "run_command",
    "say",
]

#: Exit status of a command that failed for an expected reason.
EXIT_FAILURE = 1
#: Exit status when interrupted with Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
#: Exit status when stdout was closed by its reader (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


class CommandError(Exception):
    """An expected failure of a command: its message is the one-line reason shown."""


@dataclass(frozen=True)
class Side:
    """Where a client's settings come from: the options to name in messages,
    and the attributes of the parsed arguments that hold them."""

    #: ``"origin"``, ``"destination"``, or ``""`` for a command with one server
    name: str = ""
    server: str = "-s/--server"
    auth: str = "-a/--auth"
    password_file: str = "--password-file"
    bucket: str = "-b/--bucket"
    collection: str = "-c/--collection"
    #: the prefix of the parsed arguments' names: ``"origin_"`` gives ``args.origin_server``...
    prefix: str = ""
    #: whether the password of a bare user may come from ``$KINTO_CLIENT_PASSWORD``
    environment: bool = True

    @property
    def auth_flag(self) -> str:
        """The short form of the auth option, for examples (``-a``)."""
        return self.auth.split("/")[0]

    @property
    def where(self) -> str:
        """`` on the origin``, or nothing for a command with one server."""
        return f" on the {self.name}" if self.name else ""

    @property
    def location(self) -> str:
        """The bucket and collection options, e.g. ``-b/-c``."""
        if self.prefix:
            return f"{self.bucket}/{self.collection}"
        return "-b/-c"


#: The options of the commands with one server.
STANDARD = Side()
#: The destination of ``kinto-client-replicate``: the standard options.
DESTINATION = Side(name="destination")


# -- explaining failures ---------------------------------------------------------------


def describe_location(path: str) -> str:
    """Name the Kinto object a request path points at.

    ``/v1/buckets/b/collections/c/records`` gives ``"collection 'c' in
    bucket 'b'"``; anything unrecognised gives the path itself.
    """
    segments = [unquote(s) for s in urlsplit(path).path.split("/") if s]
    if "buckets" in segments:
        segments = segments[segments.index("buckets") :]
    # (kind, id) pairs from the top: buckets/b/collections/c/records/r
    names = dict(zip(segments[::2], segments[1::2]))
    bucket, collection = names.get("buckets"), names.get("collections")
    record, group = names.get("records"), names.get("groups")
    where = f" in bucket {bucket!r}" if bucket else ""
    if record and collection:
        return f"record {record!r} of collection {collection!r}{where}"
    if collection:
        return f"collection {collection!r}{where}"
    if group:
        return f"group {group!r}{where}"
    if bucket:
        return f"bucket {bucket!r}"
    return path or "/"


def _verb(method: str) -> str:
    method = method.upper()
    if method in ("GET", "HEAD"):
        return "read"
    if method == "DELETE":
        return "delete"
    return "write"


def _explain_status(
    status: int | None, method: str, path: str, body: Any, authenticated: bool, side: Side
) -> str:
    """One line for an HTTP error status on ``method path``."""
    where = describe_location(path) + side.where
    message = body.get("message") if isinstance(body, Mapping) else None
    if status == 401:
        if authenticated:
            return (
                f"401 Unauthorized: the server refused these credentials to {_verb(method)} "
                f"{where}; check {side.auth}"
            )
        return (
            f"401 Unauthorized: {where} needs credentials; "
            f"pass {side.auth_flag} user:password or {side.auth_flag} 'Bearer <token>'"
        )
    if status == 403:
        owner = (
            "these credentials" if authenticated else f"anonymous users (no {side.auth_flag} given)"
        )
        if _verb(method) == "read":
            return (
                f"403 Forbidden: {owner} may not read {where}: it does not exist or is not "
                "shared with you (Kinto answers 403, not 404, for a bucket you cannot read); "
                f"check {side.location} and {side.auth_flag}"
            )
        return (
            f"403 Forbidden: {owner} may not {_verb(method)} {where}: ask its owner for "
            f"write permission, or check {side.location} and {side.auth_flag}"
        )
    if status == 404:
        details = body.get("details") if isinstance(body, Mapping) else None
        if isinstance(details, Mapping) and details.get("resource_name"):
            missing = f"{details['resource_name']} {details.get('id')!r}"
            if not where.startswith(missing):  # a parent is missing, e.g. the collection
                where = missing + side.where
        return f"404 Not Found: {where} does not exist"
    if status == 412:
        return f"412 Precondition Failed: {where} was modified meanwhile; try again"
    if status is not None and status >= 500:
        return f"{status} server error on {method.upper()} {where}: {message or 'no details'}"
    return f"{status} on {method.upper()} {where}: {message or describe_body(body)}"


def explain_error(exc: BaseException, *, authenticated: bool = True, side: Side = STANDARD) -> str:
    """A one-line, human explanation of an expected failure of a command.

    ``authenticated`` tells whether credentials were given, to explain
    401/403 answers (a server asking for credentials, or refusing them);
    ``side`` names the options to check (the origin's, for a replication).
    """
    if isinstance(exc, CommandError):
        text = str(exc)
    elif isinstance(exc, KintoTimeout):
        server = f"the {side.name} server: " if side.name else ""
        text = f"{server}{exc} Use --timeout to wait longer."
    elif isinstance(exc, KintoConnectionError):
        server = f"the {side.name} server" if side.name else "the server"
        text = f"cannot reach {server}: {exc} Is it running, and is its URL ({side.server}) right?"
    elif isinstance(exc, KintoBatchException):
        first = exc.failures[0] if exc.failures else None
        if first is not None and first["status"] is not None:
            request = first["request"]
            reason = _explain_status(
                first["status"],
                request["method"],
                request["path"],
                first["body"],
                authenticated,
                side,
            )
            text = f"{len(exc.failures)} of {len(exc.results)} batch operations failed; {reason}"
        elif exc.exceptions:
            return explain_error(exc.exceptions[0], authenticated=authenticated, side=side)
        else:
            text = str(exc)
    elif isinstance(exc, KintoHTTPError):
        request = exc.request
        response = exc.response
        body: Any = None
        try:
            body = response.json() if response is not None else None
        except ValueError:
            body = None
        if request is not None and exc.status_code is not None:
            text = _explain_status(
                exc.status_code,
                request.method or "GET",
                request.url or "",
                body,
                authenticated,
                side,
            )
        else:
            text = str(exc)
    elif isinstance(exc, OSError):
        name = f"{exc.filename}: " if exc.filename else ""
        text = f"{name}{exc.strerror or exc}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def run_command(
    body: Callable[[], int],
    *,
    prog: str,
    authenticated: bool | Callable[[BaseException], tuple[bool, Side]] = True,
    stderr: IO[str] | None = None,
) -> int:
    """Run ``body`` and turn every failure into ``prog: error: reason`` and status 1.

    Expected failures are :class:`~kinto_client.exceptions.KintoException`,
    :class:`CommandError` and ``OSError`` (files); ``authenticated`` is a
    bool, or a function giving ``(authenticated, side)`` for an exception
    (to name the replication side at fault). Ctrl-C exits with 130, a closed
    stdout (``| head``) with 141, silently. Anything else is a bug: one line
    too, and its traceback only with ``-D`` (the ``kinto_client`` logger at
    debug level).
    """
    err = stderr if stderr is not None else sys.stderr
    try:
        return body()
    except BrokenPipeError:
        # The reader of stdout went away: stop quietly, like a tool killed by SIGPIPE.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        err.write(f"\n{prog}: interrupted\n")
        return EXIT_INTERRUPTED
    except (KintoException, CommandError, OSError) as exc:
        if callable(authenticated):
            given, side = authenticated(exc)
        else:
            given, side = authenticated, STANDARD
        err.write(f"{prog}: error: {explain_error(exc, authenticated=given, side=side)}\n")
        return EXIT_FAILURE
    except Exception as exc:  # a bug: still no traceback unless asked for
        logger.debug("Unexpected error", exc_info=True)
        text = " ".join(str(exc).split()) or "no details"
        err.write(
            f"{prog}: error: unexpected {type(exc).__name__}: {text} "
            "(a bug: please report it; -D shows the traceback)\n"
        )
        return EXIT_FAILURE


# -- shared helpers for the tools --------------------------------------------------------


def is_quiet(args: argparse.Namespace) -> bool:
    """True with ``-q/--quiet``."""
    return getattr(args, "verbosity", None) == logging.CRITICAL


def say(args: argparse.Namespace, message: str) -> None:
    """Print a message for humans on stderr, unless ``-q``."""
    if not is_quiet(args):
        print(message, file=sys.stderr, flush=True)


def progress_for(
    args: argparse.Namespace, label: str, total: int | None, enabled: bool | None = None
) -> Progress:
    """The progress display of a command: on stderr, off with ``-q`` or off a terminal."""
    if is_quiet(args):
        enabled = False
    return Progress(label, total, stream=sys.stderr, enabled=enabled)


def make_client(args: argparse.Namespace, side: Side = STANDARD) -> Client:
    """A client for one side of the command, from the parsed ``args``.

    The credentials are found now, after parsing (see
    :func:`kinto_client.cli_utils.resolve_auth`); a missing server, missing
    credentials or a bad URL is a :class:`CommandError` naming ``side``'s options.
    """
    values = {
        name: getattr(args, side.prefix + name, None)
        for name in ("server", "auth", "password_file", "bucket", "collection")
    }
    if not values["server"]:
        raise CommandError(
            f"no {side.name + ' ' if side.name else ''}server given: "
            f"pass {side.server} http://host:8888/v1"
        )
    options = argparse.Namespace(**{**vars(args), **values})
    try:
        auth = cli_utils.resolve_auth(
            options,
            option=side.auth,
            password_file_option=side.password_file,
            environment=side.environment,
        )
    except cli_utils.CredentialsError as exc:
        raise CommandError(str(exc)) from None
    setattr(args, side.prefix + "auth", auth)
    setattr(args, side.prefix + "password_file", None)  # read once
    try:
        return cli_utils.create_client_from_args(options)
    except (ValueError, TypeError, AttributeError) as exc:
        raise CommandError(f"bad server URL for {side.server}: {exc}") from None


def _location(client: Client) -> str:
    return f"{client.server_url}/buckets/{client.bucket_name}/collections/{client.collection_name}"


def _require_collection(args: argparse.Namespace, command: str) -> None:
    if not args.collection:
        raise CommandError(f"{command} needs a collection: pass -c/--collection NAME")


# -- info ----------------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    """Print the server's version, settings, capabilities and who you are."""
    client = make_client(args)
    info = client.server_info()
    if not isinstance(info, dict) or "http_api_version" not in info:
        raise CommandError(
            f"{client.server_url} answered, but not like a Kinto server: "
            "check -s/--server (it includes the prefix, e.g. /v1)"
        )
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    user = info.get("user") or {}
    if user:
        who = user.get("id", "?")
        if user.get("bucket"):
            who += f" (personal bucket: {user['bucket']})"
    elif args.auth is not None:
        who = "anonymous: the server did not recognise these credentials"
    else:
        who = "anonymous (no -a given)"
    settings = info.get("settings") or {}
    rows = [
        ("server", info.get("url") or client.server_url),
        ("project", f"{info.get('project_name', '?')} {info.get('project_version', '?')}"),
        ("HTTP API", info.get("http_api_version", "?")),
        ("user", who),
        ("batch max requests", settings.get("batch_max_requests", "?")),
        ("read-only", "yes" if settings.get("readonly") else "no"),
        ("capabilities", ", ".join(sorted(info.get("capabilities") or {})) or "none"),
    ]
    width = max(len(label) for label, _ in rows) + 1
    for label, value in rows:
        print(f"{label + ':':<{width}} {value}")
    return 0


# -- export --------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    """Write a collection's records as JSON lines to stdout or ``-o FILE``."""
    _require_collection(args, "export")
    to_stdout = args.output in (None, "-")
    if not to_stdout:
        _check_output(Path(args.output))
    client = make_client(args)
    total = client.count_records()  # also: a clear 403/404 before any output
    started = time.monotonic()
    # Records on the same terminal as the progress line would garble each other.
    quiet = to_stdout and is_interactive(sys.stdout)
    with progress_for(args, "Exporting", total, enabled=False if quiet else None) as progress:
        if to_stdout:
            sys.stdout.flush()
            binary = getattr(sys.stdout, "buffer", None)  # None: a text-only stand-in
            out = binary if binary is not None else _TextToBytes(sys.stdout)
            count = _write_records(client, out, progress)
            out.flush()
        else:
            count = _export_to_file(client, Path(args.output), progress)
    where = "stdout" if to_stdout else args.output
    elapsed = time.monotonic() - started
    say(
        args,
        f"Exported {count} records from {_location(client)} to {where} "
        f"in {format_duration(elapsed)}.",
    )
    return 0


class _TextToBytes:
    """Write UTF-8 bytes to a text stream (``sys.stdout`` replaced by a ``StringIO``)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, data: bytes) -> int:
        return self.stream.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.stream.flush()


def _write_records(client: Client, out: IO[bytes] | _TextToBytes, progress: Progress) -> int:
    count = 0
    for record in client.iter_records(_sort="id"):
        out.write(utils.json_dumps(record) + b"\n")
        count += 1
        progress.advance()
    return count


def _check_output(path: Path) -> None:
    """Refuse an ``-o`` path that cannot be written, naming it, before anything is read."""
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CommandError(f"cannot write {path}: it is a directory; give a file name to -o")
    if not directory.is_dir():
        raise CommandError(f"cannot write {path}: the directory {directory} does not exist")


def _export_to_file(client: Client, path: Path, progress: Progress) -> int:
    """Write to a temporary file beside ``path``, renamed at the end: a failed
    export never leaves a half-written file behind. Errors name ``path``."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle = tempfile.NamedTemporaryFile(
            "wb", dir=directory, prefix=f".{path.name}.", suffix=".part", delete=False
        )
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with handle:
            count = _write_records(client, handle, progress)
        try:
            os.replace(handle.name, path)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count


# -- import --------------------------------------------------------------------------


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large for a JSON number")
    return number


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (JSON has no NaN or Infinity)")


def _decoded(lines: Iterable[bytes | str], source: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise CommandError(
                    f"{source} line {number}: not UTF-8 text (byte {exc.start + 1}); "
                    "convert the file to UTF-8"
                ) from None
        yield number, line


def _record_id(
    value: Any, number: int, source: str, slugify: bool, slugs: dict[str, tuple[Any, int]]
) -> Any:
    """The id to send for a line's ``id``: as given, or its slug with ``slugify``.

    Without ``slugify``, an id the client would rewrite (4.0's
    :func:`~kinto_client.utils.slugify`) is refused, naming the line.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CommandError(f"{source} line {number}: 'id' must be a string")
    text = str(value)
    if utils.is_valid_id(text):
        return value
    slug = utils.slugify(value)
    if not slugify:
        hint = (
            f"it would be stored as {slug!r}; fix the id, or pass --slugify-ids to store it so"
            if slug and utils.is_valid_id(slug)
            else "fix the id"
        )
        raise CommandError(
            f"{source} line {number}: id {text!r} is not a valid Kinto id (letters, digits, "
            f"'-' and '_', starting with a letter or a digit): {hint}"
        )
    if not slug or not utils.is_valid_id(slug):
        raise CommandError(f"{source} line {number}: id {text!r} has no valid slug; fix the id")
    other = slugs.setdefault(slug, (value, number))
    if other[0] != value:
        raise CommandError(
            f"{source} line {number}: id {text!r} becomes {slug!r}, like the id {str(other[0])!r}"
            f" of line {other[1]}: one record would overwrite the other; fix one of the ids"
        )
    return slug


def read_json_lines(
    lines: Iterable[bytes | str], source: str, *, slugify: bool = False
) -> list[dict[str, Any]]:
    """Parse JSON lines (UTF-8 bytes or text) into records to write; blank lines are skipped.

    Each line is a record's data (``{"id": ..., ...}``), or a whole object
    ``{"data": {...}, "permissions": {...}}``. ``last_modified`` is dropped:
    the destination gives its own timestamps. An id that is not a valid
    Kinto id is refused, unless ``slugify`` (then it is replaced by its slug,
    and two ids with the same slug are refused). Raises :class:`CommandError`
    naming the first bad line, before anything is sent.
    """
    records: list[dict[str, Any]] = []
    slugs: dict[str, tuple[Any, int]] = {}
    for number, line in _decoded(lines, source):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=_finite, parse_constant=_not_json)
        except RecursionError:
            raise CommandError(f"{source} line {number}: JSON nested too deeply") from None
        except ValueError as exc:
            reason = " ".join(str(exc).split())
            raise CommandError(f"{source} line {number}: not valid JSON ({reason})") from None
        if not isinstance(value, dict):
            raise CommandError(
                f"{source} line {number}: expected a JSON object (a record), "
                f"got {type(value).__name__}"
            )
        if set(value) <= {"data", "permissions"} and isinstance(value.get("data"), dict):
            data, permissions = dict(value["data"]), value.get("permissions")
            if permissions is not None:
                if not isinstance(permissions, dict):
                    raise CommandError(f"{source} line {number}: 'permissions' must be an object")
                try:
                    permissions = check_permissions(permissions)
                except TypeError as exc:
                    raise CommandError(f"{source} line {number}: {exc}") from None
        else:
            data, permissions = dict(value), None
        data.pop("last_modified", None)
        if data.get("id") is not None:
            data["id"] = _record_id(data["id"], number, source, slugify, slugs)
        records.append({"data": data, "permissions": permissions})
    return records


def _read_input(args: argparse.Namespace) -> list[dict[str, Any]]:
    source = args.input or "-"
    if source == "-":
        stdin = getattr(sys.stdin, "buffer", None)  # None: a text-only stand-in
        return read_json_lines(stdin or sys.stdin, "stdin", slugify=args.slugify_ids)
    if Path(source).is_dir():
        raise CommandError(f"{source} is a directory; give the file of JSON lines to read")
    with open(source, "rb") as handle:
        return read_json_lines(handle, source, slugify=args.slugify_ids)


def cmd_import(args: argparse.Namespace) -> int:
    """Write JSON lines into a collection, in batches."""
    _require_collection(args, "import")
    if (args.input or "-") == "-" and args.password_file == "-":
        raise CommandError(
            "stdin cannot carry both the records and the password: "
            "give the records as FILE, or the password in another file"
        )
    client = make_client(args)  # first: the password may come from stdin
    records = _read_input(args)
    if args.create:
        client.create_bucket(if_not_exists=True)
        client.create_collection(if_not_exists=True)
    else:
        try:
            client.get_collection()
        except KintoHTTPError as exc:
            if exc.status_code in (403, 404):
                reason = explain_error(exc, authenticated=args.auth is not None)
                raise CommandError(f"{reason} (pass --create to create it)") from None
            raise
    step = args.batch_size or client.batch_max_requests
    started = time.monotonic()
    failed = 0
    with progress_for(args, "Importing", len(records)) as progress:
        for chunk in utils.chunks(records, step):
            with client.batch() as batch:
                for record in chunk:
                    if record["data"].get("id") is None:
                        batch.create_record(record["data"], permissions=record["permissions"])
                    else:
                        batch.update_record(
                            record["data"], permissions=record["permissions"], safe=False
                        )
            failed += len(batch.failures())  # with --ignore-batch-4xx; else it raised
            progress.advance(len(chunk))
    elapsed = time.monotonic() - started
    skipped = f" ({failed} failed and ignored, see the warnings)" if failed else ""
    say(
        args,
        f"Imported {len(records) - failed} records into {_location(client)}{skipped} "
        f"in {format_duration(elapsed)}.",
    )
    return 0


# -- the parser ------------------------------------------------------------------------

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "info": cmd_info,
    "export": cmd_export,
    "import": cmd_import,
}


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value!r}")
    return number


def build_parser(prog: str = "kinto-client") -> argparse.ArgumentParser:
    """The ``kinto-client`` parser: one subparser per command."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Everyday operations on a Kinto server. "
        "Run '%(prog)s COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    info = commands.add_parser(
        "info",
        help="show the server's version, settings, capabilities and your user id",
        description="Show the server's version, settings, capabilities and who you are "
        "to it (the user id of -a's credentials).",
    )
    cli_utils.add_parser_options(
        info, include_bucket=False, include_collection=False, extended=True
    )
    info.add_argument("--json", action="store_true", help="print the server's raw JSON answer")

    export = commands.add_parser(
        "export",
        help="write a collection's records as JSON lines",
        description="Write every record of a collection, one JSON object per line "
        "(sorted by id), to stdout or to -o FILE. Progress and the summary go to stderr.",
    )
    cli_utils.add_parser_options(export, extended=True)
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of stdout ('-': stdout)"
    )

    importer = commands.add_parser(
        "import",
        help="write JSON lines into a collection (batched)",
        description="Read records as JSON lines (as 'export' writes them, or whole "
        '{"data": ..., "permissions": ...} objects) from FILE or stdin and write '
        "them into a collection in batches: records with an id replace the record "
        "of that id, records without one are created with a new id. Every line is "
        "checked before anything is sent; an id that is not a valid Kinto id is "
        "refused, unless --slugify-ids.",
    )
    cli_utils.add_parser_options(importer, extended=True)
    importer.add_argument(
        "input", nargs="?", metavar="FILE", help="the JSON lines to read (default or '-': stdin)"
    )
    importer.add_argument(
        "--create",
        action="store_true",
        help="create the bucket and the collection if they do not exist",
    )
    importer.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="records per batch request (default: the server's batch_max_requests)",
    )
    importer.add_argument(
        "--slugify-ids",
        action="store_true",
        help="store an invalid id as its slug ('Hôtel de ville' as 'hotel-de-ville') "
        "instead of refusing it",
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "kinto-client") -> int:
    """Entry point of ``kinto-client`` / ``python -m kinto_client``; returns the exit status."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    cli_utils.setup_logger(logger, args)
    command = _COMMANDS[args.command]
    return run_command(
        lambda: command(args), prog=f"{prog} {args.command}", authenticated=args.auth is not None
    )
