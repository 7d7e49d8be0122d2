"""Keep the README's table reference equal to the schemas: `python -m flows.readme`.

The text comes from `transform.table_reference_markdown()` (pure); this module only does
the file I/O, and a unit test fails whenever the README drifts from the schemas.
"""

from __future__ import annotations

import sys
from pathlib import Path

from transform import table_reference_markdown

START, END = "<!-- tables:start -->", "<!-- tables:end -->"


def with_reference(readme: str) -> str:
    """The README text with the generated reference between the markers."""
    head, found, rest = readme.partition(START)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise ValueError(f"README has no {START} ... {END} section")
    return f"{head}{START}\n{table_reference_markdown().strip()}\n{END}{tail}"


def main(path: str = "README.md") -> int:
    target = Path(path)
    updated = with_reference(target.read_text(encoding="utf-8"))
    target.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
