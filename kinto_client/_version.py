"""The version of kinto_client, defined once (read by setup.py and the docs)."""

__version__ = "2026.12.0"
