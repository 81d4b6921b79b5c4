"""A throw-away PostgreSQL server, and a real Kinto server on it, for the tests.

PostgreSQL comes from Debian's ``postgresql`` package. Each run gets its own
cluster in a temporary data directory, listening on 127.0.0.1 and a free port
only (trust authentication, no fsync: it is scratch data), and stops it by
the PID it started, then deletes the directory. PostgreSQL refuses to run as
root, so as root the cluster runs as the ``postgres`` system user.

Kinto then gets the settings of ``tests/config/kinto.ini`` (the same plugins,
pagination and batch limits) with its storage, permission and cache backends
switched to PostgreSQL, its schema created by ``kinto migrate``.

As a script::

    python tests/pg_server.py install        # apt-get install postgresql if missing
    python tests/pg_server.py -- COMMAND...  # run COMMAND with KINTO_SERVER_URL set
                                             # (and KINTO_TEST_BACKEND=postgresql)
    python tests/pg_server.py                # serve in the foreground until Ctrl-C

The test suite uses it when ``KINTO_TEST_BACKEND=postgresql`` is set
(``make tests-postgresql``).
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from kinto_server import DEFAULT_INI, KintoServer, exit_on_signals, free_port, kinto_executable

#: The Debian package that provides the server binaries.
PACKAGE = "postgresql"
#: The database role and the database the tests use.
DB_USER = "postgres"
DB_NAME = "kinto"
#: Who runs the cluster when we are root (initdb and postgres refuse root).
SYSTEM_USER = "postgres"

#: Kinto settings replaced in tests/config/kinto.ini; ``{url}`` is the database URL.
KINTO_POSTGRESQL_SETTINGS = {
    "kinto.storage_backend": "kinto.core.storage.postgresql",
    "kinto.storage_url": "{url}",
    "kinto.permission_backend": "kinto.core.permission.postgresql",
    "kinto.permission_url": "{url}",
    "kinto.cache_backend": "kinto.core.cache.postgresql",
    "kinto.cache_url": "{url}",
}

#: Server options for a scratch cluster: loopback only, durability off (faster).
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "UTC",
    "max_connections": "200",
}


class PostgresNotInstalled(RuntimeError):
    """The PostgreSQL server binaries are not on this machine."""


def find_bin_dir() -> Path | None:
    """The directory of ``initdb``/``postgres``, newest Debian version first."""
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        reverse=True,
    )
    if debian:
        return debian[0].parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def install() -> Path:
    """Install Debian's ``postgresql`` with apt-get unless already there.

    Debian's package normally creates and starts a ``main`` cluster; a
    ``createcluster.d`` drop-in turns that off, so installing starts nothing.
    """
    found = find_bin_dir()
    if found:
        return found
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", PACKAGE]
    if os.geteuid() != 0:
        raise PostgresNotInstalled(
            f"PostgreSQL is not installed; as root, run: apt-get update && {' '.join(command)}"
        )
    dropin = Path("/etc/postgresql-common/createcluster.d/no-main-cluster.conf")
    if not dropin.exists():
        dropin.parent.mkdir(parents=True, exist_ok=True)
        dropin.write_text(
            "# Written by kinto_client's tests/pg_server.py\ncreate_main_cluster = false\n"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"Installing Debian's {PACKAGE} with apt-get ...", flush=True)
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdin=subprocess.DEVNULL)
    subprocess.run(command, check=True, env=env, stdin=subprocess.DEVNULL)
    found = find_bin_dir()
    if not found:
        raise PostgresNotInstalled(f"apt-get installed {PACKAGE} but initdb is still missing")
    return found


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, started and stopped by PID."""

    def __init__(self, port: int | None = None, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        if self.bin_dir is None:
            raise PostgresNotInstalled(
                "PostgreSQL is not installed: run `python tests/pg_server.py install` "
                "(as root) or `make tests-postgresql`."
            )
        self.port = port or free_port()
        self.url = f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{DB_NAME}"
        self.tmp: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._user: str | None = None

    # -- lifecycle ------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> PostgresServer:
        """initdb, start the server, create the database; cleans up if any step fails."""
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        self._user = SYSTEM_USER if os.geteuid() == 0 else None
        self.tmp = Path(tempfile.mkdtemp(prefix="kinto-client-pg-"))
        if self._user:
            try:
                account = pwd.getpwnam(self._user)
            except KeyError:
                raise PostgresNotInstalled(
                    f"Running as root needs the {self._user!r} system user (Debian's "
                    f"{PACKAGE} package creates it): PostgreSQL refuses to run as root."
                ) from None
            os.chown(self.tmp, account.pw_uid, account.pw_gid)
        data = self.tmp / "data"
        self._run(
            "initdb",
            "--pgdata",
            str(data),
            "--username",
            DB_USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        options = [arg for item in SERVER_OPTIONS.items() for arg in ("-c", "=".join(item))]
        with open(self.tmp / "postgres.log", "wb") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.tmp),
                    *options,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.tmp,
                user=self._user,
                group=self._user,
                extra_groups=[] if self._user else None,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"PostgreSQL exited early ({self.process.returncode}):\n{self.log()}"
                )
            ready = self._run("pg_isready", *self._client_args(), "--quiet", check=False)
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL not ready in {timeout}s:\n{self.log()}")
            time.sleep(0.1)
        self._run("createdb", *self._client_args(), "--username", DB_USER, DB_NAME)

    def stop(self) -> None:
        """Stop the server this object started (fast shutdown), remove its files."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def log(self) -> str:
        """The end of the server's log."""
        if self.tmp is None or not (self.tmp / "postgres.log").exists():
            return ""
        return (self.tmp / "postgres.log").read_text("utf-8", "replace")[-5000:]

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers --------------------------------------------------------------

    def _client_args(self) -> list[str]:
        return ["--host", "127.0.0.1", "--port", str(self.port)]

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        assert self.bin_dir is not None and self.tmp is not None
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            cwd=self.tmp,
            user=self._user,
            group=self._user,
            extra_groups=[] if self._user else None,
        )
        if check and result.returncode != 0:
            output = (result.stdout + result.stderr).decode("utf-8", "replace")
            raise RuntimeError(f"{program} failed ({result.returncode}):\n{output}")
        return result


def write_kinto_ini(database_url: str, dest: Path, base: Path = DEFAULT_INI) -> Path:
    """``base`` with its backends switched to PostgreSQL at ``database_url``."""
    config = configparser.RawConfigParser()
    config.optionxform = str  # type: ignore[assignment,method-assign]  # keep the keys' case
    config.read(base, encoding="utf-8")
    for key, value in KINTO_POSTGRESQL_SETTINGS.items():
        config.set("app:main", key, value.format(url=database_url))
    with open(dest, "w", encoding="utf-8") as out:
        out.write(f"# Generated by tests/pg_server.py from {base.name}: PostgreSQL backends.\n")
        config.write(out)
    return dest


def check_python_dependencies() -> None:
    """Kinto's PostgreSQL backends need its ``postgresql`` extra in this venv."""
    missing = [m for m in ("psycopg2", "sqlalchemy", "zope.sqlalchemy") if not _importable(m)]
    if missing:
        raise PostgresNotInstalled(
            f"Kinto's PostgreSQL backends need {', '.join(missing)}: "
            "pip install -r requirements-postgresql.txt (make tests-postgresql does it)."
        )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@contextlib.contextmanager
def kinto_on_postgresql(base_ini: Path = DEFAULT_INI, port: int | None = None) -> Iterator[str]:
    """A Kinto server on a fresh PostgreSQL database; yields its URL (with /v1).

    Both servers are stopped when the block exits, whatever happened in it.
    """
    check_python_dependencies()
    with PostgresServer() as database:
        assert database.tmp is not None
        ini = write_kinto_ini(database.url, database.tmp / "kinto-postgresql.ini", base_ini)
        migrate = subprocess.run(
            [kinto_executable(), "migrate", "--ini", str(ini)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
        if migrate.returncode != 0:
            output = (migrate.stdout + migrate.stderr).decode("utf-8", "replace")
            raise RuntimeError(f"kinto migrate failed ({migrate.returncode}):\n{output[-5000:]}")
        with KintoServer(ini, port) as kinto:
            yield kinto.url


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["install", "serve"], default="serve")
    parser.add_argument("--ini", default=str(DEFAULT_INI), help="base Kinto configuration")
    parser.add_argument("--port", type=int, default=None, help="Kinto's port (default: free)")
    args = parser.parse_args(argv)
    try:
        if args.action == "install":
            print(f"PostgreSQL server binaries: {install()}", flush=True)
            return 0
        exit_on_signals()
        with kinto_on_postgresql(Path(args.ini), args.port) as url:
            print(f"Kinto (PostgreSQL backends) is up on {url}", flush=True)
            if command:
                env = dict(os.environ, KINTO_SERVER_URL=url, KINTO_TEST_BACKEND="postgresql")
                return subprocess.call(command, env=env)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        return 130
    except PostgresNotInstalled as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
