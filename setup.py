import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "kinto_client" / "__init__.py").read_text(), re.M
).group(1)

setup(
    name="kinto-client",
    version=VERSION,
    description="A Python client for the Kinto HTTP API: records, permissions, batches, retries.",
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    url="https://kinto.readthedocs.io/",
    packages=find_packages(include=["kinto_client", "kinto_client.*"]),
    package_data={"kinto_client": ["py.typed"]},
    include_package_data=True,
    zip_safe=False,
    python_requires=">=3.10",
    install_requires=["requests>=2.28", "unidecode>=1.3"],
    entry_points={
        "console_scripts": [
            "kinto-client = kinto_client.commands:main",
            "kinto-client-replicate = kinto_client.replication:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Typing :: Typed",
        "Topic :: Internet :: WWW/HTTP",
    ],
)
