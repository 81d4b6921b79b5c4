"""``python -m kinto_client``: see :mod:`kinto_client.commands`."""

import sys

from kinto_client.commands import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m kinto_client"))
