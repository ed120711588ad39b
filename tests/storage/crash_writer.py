"""Child process for the crash test: commits forever, reporting each commit on stdout."""

from __future__ import annotations

import sys

from dataplane.transactions import Transaction, open_database


def main(url: str) -> None:
    db = open_database(url)
    (counter,), _ = db.run_mutation(lambda tx: [tx.insert("counter", {"n": 0})])
    i = 0
    while True:

        def step(tx: Transaction, i: int = i) -> str:
            doc = tx.get(counter)
            assert doc is not None
            tx.patch(counter, {"n": doc["n"] + 1})
            return tx.insert("items", {"i": float(i), "pad": "x" * 200})

        doc_id, ts = db.run_mutation(step)
        sys.stdout.write(f"{ts} {doc_id} {counter}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main(sys.argv[1])
