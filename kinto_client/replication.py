"""Copy a collection (metadata, permissions, records) from one server to another."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from kinto_client import cli_utils
from kinto_client.client import Client
from kinto_client.exceptions import KintoException

logger = logging.getLogger(__name__)

__all__ = ["get_arguments", "main", "replicate"]


def replicate(origin: Client, destination: Client) -> int:
    """Copy ``origin``'s bucket/collection to ``destination``'s.

    Creates the destination bucket and collection if missing, copies the
    collection's data and permissions, then writes every record (with its
    permissions) in one batch. Returns the number of records copied.
    """
    msg = f"Replication from {origin} to {destination}"
    logger.info(msg)

    destination.create_bucket(if_not_exists=True)
    collection = origin.get_collection()
    destination.create_collection(
        data=collection["data"], permissions=collection.get("permissions"), if_not_exists=True
    )
    destination.update_collection(
        data=collection["data"], permissions=collection.get("permissions"), safe=False
    )
    records = origin.get_records()
    logger.info("Replicating %d records", len(records))
    with destination.batch() as batch:
        for record in records:
            data = {k: v for k, v in record.items() if k != "last_modified"}
            batch.update_record(data=data, safe=False)
    return len(records)


def get_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the replication options: origin and destination servers."""
    parser = argparse.ArgumentParser(
        description="Copy a Kinto collection (metadata, permissions, records) "
        "from an origin server to a destination server."
    )
    parser.add_argument("--origin-server", required=True, help="The origin server (with prefix)")
    parser.add_argument(
        "--origin-auth",
        action=cli_utils.AuthAction,
        help="Credentials for the origin: user:password or 'Bearer <token>'",
    )
    parser.add_argument("--origin-bucket", help="The origin bucket (default: the destination's)")
    parser.add_argument(
        "--origin-collection", help="The origin collection (default: the destination's)"
    )
    cli_utils.add_parser_options(parser)
    args = parser.parse_args(argv)
    if not args.server:
        parser.error("the destination server (-s/--server) is required")
    if not args.collection:
        parser.error("the destination collection (-c/--collection) is required")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = get_arguments(argv)
    cli_utils.setup_logger(logger, args)
    destination = cli_utils.create_client_from_args(args)
    origin: Any = Client(
        server_url=args.origin_server,
        auth=args.origin_auth,
        bucket=args.origin_bucket or args.bucket or "default",
        collection=args.origin_collection or args.collection,
        retry=args.retry,
        retry_after=args.retry_after,
    )
    try:
        count = replicate(origin, destination)
    except KintoException as exc:
        print(f"replication failed: {exc}", file=sys.stderr)
        return 1
    logger.info("Replicated %d records", count)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
