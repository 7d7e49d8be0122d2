"""The parameters of a sync or backfill run as one plain, serialisable model.

It is the Prefect flows' parameter schema (what a deployment or the UI may set) and what
every (project, stream) task is given, wherever it runs. Besides the window it holds the
settings the run was started with, by their `Settings` field names, so a setting added to
`Settings` reaches every task with no code here. It holds no secret: each process reads the
token, and the host the token is sent to, from its own environment (`UBIOPS_API_TOKEN`,
`UBIOPS_API_HOST`), so neither appears in flow or task parameters, the Prefect UI or a Dask
message, and no parameter can send a worker's token elsewhere.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from flows.core.settings import Settings

# Read by each process from its own environment, never passed.
PROCESS_ONLY = frozenset({"api_token", "api_host"})


class _GivenSettings(Settings):
    """The settings model fed only the values given, not the environment: what checks a
    parameter before a run (the run itself reads its environment too)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class RunParams(BaseModel):
    """What a run was asked for: its window and the settings given (any other keeps the
    running process's environment value, or the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: str | None = None
    """ISO 8601 or an age (`7d`); the first sync's start, or the backfill's."""
    until: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    """`Settings` fields by name (`warehouse`, `streams`, `task_runner`, ...), JSON values."""

    @field_validator("settings")
    @classmethod
    def _known_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        not_here = sorted(set(value) & PROCESS_ONLY)
        if not_here:
            raise ValueError(f"{', '.join(not_here)} come from the environment, not parameters")
        _GivenSettings(**value)  # unknown names and bad values say which setting is wrong
        return value

    def to_settings(self) -> Settings:
        """This process's settings: its environment (and the token there) with these on top."""
        return Settings.from_overrides(**self.settings)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, since: str | None = None, until: str | None = None
    ) -> RunParams:
        """The parameters that give `settings` again in a process with the same token and
        host: every setting that was given (by a flag or the environment), not the defaults,
        which stay the running process's to set."""
        given = settings.model_fields_set - PROCESS_ONLY
        values = settings.model_dump(mode="json", include=set(given))
        values["warehouse"] = settings.location.uri  # absolute: the run may start elsewhere
        return cls(since=since, until=until, settings=values)
