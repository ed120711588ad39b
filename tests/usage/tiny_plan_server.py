"""`python -m tests.usage.tiny_plan_server <daphne args>`: the control plane served by daphne
with one more plan, "tiny", allowing STRATA_TEST_TINY_CALLS function calls a month, so an
end-to-end test can push a team over a quota with a handful of real calls."""

from __future__ import annotations

import os
import sys

import django


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    django.setup()
    from daphne.cli import CommandLineInterface

    from controlplane.usage import quotas

    calls = int(os.environ["STRATA_TEST_TINY_CALLS"])
    quotas.PLANS["tiny"] = quotas.Plan("tiny", 5, calls, None, None, None)
    CommandLineInterface().run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
