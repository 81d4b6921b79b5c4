"""Copy a collection from one Kinto server (or bucket) to another.

As a library: :func:`replicate`. As a command: ``kinto-client-replicate``
(or ``python -m kinto_client.replication``), with the origin given by
``--origin-server``, ``--origin-auth``, ``--origin-bucket`` and
``--origin-collection`` and the destination by the standard options
(``-s``, ``-a``, ``-b``, ``-c``; see :mod:`kinto_client.cli_utils`)::

    kinto-client-replicate --origin-server https://a.example/v1 --origin-auth alice:s3cr3t \\
        --origin-bucket main --origin-collection recipes \\
        -s http://localhost:8888/v1 -a bob:pa55 -b backup -c recipes

What is copied: the collection's data and permissions, every record with its
own permissions, and deletions: records that the destination holds but the
origin does not are deleted, so after a run the destination collection
mirrors the origin. Records the destination already holds identical are
not written again: a second run costs reads, and writes only the changes.
The destination bucket is created if missing (its own data and permissions
are left alone). Records get the destination's own timestamps.

Deletions are found by comparing ids (the destination's ids are listed
before copying), not with the origin's tombstones (``_since``): the two
servers' timestamps are unrelated, tombstones can be purged, and a diff of
ids is right on the first run as on the next ones.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kinto_client import cli_utils, commands, utils
from kinto_client.client import Client
from kinto_client.exceptions import KintoException, KintoHTTPError
from kinto_client.progress import Progress, format_duration

logger = logging.getLogger(__name__)

__all__ = ["ReplicationSummary", "get_arguments", "main", "replicate"]


@dataclass(frozen=True)
class ReplicationSummary:
    """What :func:`replicate` did."""

    #: records written to the destination (created or replaced)
    copied: int
    #: records the destination already had, identical (not written again)
    unchanged: int
    #: destination records deleted because the origin does not have them
    deleted: int
    #: records listed on the origin that vanished before they could be read
    vanished: int
    #: seconds the replication took
    seconds: float
    #: records the destination refused (only with ``ignore_batch_4xx``; else it raises)
    refused: int = 0

    def __str__(self) -> str:
        text = f"{self.copied} records copied, {self.unchanged} unchanged, {self.deleted} deleted"
        if self.vanished:
            text += f", {self.vanished} deleted on the origin during the copy"
        if self.refused:
            text += f", {self.refused} refused by the destination (ignored, see the warnings)"
        return f"{text}, in {format_duration(self.seconds)}"


def replicate(
    origin: Client,
    destination: Client,
    *,
    delete: bool = True,
    progress: Progress | None = None,
) -> ReplicationSummary:
    """Make ``destination``'s collection a copy of ``origin``'s.

    Both clients name their collection (and bucket) by their defaults
    (``Client(bucket=..., collection=...)``). Creates the destination bucket
    if missing; writes the collection's data and permissions; writes every
    origin record with its permissions (in ``/batch`` requests), except
    those the destination already holds identical (so a second run writes
    only what changed, and the destination's timestamps move only for
    those); then, with ``delete=True``, deletes the destination records whose
    id the origin does not have. The destination's timestamps are its own.

    ``progress`` (a :class:`~kinto_client.progress.Progress`) is advanced as
    records are written; its ``total`` is set to the origin's record count.

    Returns a :class:`ReplicationSummary` (records copied, unchanged, deleted...).
    Raises :class:`~kinto_client.exceptions.KintoException` subclasses on
    failure (the destination may then be partly updated; run it again).
    """
    started = time.monotonic()
    for role, client in (("origin", origin), ("destination", destination)):
        if not client.collection_name:
            raise ValueError(
                f"The {role} client has no collection: create it with "
                "Client(..., bucket='b', collection='c')."
            )
    logger.info("Replication from %s to %s", origin, destination)

    me = (destination.server_info().get("user") or {}).get("id")
    wanted = _anonymous(origin.get_collection())
    destination.create_bucket(if_not_exists=True)
    try:
        current: dict[str, Any] | None = _anonymous(destination.get_collection())
    except KintoHTTPError as exc:
        if exc.status_code != 404:
            raise
        current = None
    if not _same(wanted, current, me):
        destination.update_collection(
            data=wanted["data"], permissions=wanted["permissions"], safe=False
        )

    if progress is not None:
        progress.total = commands.count_records(origin)
    existing = {r["id"] for r in destination.iter_records(_fields="id")}

    step = destination.batch_max_requests
    copied = unchanged = vanished = refused = 0
    seen: set[str] = set()
    listing = origin.iter_records(_fields="id", _sort="id", _limit=step)
    for ids in _chunked((r["id"] for r in listing), step):
        objects = _read_records(origin, ids)
        present = [record_id for record_id in ids if record_id in existing]
        current = dict(zip(present, _read_records(destination, present))) if present else {}
        with destination.batch() as batch:
            for record_id, obj in zip(ids, objects):
                if obj is None:  # deleted on the origin since it was listed
                    vanished += 1
                    continue
                seen.add(record_id)
                if _same(obj, current.get(record_id), me):
                    unchanged += 1
                    continue
                record = _without_timestamp(obj["data"])
                batch.update_record(record, permissions=obj.get("permissions"), safe=False)
                copied += 1
        # With ignore_batch_4xx the destination reports refused writes instead of raising.
        failed = len(batch.failures())
        copied, refused = copied - failed, refused + failed
        if progress is not None:
            progress.advance(len(ids))

    stale = sorted(existing - seen) if delete else []
    if stale:
        logger.info("Deleting %d records missing from the origin", len(stale))
        with destination.batch() as batch:
            for record_id in stale:
                batch.delete_record(record_id, if_exists=True)
    elapsed = time.monotonic() - started
    summary = ReplicationSummary(copied, unchanged, len(stale), vanished, elapsed, refused)
    logger.info("Replication done: %s", summary)
    return summary


def _anonymous(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A collection without its id and timestamp (the copy may have another name)."""
    data = {k: v for k, v in obj["data"].items() if k not in ("id", "last_modified")}
    return {"data": data, "permissions": obj.get("permissions")}


def _without_timestamp(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "last_modified"}


def _same(origin: dict[str, Any], current: dict[str, Any] | None, me: str | None) -> bool:
    """Whether the destination's copy already equals what writing ``origin`` would store.

    Writing a record makes its writer (``me``) one of its writers, so an
    extra ``me`` among the copy's writers is no difference.
    """
    if current is None:
        return False
    if _without_timestamp(origin["data"]) != _without_timestamp(current["data"]):
        return False
    wanted = origin.get("permissions") or {}
    stored = current.get("permissions") or {}
    for kind in set(wanted) | set(stored):
        expected = set(wanted.get(kind, []))
        if kind == "write" and me:
            expected.add(me)
        if expected != set(stored.get(kind, [])):
            return False
    return True


def _chunked(ids: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in ids:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _read_records(client: Client, ids: list[str]) -> list[dict[str, Any] | None]:
    """Each record ``{'data', 'permissions'}`` (``None`` if gone), read in one batch.

    Listing records gives their data but not their permissions, so each
    record is read; a batch makes that one request per chunk. A record
    deleted since it was listed (404) gives ``None``; any other failure raises.
    """
    with client.batch(ignore_4xx=True) as batch:
        for record_id in ids:
            batch.get_record(record_id)
    gone = {failure["request"]["path"] for failure in batch.failures() if failure["status"] == 404}
    if len(gone) < len(batch.failures()):
        raise KintoException(f"Reading the records failed: {batch.failures()[0]['body']}")
    paths = [
        client.endpoints.get(
            "record", bucket=client.bucket_name, collection=client.collection_name, id=record_id
        )
        for record_id in ids
    ]
    return [
        body if isinstance(body, dict) and path not in gone else None
        for body, path in zip(batch.results(), paths)
    ]


# -- command line -------------------------------------------------------------------


def get_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the replication options: the origin's, then the destination's.

    The origin bucket/collection default to the destination's and
    conversely; at least one collection name is needed.
    """
    parser = argparse.ArgumentParser(
        prog="kinto-client-replicate",
        description="Make a destination Kinto collection a copy of an origin collection: "
        "its data and permissions, every record with its permissions, and deletions "
        "(destination records missing from the origin are deleted). The destination is "
        "given by the standard options (-s, -a, -b, -c). A progress display is shown on "
        "stderr when it is a terminal (not with -q), and a summary at the end.",
    )
    origin = parser.add_argument_group("origin")
    origin.add_argument(
        "--origin-server",
        required=True,
        metavar="URL",
        help="The origin server (with prefix, e.g. http://host:8888/v1)",
    )
    origin.add_argument(
        "--origin-auth",
        action=cli_utils.AuthAction,
        metavar="AUTH",
        help="Credentials for the origin: user:password or 'Bearer <token>' (default: anonymous)",
    )
    origin.add_argument(
        "--origin-bucket", metavar="BUCKET", help="The origin bucket (default: the destination's)"
    )
    origin.add_argument(
        "--origin-collection",
        metavar="COLLECTION",
        help="The origin collection (default: the destination's)",
    )
    parser.add_argument(
        "--no-delete",
        dest="delete",
        action="store_false",
        help="Keep destination records that the origin does not have",
    )
    destination = parser.add_argument_group("destination")
    cli_utils.add_parser_options(destination)  # type: ignore[arg-type]
    args = parser.parse_args(argv)
    if not args.server:
        parser.error("the destination server (-s/--server) is required")
    args.origin_bucket = args.origin_bucket or args.bucket or "default"
    args.bucket = args.bucket or args.origin_bucket
    args.origin_collection = args.origin_collection or args.collection
    args.collection = args.collection or args.origin_collection
    if not args.collection:
        parser.error("a collection is required: pass -c/--collection and/or --origin-collection")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``kinto-client-replicate``); returns the exit status."""
    args = get_arguments(argv)
    cli_utils.setup_logger(logger, args)
    prog = "kinto-client-replicate"

    def run() -> int:
        destination = commands.make_client(args.server, args)
        origin = commands.make_client(
            args.origin_server,
            args,
            option="--origin-server",
            auth=args.origin_auth,
            bucket=args.origin_bucket,
            collection=args.origin_collection,
        )
        same_place = (
            origin.server_url == destination.server_url
            and utils.slugify(args.origin_bucket) == utils.slugify(args.bucket)
            and utils.slugify(args.origin_collection) == utils.slugify(args.collection)
            and args.origin_bucket != "default"
        )
        if same_place:
            raise commands.CommandError(
                "the origin and the destination are the same collection: "
                "change --origin-* or -s/-b/-c"
            )
        with commands.progress_for(args, "Replicating", None) as progress:
            summary = replicate(origin, destination, delete=args.delete, progress=progress)
        commands.say(
            args,
            f"Replicated {origin.server_url}/buckets/{args.origin_bucket}/collections/"
            f"{args.origin_collection} to {destination.server_url}/buckets/{args.bucket}"
            f"/collections/{args.collection}: {summary}.",
        )
        return 0

    authenticated = args.auth is not None and args.origin_auth is not None
    return commands.run_command(run, prog=prog, authenticated=authenticated)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
