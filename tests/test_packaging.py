"""The distribution's name and version, and the install instructions of the docs.

The registry's ``kinto-client`` is another library (the 2016 original): no
page may tell a user to install it, and the wheel named in the docs is the
one ``make dist`` builds. ``make dist`` (tests/check_dist.py) checks the
built wheel itself, its metadata and its install in a fresh virtualenv.
"""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import sys
from pathlib import Path

import pytest

import kinto_client
from kinto_client import _version

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_dist import distribution_name, file_stem, source_version

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT / "README.rst",
    ROOT / "CONTRIBUTING.rst",
    ROOT / "CHANGELOG.rst",
    *sorted((ROOT / "docs").glob("*.rst")),
]
#: Other projects the docs may tell to install (server plugins, the peer).
OTHERS = {"kinto-attachment", "kinto-http", "kinto"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_install_commands() -> list[tuple[str, str]]:
    """The ``$ pip install ...`` lines of the console blocks, with their page."""
    found = []
    for page in PAGES:
        for line in page.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*\$ pip install\b", line):
                found.append((page.relative_to(ROOT).as_posix(), line.strip()))
    return found


def install_targets(line: str) -> list[str]:
    """What a ``$ pip install`` line installs: its arguments that are not options."""
    words = shlex.split(line.removeprefix("$").split("#", 1)[0])
    return [word for word in words[2:] if not word.startswith("-")]


def test_the_distribution_is_not_the_2016_kinto_client() -> None:
    name = distribution_name()
    assert normalize(name) == "kinto-client-ng"
    assert normalize(name) != "kinto-client"


def test_the_version_is_defined_once_and_is_a_calendar_version() -> None:
    version = source_version()
    assert kinto_client.__version__ == _version.__version__ == version
    year, month, n = (int(part) for part in version.split("."))
    # A calendar version: never confused with the old kinto-client's 1.x to 5.x.
    assert year >= 2026 and 1 <= month <= 12 and n >= 0


def test_the_installed_kinto_client_package_is_this_distribution_alone() -> None:
    """The suite's environment (make's .venv, tox) has this library, not the 2016 one."""
    owners = importlib.metadata.packages_distributions().get("kinto_client", [])
    assert {normalize(owner) for owner in owners} == {normalize(distribution_name())}
    assert importlib.metadata.version(distribution_name()) == kinto_client.__version__


def test_the_docs_install_instructions_install_this_project() -> None:
    commands = pip_install_commands()
    wheel = f"dist/{file_stem(distribution_name())}-{source_version()}-py3-none-any.whl"
    installs_this = set()
    for page, line in commands:
        for target in install_targets(line):
            name = normalize(re.split(r"[<>=!~\[; ]", target, maxsplit=1)[0])
            assert name not in {"kinto-client", "kinto-client-ng"}, (
                f"{page}: {line!r} installs from the registry "
                "('kinto-client' is another library; this one is not published there)"
            )
            if target.startswith("dist/"):
                assert target == wheel, f"{page}: {line!r}: make dist builds {wheel}"
            if target in {".", wheel}:
                installs_this.add(page)
            else:
                assert name in OTHERS, f"{page}: {line!r} installs {target!r}"
    assert {"README.rst", "docs/quickstart.rst", "docs/index.rst", "docs/migrating.rst"} <= (
        installs_this
    )
    for page in ("README.rst", "docs/quickstart.rst"):
        assert (page, f"$ pip install {wheel}") in commands, f"{page} shows no wheel install"


def test_readme_says_make_tests_empties_the_server_it_is_given() -> None:
    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    paragraphs = [p for p in readme.split("\n\n") if "__flush__" in p]
    assert paragraphs, "the README does not mention POST /__flush__"
    text = " ".join(" ".join(paragraphs).split())
    for needed in (
        "KINTO_SERVER_URL",
        "POST /__flush__",
        "deletes everything",
        "kinto.plugins.flush",
        "kinto.flush_endpoint_enabled = true",
    ):
        assert needed in text, needed


@pytest.mark.parametrize("name", ["kinto-client-ng", "kinto_client_ng", "Kinto.Client-NG"])
def test_file_stem_is_the_wheel_spelling(name: str) -> None:
    assert file_stem(name) == "kinto_client_ng"
