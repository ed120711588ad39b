"""Several processes serving one Postgres or MySQL deployment: one committer, the rest replicas.

Replicas follow the committer's persisted log, serve reads and subscriptions themselves and
forward commits (write set + read set) to the committer over HTTP. The process holding the
database's committer lock (a Postgres advisory lock, a MySQL GET_LOCK) is the committer; a
replica takes the lock over if it is freed.
"""
