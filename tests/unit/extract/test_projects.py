"""Project names are validated before use; invalid ones are reported and skipped."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from extract import InvalidProjectName, check_project_names, list_projects, validate_project_name


@pytest.mark.parametrize("name", ["a", "project-1", "x9-y", "a" * 64])
def test_valid_names_pass(name):
    """Lowercase letters, digits and dashes starting with a letter are accepted."""
    assert validate_project_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "1abc", "-abc", "Abc", "a_b", "a/b", "../x", "a b", "a" * 65, None, 5]
)
def test_invalid_names_raise(name):
    """Anything else, including path tricks and over-long names, is refused."""
    with pytest.raises(InvalidProjectName):
        validate_project_name(name)


@given(st.text(max_size=40))
def test_a_valid_name_is_always_a_safe_path_segment(name):
    """Whatever passes validation has no separators, dots or upper case."""
    try:
        checked = validate_project_name(name)
    except InvalidProjectName:
        return
    assert not set(checked) & set("/\\. ")
    assert checked == checked.lower()


def test_check_keeps_valid_in_order_and_reports_invalid():
    """Invalid names are reported with a reason; the valid ones go on, once each."""
    listing = check_project_names(["b", "Bad", "a", "b", "../etc"])
    assert listing.valid == ("b", "a")
    assert [name for name, _ in listing.invalid] == ["Bad", "../etc"]
    assert all(reason for _, reason in listing.invalid)


async def test_list_projects_reads_visible_projects(make_client):
    """Without names, the projects visible to the token are listed and checked."""
    body = [{"name": "alpha"}, {"name": "Nope!"}, {"name": "beta"}, {"id": "no-name"}]
    client = make_client(lambda request: httpx.Response(200, json=body))
    listing = await list_projects(client)
    assert listing.valid == ("alpha", "beta")
    assert [name for name, _ in listing.invalid] == ["Nope!", "None"]
