"""File storage: blob stores (local directory, S3) and the `_storage`-backed FileService.

Runtime entry points (syscall -> call):
  1.0/storageGenerateUploadUrl -> app.files.generate_upload_url()
  1.0/storageGetUrl            -> app.files.get_url(txn, storageId)
  1.0/storageGetMetadata       -> app.files.get_metadata(txn, storageId)
  1.0/storageDelete            -> app.files.delete(txn, storageId)
  storage/storeBlob (actions)  -> app.files.store([data], contentType,
                                                      parse_sha256_option(sha256))
  storage/getBlob (actions)    -> app.files.read_all(storageId) -> (bytes, contentType) | None
"""

from __future__ import annotations

from .blobstore import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
)
from .service import (
    STORAGE_TABLE,
    FileService,
    FileStorageError,
    StoredFile,
    is_storage_table,
    parse_digest_header,
    parse_sha256_option,
)
from .tokens import UploadTokenError, UploadTokenExpired, sign_upload_token, verify_upload_token

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
    "is_storage_table",
    "parse_digest_header",
    "parse_sha256_option",
    "sign_upload_token",
    "verify_upload_token",
]
