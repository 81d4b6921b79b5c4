"""kinto_client: a Python client for the Kinto HTTP API.

>>> from kinto_client import Client
>>> client = Client(server_url="http://localhost:8888/v1", auth=("alice", "s3cr3t"))
"""

from kinto_client._version import __version__
from kinto_client.aio import AsyncClient
from kinto_client.auth import BasicAuth, BearerTokenAuth, TokenAuth
from kinto_client.batch import Batch
from kinto_client.client import Client, KintoObject, RecordList
from kinto_client.endpoints import Endpoints
from kinto_client.exceptions import (
    BackoffException,
    BucketNotFound,
    CapabilityMissing,
    CollectionNotFound,
    KintoBatchException,
    KintoConnectionError,
    KintoException,
    KintoHTTPError,
    KintoTimeout,
    MissingId,
)
from kinto_client.oidc import BrowserOIDCAuth, OIDCLoginError, OIDCLoginTimeout
from kinto_client.payloads import DO_NOT_OVERWRITE, ID_FIELD, OBJECTS_PERMISSIONS
from kinto_client.retry import Retry
from kinto_client.session import Session, create_session

__all__ = [
    "DO_NOT_OVERWRITE",
    "ID_FIELD",
    "OBJECTS_PERMISSIONS",
    "AsyncClient",
    "BackoffException",
    "BasicAuth",
    "Batch",
    "BearerTokenAuth",
    "BrowserOIDCAuth",
    "BucketNotFound",
    "CapabilityMissing",
    "Client",
    "CollectionNotFound",
    "Endpoints",
    "KintoBatchException",
    "KintoConnectionError",
    "KintoException",
    "KintoHTTPError",
    "KintoObject",
    "KintoTimeout",
    "MissingId",
    "OIDCLoginError",
    "OIDCLoginTimeout",
    "RecordList",
    "Retry",
    "Session",
    "TokenAuth",
    "__version__",
    "create_session",
]
