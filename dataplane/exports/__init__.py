"""Snapshot export and import in Convex's ZIP format, plus the dashboard's system functions.

Modules: shapes/cleanjson (the clean-JSON value format and its decoding hints), writer (ZIP
export at one snapshot ts), reader (streaming parse of zip/jsonl/json/csv uploads), importer
(modes, batches, id preservation), tables (storage-level helpers), state (job documents in
`_exports` and `_snapshot_imports`), jobs (background threads and files), dashboard (the
`_system/frontend/*` and `_system/cli/*` functions).
"""
