"""`prefect.yaml` declares the deployments `ubiops-etl deploy` registers, with no secret."""

from __future__ import annotations

import yaml
from prefect import Flow
from prefect.utilities.importtools import import_object

from flows.core.settings import Settings
from flows.deployments import PROJECT_ROOT, deployment_specs
from flows.params import RunParams


def test_prefect_yaml_declares_the_deployments_deploy_registers(monkeypatch):
    monkeypatch.setenv("UBIOPS_API_TOKEN", "Token secret-abc")
    settings = Settings.from_overrides(warehouse=".ubiops-etl/warehouse")
    specs = deployment_specs(settings, sync_every="15m", sync_cron=None, compact_cron="0 3 * * *")
    doc = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())
    declared = {d["name"]: d for d in doc["deployments"]}
    assert set(declared) == {spec.name for spec in specs}
    for spec in specs:
        entry = declared[spec.name]
        assert entry["entrypoint"] == spec.entrypoint
        assert isinstance(import_object(spec.entrypoint), Flow)
        schedules = entry.get("schedules", [])
        if spec.cron:
            assert schedules == [{"cron": spec.cron}]
        elif spec.interval_s:
            assert schedules == [{"interval": spec.interval_s}]
        else:
            assert schedules == []
        assert set(entry["parameters"]) == set(spec.parameters)
        if "params" in entry["parameters"]:
            RunParams.model_validate(entry["parameters"]["params"])  # the flows' schema
        assert "secret-abc" not in str(spec.parameters)
    assert "token" not in (PROJECT_ROOT / "prefect.yaml").read_text().split("deployments:")[1]
