"""Check built distributions: ``python tests/check_dist.py DIST_DIR`` (run by ``make dist``).

- the sdist holds what a rebuild and the test suite need (README, CHANGELOG,
  setup.py, py.typed, tests and their server config);
- the wheel holds the package and ``py.typed``, and installs into a fresh
  virtualenv created outside the source tree, where ``import kinto_client``
  works, reports the version defined in ``kinto_client/__init__.py``, and
  the console scripts run.

Exits non-zero with the reason on the first failed check.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDIST_MUST_HAVE = [
    "README.rst",
    "CHANGELOG.rst",
    "setup.py",
    "pyproject.toml",
    "MANIFEST.in",
    "kinto_client/__init__.py",
    "kinto_client/py.typed",
    "tests/conftest.py",
    "tests/config/kinto.ini",
]
WHEEL_MUST_HAVE = ["kinto_client/__init__.py", "kinto_client/py.typed", "kinto_client/client.py"]


def source_version() -> str:
    text = (ROOT / "kinto_client" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not match:
        sys.exit("kinto_client/__init__.py defines no __version__")
    return match.group(1)


def only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        sys.exit(f"expected one {pattern} in {directory}, found {[p.name for p in found]}")
    return found[0]


def check_sdist(sdist: Path, version: str) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    missing = [name for name in SDIST_MUST_HAVE if name not in names]
    if missing:
        sys.exit(f"{sdist.name} lacks {missing} (see MANIFEST.in)")
    if f"kinto_client-{version}" not in sdist.name:
        sys.exit(f"{sdist.name} does not carry the version {version}")
    print(f"ok: {sdist.name} ({len(names)} files)")


def check_wheel(wheel: Path, version: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [name for name in WHEEL_MUST_HAVE if name not in names]
    if missing:
        sys.exit(f"{wheel.name} lacks {missing}")
    if any(name.startswith("tests/") for name in names):
        sys.exit(f"{wheel.name} ships the tests")
    if f"kinto_client-{version}-" not in wheel.name:
        sys.exit(f"{wheel.name} does not carry the version {version}")
    print(f"ok: {wheel.name} ({len(names)} files)")


def check_install(wheel: Path, version: str) -> None:
    with tempfile.TemporaryDirectory(prefix="kinto-client-dist-") as tmp:
        env_dir = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(env_dir)
        python = env_dir / "bin" / "python"

        def run(*args: str) -> str:
            result = subprocess.run(
                args, cwd=tmp, capture_output=True, text=True, timeout=300, check=False
            )
            if result.returncode != 0:
                sys.exit(f"failed: {' '.join(args)}\n{result.stdout}{result.stderr}")
            return result.stdout.strip()

        run(
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(wheel),
        )
        probe = (
            "import kinto_client, pathlib; "
            "print(kinto_client.__version__); "
            "print(pathlib.Path(kinto_client.__file__).parent); "
            "from kinto_client import Client, cli_utils, replication, commands"
        )
        installed_version, location = run(str(python), "-c", probe).splitlines()
        if installed_version != version:
            sys.exit(f"installed version {installed_version} != source version {version}")
        package = Path(location)
        if ROOT in package.parents:
            sys.exit(f"imported from the source tree ({package}), not from the fresh venv")
        if not (package / "py.typed").exists():
            sys.exit("py.typed is not installed")
        requirements = run(str(python), "-m", "pip", "list", "--format=freeze")
        names = sorted(line.split("==")[0].lower() for line in requirements.splitlines())
        print(f"ok: installed in a fresh venv: {', '.join(names)}")
        scripts = env_dir / "bin"
        print("ok:", run(str(scripts / "kinto-client"), "--version"))
        run(str(scripts / "kinto-client-replicate"), "--help")
        print("ok: kinto-client-replicate --help")


def main() -> None:
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist").resolve()
    version = source_version()
    sdist = only(dist, "*.tar.gz")
    wheel = only(dist, "*.whl")
    check_sdist(sdist, version)
    check_wheel(wheel, version)
    check_install(wheel, version)
    print(f"dist ok: kinto_client {version}")


if __name__ == "__main__":
    main()
