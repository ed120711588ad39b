"""File storage: blob stores (local directory, S3) and the `_storage`-backed FileService.

Runtime entry points (syscall -> call):
  1.0/storageGenerateUploadUrl -> files_for(dep).generate_upload_url()
  1.0/storageGetUrl            -> files_for(dep).get_url(txn, storageId)
  1.0/storageGetMetadata       -> files_for(dep).get_metadata(txn, storageId)
  1.0/storageDelete            -> files_for(dep).delete(txn, storageId)
  storage/storeBlob (actions)  -> files_for(dep).store([data], contentType,
                                                      parse_sha256_option(sha256))
  storage/getBlob (actions)    -> files_for(dep).read_all(storageId) -> (bytes, contentType) | None
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from .blobstore import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    blob_store_from_env,
)
from .service import (
    STORAGE_TABLE,
    FileService,
    FileStorageError,
    StoredFile,
    parse_digest_header,
    parse_sha256_option,
)
from .tokens import UploadTokenError, UploadTokenExpired, sign_upload_token, verify_upload_token

if TYPE_CHECKING:
    from ..deployment import Deployment

_services: weakref.WeakKeyDictionary[Deployment, FileService] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def files_for(deployment: Deployment) -> FileService:
    """The deployment's FileService, built on first use with the blob store from the env."""
    with _lock:
        service = _services.get(deployment)
        if service is None:
            cfg = deployment.config
            service = FileService(
                deployment.db,
                blob_store_from_env(cfg.data_dir),
                secret=cfg.instance_secret,
                public_url=cfg.public_url,
                deployment=cfg.name,
            )
            _services[deployment] = service
        return service


__all__ = [
    "STORAGE_TABLE",
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "FileService",
    "FileStorageError",
    "LocalBlobStore",
    "S3BlobStore",
    "StoredFile",
    "UploadTokenError",
    "UploadTokenExpired",
    "blob_store_from_env",
    "files_for",
    "parse_digest_header",
    "parse_sha256_option",
    "sign_upload_token",
    "verify_upload_token",
]
