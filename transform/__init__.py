"""Pure polars transforms: raw API pages in, typed frames and rejected records out. No I/O.

- `normalize(table, records, *, project, extracted_at, object_type=None) -> Normalized`:
  `rows` has exactly `SCHEMAS[table].polars_schema`; `rejects` has `REJECTS_SCHEMA`.
  Every record is in exactly one of them. Larger batches cost less per record (polars has a
  fixed cost per call): normalising a buffer of raw records beats normalising each page.
- `table_reference_markdown()`: the README's table reference, generated from `SCHEMAS`.
"""

import lazy_loader

# Names load their module on first use (SPEC 1 lazy loading; the names and their modules are
# in __init__.pyi, which type checkers read): the command line's start must not pay for
# modules its command does not use.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
