#!/usr/bin/env python
"""Django entry point for the control plane and the data-plane commands."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration mistake (a setting missing or malformed): say which, no traceback.
        sys.exit(f"Configuration error: {exc}")


if __name__ == "__main__":
    main()
