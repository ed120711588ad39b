"""Several processes serving one Postgres deployment: one committer, the rest read replicas.

Replicas follow the committer's persisted log, serve reads and subscriptions themselves and
forward commits (write set + read set) to the committer over HTTP. The process holding the
Postgres committer lock is the committer; a replica takes the lock over if it is freed.
"""
