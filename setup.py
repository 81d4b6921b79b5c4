import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
# The version is defined once, in kinto_client/_version.py (a CalVer: see CHANGELOG.rst).
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "kinto_client" / "_version.py").read_text(), re.M
).group(1)
# Where the project lives; every URL of the metadata derives from it.
SOURCE = "https://github.com/kinto-client-ng/kinto-client-ng"

setup(
    # Not "kinto-client": that name on the registry is the 2016 original (up to 5.0.0),
    # which ships an import package of the same name. The import name stays kinto_client.
    name="kinto-client-ng",
    version=VERSION,
    description="A Python client for the Kinto HTTP API: records, permissions, batches, retries.",
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    url=SOURCE,
    project_urls={
        "Source": SOURCE,
        "Documentation": "https://kinto-client-ng.readthedocs.io/",
        "Changelog": f"{SOURCE}/blob/main/CHANGELOG.rst",
        "Issues": f"{SOURCE}/issues",
    },
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
    keywords=["kinto", "client", "http", "rest", "json"],
    classifiers=[
        "Development Status :: 5 - Production/Stable",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
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
