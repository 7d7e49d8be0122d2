"""The README's table reference is generated from the schemas and cannot drift."""

from pathlib import Path

import pytest

from flows.readme import with_reference
from transform.schemas import SCHEMAS

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_table_reference_matches_the_schemas():
    """Regenerating the reference leaves the README unchanged (run `python -m flows.readme`)."""
    text = README.read_text(encoding="utf-8")
    assert with_reference(text) == text
    for name, schema in SCHEMAS.items():
        assert f"`{name}`" in text
        for column in schema.names:
            assert f"`{column}`" in text


def test_missing_markers_are_an_error():
    """A README without the markers is refused rather than silently left stale."""
    with pytest.raises(ValueError, match="tables:start"):
        with_reference("# no markers here\n")
