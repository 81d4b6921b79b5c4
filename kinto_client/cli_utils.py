"""Turn argparse options into a configured :class:`~kinto_client.Client`."""

from __future__ import annotations

import argparse
import getpass
import logging
from collections.abc import Sequence
from typing import Any

from kinto_client.auth import _BEARER
from kinto_client.client import Client

__all__ = [
    "AuthAction",
    "add_parser_options",
    "create_client_from_args",
    "get_auth",
    "set_parser_server_options",
    "setup_logger",
]


class Credentials(tuple):  # type: ignore[type-arg]
    """``(user, password)`` from ``-a``: a plain tuple whose repr hides the
    password, so that logging the parsed arguments never shows it."""

    def __repr__(self) -> str:
        return f"({self[0]!r}, '***')"


class Token(str):
    """``Bearer <token>`` from ``-a``: a plain string whose repr hides the token."""

    def __repr__(self) -> str:
        return repr(self.split(None, 1)[0] + " ***")


def get_auth(value: str) -> Any:
    """Parse ``-a/--auth``: ``user:password``, ``Bearer <token>``, or a bare
    ``user`` (the password is then asked for, without echo)."""
    if _BEARER.match(value.strip()):
        return Token(value.strip())
    if ":" in value:
        user, password = value.split(":", 1)
        return Credentials((user, password))
    return Credentials((value, getpass.getpass(f"Password for {value}: ")))


class AuthAction(argparse.Action):
    """Store ``-a/--auth`` parsed by :func:`get_auth`."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if values is not None:
            setattr(namespace, self.dest, get_auth(str(values)))


def add_parser_options(
    parser: argparse.ArgumentParser | None = None,
    default_server: str | None = None,
    default_auth: Any = None,
    default_bucket: str | None = None,
    default_collection: str | None = None,
    include_bucket: bool = True,
    include_collection: bool = True,
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """Add the standard server, auth, bucket, collection, retry and verbosity
    options to ``parser`` (created from ``kwargs`` when not given)."""
    if parser is None:
        parser = argparse.ArgumentParser(**kwargs)

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
        help="BasicAuth credentials: `token:my-secret`, or `Bearer <token>`",
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
    # Not mutually exclusive, as in 4.0 (`[-v] [-q] [-D]`): the last one given wins.
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const=logging.INFO,
        dest="verbosity",
        help="Show all messages.",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const=logging.CRITICAL,
        dest="verbosity",
        help="Show only critical errors.",
    )
    parser.add_argument(
        "-D",
        "--debug",
        action="store_const",
        const=logging.DEBUG,
        dest="verbosity",
        help="Show all messages, including debug messages.",
    )
    parser.add_argument(
        "--retry", help="Number of retries when a request fails", type=int, default=0
    )
    parser.add_argument(
        "--retry-after",
        help="Delay in seconds between retries when requests fail (default: provided by server)",
        type=float,
        default=None,
    )
    parser.add_argument(
        "--timeout",
        help="Seconds to wait for the server before giving up (default: 10 to connect, 60 to read)",
        type=float,
        default=None,
    )
    parser.add_argument(
        "--ignore-batch-4xx",
        help="Do not fail on 4xx errors inside batch requests (they are logged)",
        action="store_true",
        default=False,
    )
    return parser


#: The pre-4.0 name of :func:`add_parser_options`, kept for old scripts.
set_parser_server_options = add_parser_options


def setup_logger(logger: logging.Logger, args: argparse.Namespace) -> None:
    """Send ``logger`` (and kinto_client's own) to stderr at the chosen verbosity."""
    level = getattr(args, "verbosity", None) or logging.WARNING
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    for target in {logger, logging.getLogger("kinto_client")}:
        if not any(getattr(h, "_kinto_cli", False) for h in target.handlers):
            handler._kinto_cli = True  # type: ignore[attr-defined]
            target.addHandler(handler)
        target.setLevel(level)


def create_client_from_args(args: argparse.Namespace) -> Client:
    """A :class:`Client` configured from parsed :func:`add_parser_options` options."""
    options: dict[str, Any] = {}
    timeout = getattr(args, "timeout", None)
    if timeout is not None:
        options["timeout"] = timeout
    return Client(
        server_url=args.server,
        auth=args.auth,
        bucket=getattr(args, "bucket", None) or "default",
        collection=getattr(args, "collection", None),
        retry=getattr(args, "retry", 0) or 0,
        retry_after=getattr(args, "retry_after", None),
        ignore_batch_4xx=getattr(args, "ignore_batch_4xx", False),
        **options,
    )
