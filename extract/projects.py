"""Project names: validated before they become URL or path segments; listing projects."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from extract.client import UbiOpsClient
from extract.errors import InvalidProjectName

log = logging.getLogger(__name__)

# API.md: lowercase letters, digits and dashes, starting with a lowercase letter. The length
# cap is ours: generous for real names, short enough to be a safe path segment.
PROJECT_NAME = re.compile(r"[a-z][a-z0-9-]*")
# The lake uses project names as path segments and takes at most 64 characters; a longer
# name is refused here, before any call is made for it.
MAX_PROJECT_NAME_LENGTH = 64


def validate_project_name(name: object) -> str:
    """`name` if it is a valid project name; otherwise `InvalidProjectName` saying why."""
    if not isinstance(name, str):
        raise InvalidProjectName(repr(name), "not a string")
    if len(name) > MAX_PROJECT_NAME_LENGTH:
        raise InvalidProjectName(name[:40] + "...", f"longer than {MAX_PROJECT_NAME_LENGTH}")
    if not PROJECT_NAME.fullmatch(name):
        raise InvalidProjectName(
            name, "use lowercase letters, digits and dashes, starting with a letter"
        )
    return name


@dataclass(frozen=True)
class ProjectListing:
    """Valid names in the order given (duplicates dropped); rejected ones as (name, reason)."""

    valid: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...]


def check_project_names(names: Iterable[object]) -> ProjectListing:
    """Split names into valid and invalid ones; invalid ones are logged and skipped."""
    valid: list[str] = []
    invalid: list[tuple[str, str]] = []
    for name in names:
        try:
            checked = validate_project_name(name)
        except InvalidProjectName as error:
            log.warning("skipping project: %s", error)
            invalid.append((error.name, error.reason))
            continue
        if checked not in valid:
            valid.append(checked)
    return ProjectListing(tuple(valid), tuple(invalid))


async def list_projects(client: UbiOpsClient, names: Sequence[str] | None = None) -> ProjectListing:
    """The projects to sync: `names` if given, else every project visible to the token."""
    if names is not None:
        return check_project_names(names)
    body = await client.get("/projects")
    rows = body if isinstance(body, list) else []
    return check_project_names([row.get("name") for row in rows if isinstance(row, dict)])
