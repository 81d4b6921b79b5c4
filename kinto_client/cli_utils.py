"""Turn argparse options into a configured :class:`~kinto_client.Client`.

:func:`add_parser_options` builds kinto-client 4.0's options (``-s``,
``-a``, ``-b``, ``-c``, ``-v``, ``-q``, ``-D``) with 4.0's defaults and help
texts, so a 4.0 script keeps working, including one that adds its own
``--timeout`` or ``--retry``. ``add_parser_options(extended=True)`` adds the
newer options, as the project's own commands do: ``--retry``,
``--retry-after``, ``--timeout``, ``--ignore-batch-4xx``,
``--password-file``, ``'Bearer <token>'`` in ``-a``, and defaults read from
the environment (:data:`ENV_SERVER_URL`, :data:`ENV_AUTH`,
:data:`ENV_PASSWORD`).

Where the credentials come from, first found wins:

1. ``-a user:password`` or ``-a 'Bearer <token>'``;
2. ``-a user`` with the password from ``--password-file FILE`` (``-``: stdin),
   then ``$KINTO_CLIENT_PASSWORD``, then a prompt (only on a terminal);
3. ``$KINTO_CLIENT_AUTH`` (same forms as ``-a``; a bare user takes its
   password as in 2);
4. the script's ``default_auth``.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kinto_client.auth import parse_bearer
from kinto_client.client import Client

__all__ = [
    "ENV_AUTH",
    "ENV_PASSWORD",
    "ENV_SERVER_URL",
    "AuthAction",
    "CredentialsError",
    "NeedsPassword",
    "add_parser_options",
    "ask_password",
    "create_client_from_args",
    "get_auth",
    "parse_auth_option",
    "resolve_auth",
    "set_parser_server_options",
    "setup_logger",
]

#: Default of ``-s`` with ``extended=True``.
ENV_SERVER_URL = "KINTO_CLIENT_SERVER_URL"
#: Default of ``-a`` with ``extended=True`` (``user:password``, ``Bearer <token>`` or ``user``).
ENV_AUTH = "KINTO_CLIENT_AUTH"
#: The password of a bare ``-a user`` (or ``KINTO_CLIENT_AUTH=user``) when no ``--password-file``.
ENV_PASSWORD = "KINTO_CLIENT_PASSWORD"

#: Set on the namespace by ``add_parser_options(extended=True)``: the newer options are there.
EXTENDED_MARKER = "kinto_client_options"


class CredentialsError(ValueError):
    """Credentials cannot be had: the message says why and what to pass (never a secret)."""


class Credentials(tuple):  # type: ignore[type-arg]
    """``(user, password)`` from ``-a``: a plain tuple whose repr hides the
    password, so that logging the parsed arguments never shows it."""

    def __repr__(self) -> str:
        return f"({self[0]!r}, '***')"


class Token(str):
    """``Bearer <token>`` from ``-a``: a plain string whose repr hides the token."""

    def __repr__(self) -> str:
        return repr(self.split(None, 1)[0] + " ***")


@dataclass(frozen=True)
class NeedsPassword:
    """``-a user`` without a password (``extended=True``): :func:`resolve_auth`
    finds it after parsing (password file, environment, prompt)."""

    user: str


@dataclass(frozen=True)
class _FromEnvironment:
    """The default of ``-a``, read from :data:`ENV_AUTH`; parsed by :func:`resolve_auth`."""

    text: str

    def __repr__(self) -> str:
        return f"${ENV_AUTH}"


def _has_terminal() -> bool:
    try:
        return sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def ask_password(user: str) -> str:
    """Ask for ``user``'s password on the terminal, without echo (4.0's prompt text).

    Raises :class:`CredentialsError` when there is no terminal to ask on
    (input from a pipe or a file, a cron job...).
    """
    if not _has_terminal():
        raise CredentialsError(f"no password for {user!r} and no terminal to ask for it")
    try:
        return getpass.getpass(f"Please enter a password for {user}: ")
    except EOFError:
        raise CredentialsError(f"no password given for {user!r}") from None


def get_auth(value: str) -> Any:
    """Parse ``-a/--auth`` as 4.0 does: ``user:password`` gives ``(user,
    password)``; a bare ``user`` asks for the password (see :func:`ask_password`).

    The tuple's repr hides the password.
    """
    if ":" in value:
        user, password = value.split(":", 1)
        return Credentials((user, password))
    return Credentials((value, ask_password(value)))


def parse_auth_option(value: str) -> Credentials | Token | NeedsPassword:
    """Parse ``-a/--auth`` with ``extended=True``, without asking anything.

    ``user:password`` gives a :class:`Credentials` tuple, ``Bearer <token>``
    (any ``Bearer+X`` type) a :class:`Token` string, a bare ``user`` a
    :class:`NeedsPassword` (see :func:`resolve_auth`). Raises
    ``argparse.ArgumentTypeError`` (a usage error) for an empty value or a
    malformed token.
    """
    if not value.strip():
        raise argparse.ArgumentTypeError(
            "empty credentials: pass user:password or 'Bearer <token>'"
        )
    try:
        bearer = parse_bearer(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if bearer is not None:
        return Token(f"{bearer[0]} {bearer[1]}")
    if ":" in value:
        user, password = value.split(":", 1)
        if not user:
            raise argparse.ArgumentTypeError("no user before ':': pass user:password")
        return Credentials((user, password))
    return NeedsPassword(value)


class AuthAction(argparse.Action):
    """Store ``-a/--auth`` parsed by :func:`get_auth` (4.0's action).

    A bare user is asked for the password while parsing, as in 4.0, but only
    on a terminal: without one, the parser reports a usage error instead.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if values is not None:
            try:
                setattr(namespace, self.dest, get_auth(str(values)))
            except CredentialsError as exc:
                option = option_string or "-a"
                raise argparse.ArgumentError(self, f"{exc}: pass {option} USER:PASSWORD") from None


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, got {value!r}")
    return number


def _seconds(value: str, *, zero: bool) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not (number >= 0 if zero else number > 0) or number == float("inf"):
        least = "0 or more" if zero else "more than 0"
        raise argparse.ArgumentTypeError(f"expected a number of seconds, {least}, got {value!r}")
    return number


def _timeout(value: str) -> float:
    return _seconds(value, zero=False)


def _retry_after(value: str) -> float:
    return _seconds(value, zero=True)


def add_parser_options(
    parser: argparse.ArgumentParser | None = None,
    default_server: str | None = None,
    default_auth: Any = None,
    default_bucket: str | None = None,
    default_collection: str | None = None,
    include_bucket: bool = True,
    include_collection: bool = True,
    *,
    extended: bool = False,
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """Add 4.0's server, auth, bucket, collection and verbosity options to
    ``parser`` (created from ``kwargs`` when not given), and return it.

    ``extended=True`` also adds ``--retry``, ``--retry-after``, ``--timeout``,
    ``--ignore-batch-4xx`` and ``--password-file``, accepts
    ``'Bearer <token>'`` in ``-a``, takes ``-s`` and ``-a`` from the
    environment when not given (:data:`ENV_SERVER_URL`, :data:`ENV_AUTH`),
    and leaves a bare ``-a user``'s password to :func:`resolve_auth` (called by
    :func:`create_client_from_args`), after parsing.
    """
    if parser is None:
        parser = argparse.ArgumentParser(**kwargs)
    if not extended:
        _add_4_0_options(
            parser,
            default_server,
            default_auth,
            default_bucket,
            default_collection,
            include_bucket,
            include_collection,
        )
        return parser

    server = os.environ.get(ENV_SERVER_URL) or default_server
    parser.add_argument(
        "-s",
        "--server",
        metavar="URL",
        default=server,
        help="the server URL with its prefix, e.g. http://localhost:8888/v1 "
        f"(default: ${ENV_SERVER_URL})",
    )
    auth = _FromEnvironment(os.environ[ENV_AUTH]) if os.environ.get(ENV_AUTH) else default_auth
    parser.add_argument(
        "-a",
        "--auth",
        metavar="AUTH",
        type=parse_auth_option,
        default=auth,
        help="credentials: user:password, 'Bearer <token>', or a user alone whose password "
        f"comes from --password-file, ${ENV_PASSWORD} or a prompt (default: ${ENV_AUTH})",
    )
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help="read the password of -a USER from the first line of FILE ('-': stdin)",
    )
    if include_bucket:
        parser.add_argument(
            "-b", "--bucket", metavar="BUCKET", default=default_bucket, help="the bucket"
        )
    if include_collection:
        parser.add_argument(
            "-c",
            "--collection",
            metavar="COLLECTION",
            default=default_collection,
            help="the collection",
        )
    _add_verbosity(
        parser, "show progress messages", "show only critical errors", "show debug messages too"
    )
    parser.add_argument(
        "--retry",
        metavar="N",
        type=_non_negative_int,
        default=0,
        help="retry a failed request N times (default: 0)",
    )
    parser.add_argument(
        "--retry-after",
        metavar="SECONDS",
        type=_retry_after,
        default=None,
        help="wait SECONDS between retries (default: the delay the server asks for)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_timeout,
        default=None,
        help="give up on the server after SECONDS (default: 10 to connect, 60 to read)",
    )
    parser.add_argument(
        "--ignore-batch-4xx",
        action="store_true",
        default=False,
        help="log 4xx failures inside batch requests instead of stopping",
    )
    parser.set_defaults(**{EXTENDED_MARKER: True})
    return parser


def _add_4_0_options(
    parser: argparse.ArgumentParser,
    default_server: str | None,
    default_auth: Any,
    default_bucket: str | None,
    default_collection: str | None,
    include_bucket: bool,
    include_collection: bool,
) -> None:
    """kinto-client 4.0's options, defaults and help texts, unchanged."""
    parser.add_argument(
        "-s",
        "--server",
        help="The location of the remote server (with prefix)",
        type=str,
        default=default_server,
    )
    parser.add_argument(
        "-a",
        "--auth",
        help="BasicAuth token:my-secret",
        type=str,
        default=default_auth,
        action=AuthAction,
    )
    if include_bucket:
        parser.add_argument("-b", "--bucket", help="Bucket name.", type=str, default=default_bucket)
    if include_collection:
        parser.add_argument(
            "-c", "--collection", help="Collection name.", type=str, default=default_collection
        )
    _add_verbosity(
        parser,
        "Show all messages.",
        "Show only critical errors.",
        "Show all messages, including debug messages.",
    )


def _add_verbosity(parser: argparse.ArgumentParser, verbose: str, quiet: str, debug: str) -> None:
    # Not mutually exclusive, as in 4.0 (`[-v] [-q] [-D]`): the last one given wins.
    for flags, level, text in (
        (("-v", "--verbose"), logging.INFO, verbose),
        (("-q", "--quiet"), logging.CRITICAL, quiet),
        (("-D", "--debug"), logging.DEBUG, debug),
    ):
        parser.add_argument(*flags, action="store_const", const=level, dest="verbosity", help=text)


#: The pre-4.0 name of :func:`add_parser_options`, kept for old scripts.
set_parser_server_options = add_parser_options


def setup_logger(logger: logging.Logger, args: argparse.Namespace) -> None:
    """Send ``logger`` (and kinto_client's own) to stderr at the chosen verbosity.

    One handler for both when ``logger`` is kinto_client's or one of its
    children, so each message is printed once. Calling it again adds nothing.
    """
    level = getattr(args, "verbosity", None) or logging.WARNING
    library = logging.getLogger("kinto_client")
    targets = [library]
    if logger is not library and not logger.name.startswith("kinto_client."):
        targets.append(logger)
    for target in targets:
        if not any(getattr(h, "kinto_client_cli", False) for h in target.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(message)s"))
            handler.kinto_client_cli = True  # type: ignore[attr-defined]
            target.addHandler(handler)
    for target in {logger, library}:
        target.setLevel(level)


def _read_password_file(path: str, option: str) -> str:
    try:
        if path == "-":
            line = sys.stdin.readline()
        else:
            with open(path, encoding="utf-8") as handle:
                line = handle.readline()
    except UnicodeDecodeError:
        raise CredentialsError(f"{option} {path}: not UTF-8 text") from None
    except OSError as exc:
        raise CredentialsError(f"{option} {path}: {exc.strerror or exc}") from None
    password = line.rstrip("\r\n")
    if not password:
        where = "stdin" if path == "-" else path
        raise CredentialsError(f"{option}: {where} has no password on its first line")
    return password


def resolve_auth(
    args: argparse.Namespace,
    *,
    dest: str = "auth",
    option: str = "-a/--auth",
    password_file_dest: str = "password_file",
    password_file_option: str = "--password-file",
    environment: bool = True,
) -> Credentials | Token | Any:
    """The final credentials of ``args.<dest>`` (also stored back), found after parsing.

    Parses :data:`ENV_AUTH` when ``-a`` was not given, and finds a bare
    user's password in ``--password-file``, then :data:`ENV_PASSWORD` (with
    ``environment``), then a prompt on a terminal. Raises
    :class:`CredentialsError` with a one-line reason otherwise.
    """
    value = getattr(args, dest, None)
    if isinstance(value, _FromEnvironment):
        try:
            value = parse_auth_option(value.text)
        except argparse.ArgumentTypeError as exc:
            raise CredentialsError(f"${ENV_AUTH}: {exc}") from None
        option = f"${ENV_AUTH}"
    password_file = getattr(args, password_file_dest, None)
    if password_file is not None:
        if isinstance(value, Token):
            raise CredentialsError(
                f"{password_file_option} is for a user's password; a Bearer token goes in {option}"
            )
        if not isinstance(value, NeedsPassword):
            raise CredentialsError(
                f"{password_file_option} needs a user without a password: pass {option} USER"
            )
        value = Credentials((value.user, _read_password_file(password_file, password_file_option)))
        setattr(args, password_file_dest, None)  # read once: the credentials are now complete
    elif isinstance(value, NeedsPassword):
        password = os.environ.get(ENV_PASSWORD) if environment else None
        try:
            value = Credentials((value.user, password or ask_password(value.user)))
        except CredentialsError as exc:
            hint = f"pass {option} USER:PASSWORD, or {password_file_option} FILE"
            if environment:
                hint += f", or set ${ENV_PASSWORD}"
            raise CredentialsError(f"{exc}: {hint}") from None
    setattr(args, dest, value)
    return value


def create_client_from_args(args: argparse.Namespace) -> Client:
    """A :class:`Client` configured from parsed :func:`add_parser_options` options.

    Without ``extended=True``, calls ``Client(server_url=args.server,
    auth=args.auth, bucket=args.bucket, collection=args.collection)`` as 4.0
    does, even when the script defines its own ``--timeout`` or ``--retry``;
    without ``-b`` the bucket is ``'default'`` (4.0 passed ``None``, which
    left the client without a bucket). With it,
    the credentials are resolved (:func:`resolve_auth`), the bucket defaults
    to ``'default'``, and the newer options are applied.
    """
    if not getattr(args, EXTENDED_MARKER, False):
        return Client(
            server_url=args.server,
            auth=args.auth,
            # 4.0 passed None without -b, and the client then had no bucket at all:
            # the Client's own default, as the 4.0 documentation's script expects.
            bucket=getattr(args, "bucket", None) or "default",
            collection=getattr(args, "collection", None),
        )
    auth = resolve_auth(args)
    options: dict[str, Any] = {}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    return Client(
        server_url=args.server,
        auth=auth,
        bucket=getattr(args, "bucket", None) or "default",
        collection=getattr(args, "collection", None),
        retry=args.retry,
        retry_after=args.retry_after,
        ignore_batch_4xx=args.ignore_batch_4xx,
        **options,
    )
