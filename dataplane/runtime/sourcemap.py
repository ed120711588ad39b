"""Map stack frames in the bundle back to the user's TypeScript via source maps.

esbuild chains the CLI's per-module source maps into the bundle's map, so a frame like
`handler (strata:bundle.js:2931:15)` becomes `handler (../convex/messages.ts:5:9)`, as Convex
shows it.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import orjson

BUNDLE_URL = "strata:bundle.js"
_B64 = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_FRAME = re.compile(re.escape(BUNDLE_URL) + r":(\d+):(\d+)")


def _vlq(segment: str) -> list[int]:
    values, shift, value = [], 0, 0
    for ch in segment:
        digit = _B64[ch]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        shift = value = 0
    return values


def _display(source: str) -> str:
    parts = source.replace("\\", "/").split("/")
    if "node_modules" in parts:
        return "/".join(parts[parts.index("node_modules") :])
    if "convex" in parts:
        i = len(parts) - 1 - parts[::-1].index("convex")
        return "../" + "/".join(parts[i:])
    clean = [p for p in parts if p not in ("", ".")]
    if clean and ".." not in clean and not source.startswith("/"):
        # a project file outside convex/ (e.g. a local component): shown relative to convex/
        return "../" + "/".join(clean)
    return "/".join(parts[-2:])


class SourceMap:
    """A decoded v3 source map (mappings decoded lazily, per line)."""

    def __init__(self, raw: str) -> None:
        data: dict[str, Any] = orjson.loads(raw)
        self._sources = [_display(str(s)) for s in data.get("sources", [])]
        self._lines = str(data.get("mappings", "")).split(";")
        self._decoded: dict[int, tuple[list[int], list[tuple[int, int, int]]]] = {}
        self._state: list[int] = [0, 0, 0]  # source, line, column carried across lines
        self._upto = -1

    def _decode_through(self, line: int) -> None:
        src, oline, ocol = self._state
        for n in range(self._upto + 1, min(line, len(self._lines) - 1) + 1):
            cols: list[int] = []
            targets: list[tuple[int, int, int]] = []
            col = 0
            for seg in self._lines[n].split(","):
                if not seg:
                    continue
                v = _vlq(seg)
                col += v[0]
                if len(v) >= 4:
                    src += v[1]
                    oline += v[2]
                    ocol += v[3]
                    cols.append(col)
                    targets.append((src, oline, ocol))
            self._decoded[n] = (cols, targets)
            self._upto = n
        self._state = [src, oline, ocol]

    def lookup(self, line: int, column: int) -> tuple[str, int, int] | None:
        """(source, line, column), 1-based, for a 1-based generated position."""
        if line < 1:
            return None
        self._decode_through(line - 1)
        cols, targets = self._decoded.get(line - 1, ([], []))
        i = bisect.bisect_right(cols, column - 1) - 1
        if i < 0:
            return None
        src, oline, ocol = targets[i]
        if not 0 <= src < len(self._sources):
            return None
        return self._sources[src], oline + 1, ocol + 1

    def rewrite(self, text: str) -> str:
        """Replace every bundle position in a stack trace with the original one."""

        def sub(m: re.Match[str]) -> str:
            found = self.lookup(int(m.group(1)), int(m.group(2)))
            if found is None:
                return m.group(0)
            return f"{found[0]}:{found[1]}:{found[2]}"

        return _FRAME.sub(sub, text)
