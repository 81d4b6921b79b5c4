"""Check built distributions: ``python tests/check_dist.py DIST_DIR`` (run by ``make dist``).

- the sdist holds what a rebuild and the test suite need (README, CHANGELOG,
  CONTRIBUTING, setup.py, py.typed, tests and their server config);
- the wheel is named after this project's distribution (``kinto-client-ng``,
  read from setup.py) and version (``kinto_client/_version.py``), holds the
  package and ``py.typed``, and its metadata carries the project URLs;
- the wheel installs into a fresh virtualenv created outside the source tree,
  where ``import kinto_client`` gives this library (its own names import, and
  the package belongs to this distribution alone), and the ``kinto-client``
  and ``kinto-client-replicate`` commands run;
- then the 2016 ``kinto-client`` (the other library that ships an import
  package ``kinto_client``) is installed over it in that throw-away
  virtualenv, and the same check must report the conflict: the check that
  says "this library" can fail. ``--no-conflict-check`` skips that step.

Exits non-zero with the reason on the first failed check.
"""

from __future__ import annotations

import email
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDIST_MUST_HAVE = [
    "README.rst",
    "CHANGELOG.rst",
    "CONTRIBUTING.rst",
    "setup.py",
    "pyproject.toml",
    "MANIFEST.in",
    "kinto_client/__init__.py",
    "kinto_client/_version.py",
    "kinto_client/py.typed",
    "tests/conftest.py",
    "tests/config/kinto.ini",
]
WHEEL_MUST_HAVE = [
    "kinto_client/__init__.py",
    "kinto_client/_version.py",
    "kinto_client/py.typed",
    "kinto_client/client.py",
]
PROJECT_URLS = ["Source", "Documentation", "Changelog", "Issues"]
#: The 2016 library on the registry under the name this port cannot use; it
#: ships an import package ``kinto_client`` too.
OTHER_LIBRARY = "kinto-client==5.0.0"

#: Run in the fresh virtualenv: which library ``import kinto_client`` gives.
PROBE = """
import importlib.metadata as metadata, json, pathlib, re, sys

def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()

problems = []
try:
    import kinto_client
    from kinto_client import Client, KintoHTTPError, Retry, cli_utils, commands, replication
except ImportError as exc:
    problems.append(f"import kinto_client fails: {exc}")
    kinto_client = None
owners = sorted({normalize(n) for n in metadata.packages_distributions().get("kinto_client", [])})
expected = normalize(sys.argv[1])
if owners != [expected]:
    problems.append(
        f"the kinto_client package belongs to {owners}, not to {expected!r} alone: "
        "two libraries share the import name kinto_client"
    )
print(json.dumps({
    "version": getattr(kinto_client, "__version__", None),
    "location": str(pathlib.Path(kinto_client.__file__).parent) if kinto_client else None,
    "distribution_version": metadata.version(expected),
    "owners": owners,
    "problems": problems,
}))
"""


def source_version() -> str:
    text = (ROOT / "kinto_client" / "_version.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not match:
        sys.exit("kinto_client/_version.py defines no __version__")
    return match.group(1)


def distribution_name() -> str:
    text = (ROOT / "setup.py").read_text(encoding="utf-8")
    match = re.search(r'^\s*name="([^"]+)"', text, re.M)
    if not match:
        sys.exit("setup.py gives no name=")
    return match.group(1)


def file_stem(name: str) -> str:
    """The name as wheel and sdist file names spell it (kinto-client-ng: kinto_client_ng)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        sys.exit(f"expected one {pattern} in {directory}, found {[p.name for p in found]}")
    return found[0]


def check_sdist(sdist: Path, name: str, version: str) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    missing = [name for name in SDIST_MUST_HAVE if name not in names]
    if missing:
        sys.exit(f"{sdist.name} lacks {missing} (see MANIFEST.in)")
    if sdist.name != f"{file_stem(name)}-{version}.tar.gz":
        sys.exit(f"{sdist.name} does not carry the name {name} and the version {version}")
    print(f"ok: {sdist.name} ({len(names)} files)")


def check_wheel(wheel: Path, name: str, version: str) -> None:
    expected = f"{file_stem(name)}-{version}-py3-none-any.whl"
    if wheel.name != expected:
        sys.exit(
            f"{wheel.name}: expected {expected} (name from setup.py, version from _version.py)"
        )
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = email.message_from_bytes(
            archive.read(f"{file_stem(name)}-{version}.dist-info/METADATA")
        )
    missing = [name for name in WHEEL_MUST_HAVE if name not in names]
    if missing:
        sys.exit(f"{wheel.name} lacks {missing}")
    if any(name.startswith("tests/") for name in names):
        sys.exit(f"{wheel.name} ships the tests")
    if (metadata["Name"], metadata["Version"]) != (name, version):
        sys.exit(f"{wheel.name}: metadata says {metadata['Name']} {metadata['Version']}")
    urls = dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL") or [])
    missing = [label for label in PROJECT_URLS if not urls.get(label, "").startswith("https://")]
    if missing:
        sys.exit(f"{wheel.name}: no project URL for {missing} (setup.py project_urls)")
    print(f"ok: {wheel.name} ({len(names)} files; URLs: {', '.join(urls)})")


def check_install(wheel: Path, name: str, version: str, conflict_check: bool) -> None:
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

        def pip_install(requirement: str) -> None:
            run(
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                requirement,
            )

        def probe() -> dict[str, object]:
            answer: dict[str, object] = json.loads(run(str(python), "-c", PROBE, name))
            return answer

        pip_install(str(wheel))
        found = probe()
        if found["problems"]:
            sys.exit(f"import kinto_client does not give this library: {found['problems']}")
        if (found["version"], found["distribution_version"]) != (version, version):
            sys.exit(f"installed {found} != source version {version}")
        package = Path(str(found["location"]))
        if ROOT in package.parents:
            sys.exit(f"imported from the source tree ({package}), not from the fresh venv")
        if not (package / "py.typed").exists():
            sys.exit("py.typed is not installed")
        print(f"ok: import kinto_client gives {name} {version}, from {package}")
        requirements = run(str(python), "-m", "pip", "list", "--format=freeze")
        names = sorted(line.split("==")[0].lower() for line in requirements.splitlines())
        print(f"ok: installed in a fresh venv: {', '.join(names)}")
        scripts = env_dir / "bin"
        for command in ("kinto-client", "kinto-client-replicate"):
            if not (scripts / command).exists():
                sys.exit(f"the {command} command is not installed")
        shown = run(str(scripts / "kinto-client"), "--version")
        if version not in shown:
            sys.exit(f"kinto-client --version says {shown!r}, not {version}")
        print("ok:", shown)
        run(str(scripts / "kinto-client-replicate"), "--help")
        print("ok: kinto-client-replicate --help")
        if conflict_check:
            check_conflict_is_detected(pip_install, probe)


def check_conflict_is_detected(
    pip_install: Callable[[str], None], probe: Callable[[], dict[str, object]]
) -> None:
    """Install the 2016 library over this one (throw-away venv): the probe must object."""
    pip_install(OTHER_LIBRARY)
    found = probe()
    if not found["problems"]:
        sys.exit(f"with {OTHER_LIBRARY} installed too, the check saw no conflict: {found}")
    print(f"ok: with {OTHER_LIBRARY} installed over it, the check objects: {found['problems']}")


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg != "--no-conflict-check"]
    dist = Path(args[0] if args else ROOT / "dist").resolve()
    name = distribution_name()
    version = source_version()
    sdist = only(dist, "*.tar.gz")
    wheel = only(dist, "*.whl")
    check_sdist(sdist, name, version)
    check_wheel(wheel, name, version)
    check_install(wheel, name, version, conflict_check="--no-conflict-check" not in sys.argv)
    print(f"dist ok: {name} {version} (import kinto_client)")


if __name__ == "__main__":
    main()
