"""Copy a collection from one Kinto server (or bucket) to another.

As a library: :func:`replicate`. As a command: ``kinto-client-replicate``
(or ``python -m kinto_client.replication``), with the origin given by
``--origin-server``, ``--origin-auth``, ``--origin-bucket`` and
``--origin-collection`` and the destination by the standard options
(``-s``, ``-a``, ``-b``, ``-c``; see :mod:`kinto_client.cli_utils`)::

    kinto-client-replicate --origin-server https://a.example/v1 --origin-auth alice:s3cr3t \\
        --origin-bucket main --origin-collection recipes \\
        -s http://localhost:8888/v1 -a bob:pa55 -b backup -c recipes

By default it does what kinto-client 4.0 did: the destination bucket and
collection are created when missing (the collection with the origin's data
and permissions; an existing one is left as it is), every origin record is
written (its data), and only the records the origin marks as deleted are
deleted. Destination records the origin does not have are kept.

With ``mirror=True`` (``--mirror``) the destination becomes an exact copy:
its collection's data and permissions are replaced by the origin's, every
record is written with its permissions, records the destination holds
identical are skipped (a second run writes only the changes), and
destination records whose id the origin does not have are deleted. Those are
found by comparing ids, not with the origin's tombstones (``_since``): the
two servers' timestamps are unrelated, tombstones can be purged, and a diff
of ids is right on the first run as on the next ones.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kinto_client import __version__, cli_utils, commands, utils
from kinto_client.client import Client
from kinto_client.exceptions import KintoBatchException, KintoException, KintoHTTPError
from kinto_client.progress import Progress, format_duration

logger = logging.getLogger(__name__)

__all__ = ["ORIGIN", "ReplicationSummary", "get_arguments", "main", "replicate"]


@dataclass(frozen=True)
class ReplicationSummary:
    """What :func:`replicate` did."""

    #: records written to the destination (created or replaced)
    copied: int
    #: records the destination already had, identical (not written again; mirror only)
    unchanged: int
    #: destination records deleted: marked deleted on the origin, or (mirror) missing from it
    deleted: int
    #: records listed on the origin that vanished before they could be read (mirror only)
    vanished: int
    #: seconds the replication took
    seconds: float
    #: records the destination refused (only with ``ignore_batch_4xx``; else it raises)
    refused: int = 0
    #: whether the destination was mirrored (``replicate(..., mirror=True)``)
    mirror: bool = False

    def __str__(self) -> str:
        text = f"{self.copied} records copied"
        if self.mirror:
            text += f", {self.unchanged} unchanged, {self.deleted} deleted"
        elif self.deleted:
            text += f", {self.deleted} deleted (marked deleted on the origin)"
        if self.vanished:
            text += f", {self.vanished} deleted on the origin during the copy"
        if self.refused:
            text += f", {self.refused} refused by the destination (ignored, see the warnings)"
        return f"{text}, in {format_duration(self.seconds)}"


@contextlib.contextmanager
def _blame(side: str) -> Iterator[None]:
    """Tag a failure with the side it came from (``exc.replication_side``); its type is kept."""
    try:
        yield
    except KintoException as exc:
        if getattr(exc, "replication_side", None) is None:
            exc.replication_side = side  # type: ignore[attr-defined]
        raise


def replicate(
    origin: Client,
    destination: Client,
    *,
    mirror: bool = False,
    progress: Progress | None = None,
) -> ReplicationSummary:
    """Copy ``origin``'s collection into ``destination``'s.

    Both clients name their collection (and bucket) by their defaults
    (``Client(bucket=..., collection=...)``).

    By default, as in kinto-client 4.0: creates the destination bucket and
    collection only when missing (the collection with the origin's data and
    permissions), writes every origin record (its data, in ``/batch``
    requests), and deletes only the records the origin marks as deleted. It
    never deletes destination records the origin lacks, and never rewrites
    an existing destination collection.

    ``mirror=True`` makes the destination an exact copy: it also replaces the
    destination collection's data and permissions, writes each record with
    its permissions (skipping those the destination already holds
    identical), and deletes the destination records whose id the origin
    does not have. The destination's timestamps are then its own.

    ``progress`` (a :class:`~kinto_client.progress.Progress`) is advanced as
    records are written; its ``total`` is set to the origin's record count.

    Returns a :class:`ReplicationSummary`. Raises the
    :class:`~kinto_client.exceptions.KintoException` of the first failure,
    tagged with ``replication_side`` (``'origin'`` or ``'destination'``);
    the destination may then be partly updated: run it again.
    """
    started = time.monotonic()
    for role, client in (("origin", origin), ("destination", destination)):
        if not client.collection_name:
            raise ValueError(
                f"The {role} client has no collection: create it with "
                "Client(..., bucket='b', collection='c')."
            )
    logger.info(f"Replication from {origin} to {destination}")  # 4.0's message, as one string
    if mirror:
        summary = _mirror(origin, destination, progress, started)
    else:
        summary = _copy(origin, destination, progress, started)
    logger.info("Replication done: %s", summary)
    return summary


def _copy(
    origin: Client, destination: Client, progress: Progress | None, started: float
) -> ReplicationSummary:
    """4.0's replication: create what is missing, write every record, apply deletions."""
    with _blame("origin"):
        wanted = _anonymous(origin.get_collection())
    with _blame("destination"):
        destination.create_bucket(if_not_exists=True)
        destination.create_collection(
            data=wanted["data"], permissions=wanted["permissions"], if_not_exists=True
        )
    with _blame("origin"):
        records = origin.get_records()
    logger.info(f"replication of {len(records)} records")
    if progress is not None:
        progress.total = len(records)
    copied = deleted = 0
    # One batch, as in 4.0: it goes in chunks of the server's batch_max_requests
    # and stops at the first chunk holding a failure.
    with _blame("destination"), destination.batch() as batch:
        for record in records:
            if record.get("deleted", False) is True:
                batch.delete_record(record["id"], if_exists=True)
                deleted += 1
            else:
                batch.update_record(data=record, safe=False)
                copied += 1
    # With ignore_batch_4xx the destination reports refused writes instead of raising.
    refused = len(batch.failures())
    copied -= refused
    if progress is not None:
        progress.advance(len(records))
    elapsed = time.monotonic() - started
    return ReplicationSummary(copied, 0, deleted, 0, elapsed, refused, mirror=False)


def _mirror(
    origin: Client, destination: Client, progress: Progress | None, started: float
) -> ReplicationSummary:
    """Make the destination an exact copy, writing only what differs."""
    with _blame("origin"):
        wanted = _anonymous(origin.get_collection())
    with _blame("destination"):
        me = (destination.server_info().get("user") or {}).get("id")
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
        existing = {r["id"] for r in destination.iter_records(_fields="id")}
        step = destination.batch_max_requests
    with _blame("origin"):
        ids = [r["id"] for r in origin.iter_records(_fields="id", _sort="id", _limit=step)]
    if progress is not None:
        progress.total = len(ids)

    copied = unchanged = vanished = refused = 0
    seen: set[str] = set()
    for chunk in utils.chunks(ids, step):
        with _blame("origin"):
            objects = _read_records(origin, chunk)
        present = [record_id for record_id in chunk if record_id in existing]
        with _blame("destination"):
            stored = dict(zip(present, _read_records(destination, present))) if present else {}
            with destination.batch() as batch:
                for record_id, obj in zip(chunk, objects):
                    if obj is None:  # deleted on the origin since it was listed
                        vanished += 1
                        continue
                    seen.add(record_id)
                    if _same(obj, stored.get(record_id), me):
                        unchanged += 1
                        continue
                    record = _without_timestamp(obj["data"])
                    batch.update_record(record, permissions=obj.get("permissions"), safe=False)
                    copied += 1
        failed = len(batch.failures())
        copied, refused = copied - failed, refused + failed
        if progress is not None:
            progress.advance(len(chunk))

    stale = sorted(existing - seen)
    if stale:
        logger.info("Deleting %d records missing from the origin", len(stale))
        with _blame("destination"), destination.batch() as batch:
            for record_id in stale:
                batch.delete_record(record_id, if_exists=True)
    elapsed = time.monotonic() - started
    return ReplicationSummary(
        copied, unchanged, len(stale), vanished, elapsed, refused, mirror=True
    )


def _anonymous(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A collection without its id and timestamp (the copy may have another name)."""
    data = obj["data"]
    if isinstance(data, Mapping):
        data = {k: v for k, v in data.items() if k not in ("id", "last_modified")}
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


def _read_records(client: Client, ids: Sequence[str]) -> list[dict[str, Any] | None]:
    """Each record ``{'data', 'permissions'}`` (``None`` if gone), read in one batch.

    Listing records gives their data but not their permissions, so each
    record is read; a batch makes that one request per chunk. A record
    deleted since it was listed (404) gives ``None``; any other failure raises.
    """
    with client.batch(ignore_4xx=True) as batch:
        for record_id in ids:
            batch.get_record(record_id)
    failures = batch.failures()
    if any(failure["status"] != 404 for failure in failures):
        raise KintoBatchException([f for f in failures if f["status"] != 404])
    return [
        body if isinstance(body, dict) and isinstance(body.get("data"), dict) else None
        for body in batch.results()
    ]


# -- command line -------------------------------------------------------------------

#: The origin's options, named in its error messages.
ORIGIN = commands.Side(
    name="origin",
    server="--origin-server",
    auth="--origin-auth",
    password_file="--origin-password-file",
    bucket="--origin-bucket",
    collection="--origin-collection",
    prefix="origin_",
    environment=False,
)


def get_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the replication options: the origin's, then the destination's.

    The origin bucket/collection default to the destination's and
    conversely; at least one collection name is needed.
    """
    parser = argparse.ArgumentParser(
        prog="kinto-client-replicate",
        description="Copy an origin Kinto collection into a destination collection, as "
        "kinto-client 4.0 did: create the destination bucket and collection if missing, "
        "write every origin record, keep the destination's other records. With --mirror, "
        "make the destination an exact copy. The destination is given by the standard "
        "options (-s, -a, -b, -c). A progress display is shown on stderr when it is a "
        "terminal (not with -q), and a summary at the end.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    origin = parser.add_argument_group("origin")
    origin.add_argument(
        "--origin-server",
        required=True,
        metavar="URL",
        help="the origin server URL with its prefix, e.g. http://localhost:8888/v1",
    )
    origin.add_argument(
        "--origin-auth",
        type=cli_utils.parse_auth_option,
        metavar="AUTH",
        help="the origin's credentials, as -a (default: anonymous; the destination's "
        "credentials are never sent to the origin)",
    )
    origin.add_argument(
        "--origin-password-file",
        metavar="FILE",
        help="read the password of --origin-auth USER from the first line of FILE ('-': stdin)",
    )
    origin.add_argument(
        "--origin-bucket", metavar="BUCKET", help="the origin bucket (default: the destination's)"
    )
    origin.add_argument(
        "--origin-collection",
        metavar="COLLECTION",
        help="the origin collection (default: the destination's)",
    )
    parser.add_argument(
        "--mirror",
        action="store_true",
        help="make the destination an exact copy: replace its collection's data and "
        "permissions, copy record permissions, skip unchanged records, and delete the "
        "records the origin does not have",
    )
    destination = parser.add_argument_group("destination")
    cli_utils.add_parser_options(destination, extended=True)  # type: ignore[arg-type]
    args = parser.parse_args(argv)
    if args.password_file == "-" and args.origin_password_file == "-":
        parser.error("--password-file and --origin-password-file cannot both read stdin")
    if not args.server:
        parser.error(
            f"the destination server is required: pass -s/--server (or set "
            f"${cli_utils.ENV_SERVER_URL})"
        )
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
        origin = commands.make_client(args, ORIGIN)
        destination = commands.make_client(args, commands.DESTINATION)
        same_place = (
            origin.server_url == destination.server_url
            and utils.slugify(args.origin_bucket) == utils.slugify(args.bucket)
            and utils.slugify(args.origin_collection) == utils.slugify(args.collection)
            and args.origin_bucket != "default"
        )
        if same_place:
            raise commands.CommandError(
                "the origin and the destination are the same collection: "
                "change --origin-bucket/--origin-collection or -b/-c"
            )
        with commands.progress_for(args, "Replicating", None) as progress:
            summary = replicate(origin, destination, mirror=args.mirror, progress=progress)
        commands.say(
            args,
            f"Replicated {origin.server_url}/buckets/{args.origin_bucket}/collections/"
            f"{args.origin_collection} to {destination.server_url}/buckets/{args.bucket}"
            f"/collections/{args.collection}: {summary}.",
        )
        return 0

    def blame(exc: BaseException) -> tuple[bool, commands.Side]:
        if getattr(exc, "replication_side", None) == "origin":
            return args.origin_auth is not None, ORIGIN
        return args.auth is not None, commands.DESTINATION

    return commands.run_command(run, prog=prog, authenticated=blame)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
