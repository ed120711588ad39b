"""`python -m strata_tf`: what Terraform execs (through a wrapper or a console script)."""

from __future__ import annotations

import sys


def main() -> None:
    from tf.runner import run_provider

    from .provider import StrataProvider

    run_provider(StrataProvider(), sys.argv)


if __name__ == "__main__":
    main()
