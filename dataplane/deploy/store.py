"""The deployed code and config, kept in system tables so a push activates in one transaction.

`_modules` holds one row per pushed module (path, environment, the CLI's sha256); the module's
source and source map live zlib-compressed in `_module_blobs`, chunked below the 1 MiB document
limit and keyed by that sha256, so unchanged modules cost nothing on the next push.
`_deploy_config` holds one row: the schema, auth providers, analysis and push metadata.
`_environment_variables` holds the deployment's env vars.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..transactions import Database, IndexDefinition, Transaction

MODULES_TABLE = "_modules"
BLOBS_TABLE = "_module_blobs"
CONFIG_TABLE = "_deploy_config"
ENV_TABLE = "_environment_variables"
BLOB_INDEX = "by_sha256"
CHUNK_BYTES = 512 * 1024


@dataclass(frozen=True)
class StoredModule:
    """One deployed module as the CLI pushed it."""

    path: str
    source: str
    source_map: str | None
    environment: str

    @property
    def sha256(self) -> str:
        return module_hash(self.source, self.source_map)


@dataclass
class DeployedConfig:
    """The active push's non-module state (JSON-able parts are stored verbatim)."""

    functions: str = "convex/"
    udf_server_version: str | None = None
    node_version: str | None = None
    schema: dict[str, Any] | None = None
    auth_info: list[dict[str, Any]] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)
    push_id: str = ""
    pushed_at_ms: float = 0.0
    # component path -> {env var: binding}: what each instance's parent passes it (see
    # component_env.resolve); every instance has an entry, bound or not.
    component_env: dict[str, dict[str, Any]] = field(default_factory=dict)
    # which instance's http.js serves a path (runtime/http_mounts.py); {} = convex/http.js only
    http_routing: dict[str, Any] = field(default_factory=dict)
    # The push's nodeDependencies ([{name, version}]): external packages of "use node" actions.
    node_dependencies: list[dict[str, str]] = field(default_factory=list)

    def to_doc(self) -> dict[str, Any]:
        return {
            "functions": self.functions,
            "udfServerVersion": self.udf_server_version,
            "nodeVersion": self.node_version,
            "schemaJson": None if self.schema is None else orjson.dumps(self.schema).decode(),
            "authJson": orjson.dumps(self.auth_info).decode(),
            "analysisJson": orjson.dumps(self.analysis).decode(),
            "pushId": self.push_id,
            "pushedAtMs": self.pushed_at_ms,
            "componentEnvJson": orjson.dumps(self.component_env).decode(),
            "httpRoutingJson": orjson.dumps(self.http_routing).decode(),
            "nodeDependenciesJson": orjson.dumps(self.node_dependencies).decode(),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> DeployedConfig:
        schema_json = doc.get("schemaJson")
        return cls(
            functions=str(doc.get("functions") or "convex/"),
            udf_server_version=doc.get("udfServerVersion"),
            node_version=doc.get("nodeVersion"),
            schema=None if schema_json is None else orjson.loads(schema_json),
            auth_info=orjson.loads(doc.get("authJson") or "[]"),
            analysis=orjson.loads(doc.get("analysisJson") or "{}"),
            push_id=str(doc.get("pushId") or ""),
            pushed_at_ms=float(doc.get("pushedAtMs") or 0.0),
            component_env=orjson.loads(doc.get("componentEnvJson") or "{}"),
            http_routing=orjson.loads(doc.get("httpRoutingJson") or "{}"),
            node_dependencies=orjson.loads(doc.get("nodeDependenciesJson") or "[]"),
        )


def module_hash(source: str, source_map: str | None) -> str:
    """The CLI's module hash: sha256 hex of source then source map (components.ts `hash`)."""
    h = hashlib.sha256(source.encode())
    h.update((source_map or "").encode())
    return h.hexdigest()


def ensure_tables(db: Database) -> None:
    """Create the system tables and the blob index (idempotent)."""
    for table in (MODULES_TABLE, CONFIG_TABLE, ENV_TABLE):
        db.ensure_table(table)
    if not any(i.name == BLOB_INDEX for i in db.indexes(BLOBS_TABLE)):
        db.set_indexes(BLOBS_TABLE, [IndexDefinition(BLOB_INDEX, ["sha256", "seq"])])


# ----- reads ---------------------------------------------------------------------------


def module_rows(txn: Transaction) -> list[dict[str, Any]]:
    """The `_modules` rows (path, environment, sha256), sorted by path."""
    return sorted(txn.table_scan(MODULES_TABLE), key=lambda d: str(d["path"]))


def _blob(txn: Transaction, sha: str) -> bytes | None:
    chunks = [
        bytes(d["data"])
        for d in txn.index_scan(
            BLOBS_TABLE, BLOB_INDEX, [{"type": "Eq", "fieldPath": "sha256", "value": sha}]
        )
    ]
    return zlib.decompress(b"".join(chunks)) if chunks else None


def load_modules(txn: Transaction) -> list[StoredModule]:
    """Every deployed module with its source (what the runtime bundles)."""
    out = []
    for row in module_rows(txn):
        raw = _blob(txn, str(row["sha256"]))
        if raw is None:
            raise RuntimeError(f"Stored module {row['path']} is missing its source blob")
        body = orjson.loads(raw)
        out.append(StoredModule(row["path"], body["source"], body.get("sourceMap"), row["env"]))
    return out


def load_module_source(txn: Transaction, sha: str) -> StoredModule | None:
    """A stored module body by hash (to reuse an unchanged module the CLI did not resend)."""
    raw = _blob(txn, sha)
    if raw is None:
        return None
    body = orjson.loads(raw)
    return StoredModule(body["path"], body["source"], body.get("sourceMap"), body["env"])


def load_config(txn: Transaction) -> DeployedConfig | None:
    """The active config, or None before the first push."""
    for doc in txn.table_scan(CONFIG_TABLE):
        return DeployedConfig.from_doc(doc)
    return None


def load_env(txn: Transaction) -> dict[str, str]:
    """Environment variables by name."""
    return {str(d["name"]): str(d["value"]) for d in txn.table_scan(ENV_TABLE)}


# ----- writes --------------------------------------------------------------------------


def _store_blob(txn: Transaction, module: StoredModule) -> None:
    body = {
        "path": module.path,
        "source": module.source,
        "sourceMap": module.source_map,
        "env": module.environment,
    }
    data = zlib.compress(orjson.dumps(body), 6)
    sha = module.sha256
    for seq, start in enumerate(range(0, len(data), CHUNK_BYTES)):
        txn.insert(
            BLOBS_TABLE,
            {"sha256": sha, "seq": float(seq), "data": data[start : start + CHUNK_BYTES]},
        )


def replace_modules(txn: Transaction, modules: list[StoredModule]) -> tuple[list[str], list[str]]:
    """Make the deployed module set exactly `modules`; returns (added, removed) paths."""
    old = {str(r["path"]): r for r in module_rows(txn)}
    new = {m.path: m for m in modules}
    kept_hashes = {m.sha256 for m in modules}
    old_hashes = {str(r["sha256"]) for r in old.values()}
    for path, row in old.items():
        module = new.get(path)
        if module is None:
            txn.delete(row["_id"])
        elif row["sha256"] != module.sha256 or row["env"] != module.environment:
            txn.replace(
                row["_id"], {"path": path, "env": module.environment, "sha256": module.sha256}
            )
    for path, module in new.items():
        if path not in old:
            txn.insert(
                MODULES_TABLE, {"path": path, "env": module.environment, "sha256": module.sha256}
            )
    stored: set[str] = set()
    for module in modules:
        sha = module.sha256
        if sha in old_hashes or sha in stored:
            continue
        stored.add(sha)
        _store_blob(txn, module)
    for sha in old_hashes - kept_hashes:
        for chunk in list(
            txn.index_scan(
                BLOBS_TABLE, BLOB_INDEX, [{"type": "Eq", "fieldPath": "sha256", "value": sha}]
            )
        ):
            txn.delete(chunk["_id"])
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    return added, removed


def save_config(txn: Transaction, config: DeployedConfig) -> None:
    """Replace the single config row."""
    rows = list(txn.table_scan(CONFIG_TABLE))
    if rows:
        txn.replace(rows[0]["_id"], config.to_doc())
        for extra in rows[1:]:
            txn.delete(extra["_id"])
    else:
        txn.insert(CONFIG_TABLE, config.to_doc())


def apply_env_changes(txn: Transaction, changes: list[tuple[str, str | None]]) -> None:
    """Set (value) or delete (None) environment variables; the caller validated them."""
    rows = {str(d["name"]): d for d in txn.table_scan(ENV_TABLE)}
    for name, value in changes:
        row = rows.get(name)
        if value is None:
            if row is not None:
                txn.delete(row["_id"])
                del rows[name]
        elif row is None:
            new_id = txn.insert(ENV_TABLE, {"name": name, "value": value})
            rows[name] = {"_id": new_id, "name": name, "value": value}
        elif row.get("value") != value:
            txn.replace(row["_id"], {"name": name, "value": value})
            rows[name] = {**row, "value": value}
