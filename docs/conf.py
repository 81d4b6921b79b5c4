"""Sphinx configuration of the kinto_client documentation (``make docs``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

project = "kinto_client"
author = "kinto_client contributors"
copyright = "2015-2026, Mozilla Services and kinto_client contributors"
# The version is defined once, in kinto_client/_version.py.
release = re.search(
    r'^__version__ = "([^"]+)"', (ROOT / "kinto_client" / "_version.py").read_text(), re.M
).group(1)
version = release

extensions = ["sphinx.ext.autodoc"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

exclude_patterns = ["_build", "examples"]
nitpicky = False

html_theme = "alabaster"
html_theme_options = {
    "description": "A Python client for the Kinto HTTP API",
    "fixed_sidebar": True,
}
html_static_path: list[str] = []


def _resolve_reexported(app, env, node, contnode):  # type: ignore[no-untyped-def]
    """Let ``kinto_client.Client`` link to ``kinto_client.client.Client``.

    The reference documents each class in the module that defines it; the
    guides use the names users import (``from kinto_client import Client``).
    """
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("kinto_client."):
        return None
    import kinto_client

    head, *rest = target.split(".")[1:]
    module = getattr(getattr(kinto_client, head, None), "__module__", None)
    if not module or module == "kinto_client" or not module.startswith("kinto_client."):
        return None
    real = ".".join([module, head, *rest])
    return env.get_domain("py").resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], real, node, contnode
    )


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("missing-reference", _resolve_reexported)
