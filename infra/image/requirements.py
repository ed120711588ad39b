"""Print what the image installs: requirements/base.txt with its -r includes inlined, less the
packages in infra/image/test-only.txt, plus infra/image/requirements-bookworm.txt. Plain
Python, no dependencies: the Dockerfile's wheel stage and scripts/build-rootfs both run it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

IMAGE = Path(__file__).resolve().parent
ROOT = IMAGE.parent.parent


def _lines(path: Path) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return match.group(0).lower().replace("_", "-") if match else ""


def flatten(path: Path, seen: set[Path]) -> list[str]:
    out: list[str] = []
    if path in seen:
        return out
    seen.add(path)
    for line in _lines(path):
        if line.startswith("-r "):
            out += flatten((path.parent / line[3:].strip()).resolve(), seen)
        elif line:
            out.append(line)
    return out


def image_requirements() -> list[str]:
    excluded = {_name(line) for line in _lines(IMAGE / "test-only.txt") if line}
    wanted = flatten(ROOT / "requirements" / "base.txt", set())
    wanted += [line for line in _lines(IMAGE / "requirements-bookworm.txt") if line]
    kept: list[str] = []
    for requirement in wanted:
        if _name(requirement) not in excluded and requirement not in kept:
            kept.append(requirement)
    return kept


if __name__ == "__main__":
    sys.stdout.write("".join(f"{r}\n" for r in image_requirements()))
