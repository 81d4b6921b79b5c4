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
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from kinto_client import cli_utils, utils
from kinto_client._version import __version__
from kinto_client.client import Client
from kinto_client.exceptions import (
    KintoBatchException,
    KintoConnectionError,
    KintoException,
    KintoHTTPError,
    KintoTimeout,
    describe_body,
)
from kinto_client.progress import Progress, format_duration, is_interactive

logger = logging.getLogger(__name__)

__all__ = [
    "CommandError",
    "build_parser",
    "count_records",
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
    status: int | None, method: str, path: str, body: Any, authenticated: bool
) -> str:
    """One line for an HTTP error status on ``method path``."""
    where = describe_location(path)
    message = body.get("message") if isinstance(body, Mapping) else None
    if status == 401:
        if authenticated:
            return (
                f"401 Unauthorized: the server refused these credentials to {_verb(method)} "
                f"{where}; check -a/--auth"
            )
        return (
            f"401 Unauthorized: {where} needs credentials; "
            "pass -a user:password or -a 'Bearer <token>'"
        )
    if status == 403:
        owner = "these credentials" if authenticated else "anonymous users (no -a given)"
        if _verb(method) == "read":
            return (
                f"403 Forbidden: {owner} may not read {where}: it does not exist or is not "
                "shared with you (Kinto answers 403, not 404, for a bucket you cannot read); "
                "check -b/-c and -a"
            )
        return (
            f"403 Forbidden: {owner} may not {_verb(method)} {where}: ask its owner for "
            "write permission, or check -b/-c and -a"
        )
    if status == 404:
        details = body.get("details") if isinstance(body, Mapping) else None
        if isinstance(details, Mapping) and details.get("resource_name"):
            missing = f"{details['resource_name']} {details.get('id')!r}"
            if not where.startswith(missing):  # a parent is missing, e.g. the collection
                where = missing
        return f"404 Not Found: {where} does not exist"
    if status == 412:
        return f"412 Precondition Failed: {where} was modified meanwhile; try again"
    if status is not None and status >= 500:
        return f"{status} server error on {method.upper()} {where}: {message or 'no details'}"
    return f"{status} on {method.upper()} {where}: {message or describe_body(body)}"


def explain_error(exc: BaseException, *, authenticated: bool = True) -> str:
    """A one-line, human explanation of an expected failure of a command.

    ``authenticated`` tells whether credentials were given, to explain
    401/403 answers (a server asking for credentials, or refusing them).
    """
    if isinstance(exc, CommandError):
        text = str(exc)
    elif isinstance(exc, KintoTimeout):
        text = f"{exc} Use --timeout to wait longer."
    elif isinstance(exc, KintoConnectionError):
        text = f"cannot reach the server: {exc} Is it running, and is its URL right?"
    elif isinstance(exc, KintoBatchException):
        first = exc.failures[0] if exc.failures else None
        if first is not None and first["status"] is not None:
            request = first["request"]
            reason = _explain_status(
                first["status"], request["method"], request["path"], first["body"], authenticated
            )
            text = f"{len(exc.failures)} of {len(exc.results)} batch operations failed; {reason}"
        elif exc.exceptions:
            return explain_error(exc.exceptions[0], authenticated=authenticated)
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
                exc.status_code, request.method or "GET", request.url or "", body, authenticated
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
    body: Callable[[], int], *, prog: str, authenticated: bool = True, stderr: IO[str] | None = None
) -> int:
    """Run ``body`` and turn expected failures into ``prog: error: reason`` and status 1.

    Expected failures are :class:`~kinto_client.exceptions.KintoException`,
    :class:`CommandError`, ``OSError`` (files) and ``ValueError``/``TypeError``
    raised while checking options. Ctrl-C exits with 130, a closed stdout
    (``| head``) with 141, silently. Anything else is a bug and keeps its
    traceback.
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
        err.write(f"{prog}: error: {explain_error(exc, authenticated=authenticated)}\n")
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


def make_client(
    server: str | None, args: argparse.Namespace, option: str = "-s/--server", **overrides: Any
) -> Client:
    """A client for ``server`` with the options of ``args``; a bad URL is a :class:`CommandError`.

    ``overrides`` (``auth``, ``bucket``, ``collection``...) replace the values
    read from ``args``.
    """
    if not server:
        raise CommandError(f"no server given: pass {option} http://host:8888/v1")
    options = argparse.Namespace(**{**vars(args), "server": server, **overrides})
    try:
        return cli_utils.create_client_from_args(options)
    except (ValueError, TypeError, AttributeError) as exc:
        raise CommandError(f"bad server URL for {option}: {exc}") from None


def count_records(client: Client, bucket: str | None = None, collection: str | None = None) -> int:
    """How many records a collection holds (``HEAD``: the ``Total-Objects`` header).

    Raises :class:`~kinto_client.exceptions.KintoHTTPError` when the
    collection cannot be read, like listing it would.
    """
    return client.count_records(collection=collection, bucket=bucket)


def _location(client: Client) -> str:
    return f"{client.server_url}/buckets/{client.bucket_name}/collections/{client.collection_name}"


def _require_collection(args: argparse.Namespace, command: str) -> None:
    if not args.collection:
        raise CommandError(f"{command} needs a collection: pass -c/--collection NAME")


# -- info ----------------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    """Print the server's version, settings, capabilities and who you are."""
    client = make_client(args.server, args)
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
    client = make_client(args.server, args)
    total = count_records(client)  # also: a clear 403/404 before any output
    started = time.monotonic()
    to_stdout = args.output in (None, "-")
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


def _export_to_file(client: Client, path: Path, progress: Progress) -> int:
    """Write to a temporary file beside ``path``, renamed at the end: a failed
    export never leaves a half-written file behind."""
    directory = path.parent if str(path.parent) else Path(".")
    handle = tempfile.NamedTemporaryFile(
        "wb", dir=directory, prefix=f".{path.name}.", suffix=".part", delete=False
    )
    try:
        with handle:
            count = _write_records(client, handle, progress)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count


# -- import --------------------------------------------------------------------------


def read_json_lines(lines: Iterator[str] | IO[str], source: str) -> list[dict[str, Any]]:
    """Parse JSON lines into records to write (blank lines are skipped).

    Each line is a record's data (``{"id": ..., ...}``), or a whole object
    ``{"data": {...}, "permissions": {...}}``. ``last_modified`` is dropped:
    the destination gives its own timestamps. Raises :class:`CommandError`
    naming the first bad line, before anything is sent.
    """
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise CommandError(f"{source} line {number}: not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise CommandError(
                f"{source} line {number}: expected a JSON object (a record), "
                f"got {type(value).__name__}"
            )
        if set(value) <= {"data", "permissions"} and isinstance(value.get("data"), dict):
            data, permissions = dict(value["data"]), value.get("permissions")
            if permissions is not None and not isinstance(permissions, dict):
                raise CommandError(f"{source} line {number}: 'permissions' must be an object")
        else:
            data, permissions = dict(value), None
        data.pop("last_modified", None)
        record_id = data.get("id")
        if record_id is not None and not isinstance(record_id, (str, int)):
            raise CommandError(f"{source} line {number}: 'id' must be a string")
        records.append({"data": data, "permissions": permissions})
    return records


def cmd_import(args: argparse.Namespace) -> int:
    """Write JSON lines into a collection, in batches."""
    _require_collection(args, "import")
    source = args.input or "-"
    if source == "-":
        records = read_json_lines(sys.stdin, "stdin")
    else:
        with open(source, encoding="utf-8-sig") as handle:
            records = read_json_lines(handle, source)
    client = make_client(args.server, args)
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
    cli_utils.add_parser_options(info, include_bucket=False, include_collection=False)
    info.add_argument("--json", action="store_true", help="print the server's raw JSON answer")

    export = commands.add_parser(
        "export",
        help="write a collection's records as JSON lines",
        description="Write every record of a collection, one JSON object per line "
        "(sorted by id), to stdout or to -o FILE. Progress and the summary go to stderr.",
    )
    cli_utils.add_parser_options(export)
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
        "checked before anything is sent.",
    )
    cli_utils.add_parser_options(importer)
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
