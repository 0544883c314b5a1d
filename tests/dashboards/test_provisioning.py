"""The Grafana provisioning files and docker-compose.yml agree with each other and the dashboards.

Docker is not available to the tests, so these check the files: paths, names,
intervals, and Prometheus's and Alertmanager's own config checkers.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from connectly_obs import _names
from connectly_obs.dashboards import DashboardConfig, build_dashboards
from tests.support.servers import find_tool

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "grafana"


def _load(relative: str) -> Any:
    return yaml.safe_load((GRAFANA / relative).read_text())


def _compose() -> dict[str, Any]:
    return dict(_load("docker-compose.yml"))


def _mounts(service: str) -> dict[str, str]:
    """Return the service's bind mounts as container path to host path, relative to grafana/."""
    mounts = {}
    for volume in _compose()["services"][service].get("volumes", []):
        host, container = volume.split(":")[:2]
        if host.startswith("."):
            mounts[container] = host
    return mounts


def _datasources() -> dict[str, dict[str, Any]]:
    config = _load("provisioning/datasources/connectly-obs.yml")
    return {source["name"]: source for source in config["datasources"]}


def test_compose_runs_every_service() -> None:
    services = _compose()["services"]
    assert {"prometheus", "alertmanager", "grafana", "tempo", "demo"} <= set(services)


def test_compose_images_are_pinned() -> None:
    for name, service in _compose()["services"].items():
        image = service["image"]
        assert ":" in image, f"{name} image {image} has no tag"
        assert not image.endswith(":latest"), f"{name} image {image} is not pinned"


def test_compose_mounts_existing_files() -> None:
    for service in _compose()["services"]:
        for host in _mounts(service).values():
            assert (GRAFANA / host).exists(), f"{service} mounts missing {host}"


def test_compose_publishes_ports_on_loopback_only() -> None:
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_dashboard_provider_reads_mounted_dashboards() -> None:
    provider = _load("provisioning/dashboards/connectly-obs.yml")["providers"][0]
    grafana_mounts = _mounts("grafana")

    assert grafana_mounts[provider["options"]["path"]] == "../dashboards"
    assert grafana_mounts["/etc/grafana/provisioning"] == "./provisioning"


def test_home_dashboard_is_a_provisioned_file() -> None:
    environment = _compose()["services"]["grafana"]["environment"]
    home = Path(environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    provider = _load("provisioning/dashboards/connectly-obs.yml")["providers"][0]

    assert str(home.parent) == provider["options"]["path"]
    assert home.name in build_dashboards()


def test_datasource_time_interval_is_scrape_interval() -> None:
    scrape_interval = _load("prometheus/prometheus.yml")["global"]["scrape_interval"]
    assert _datasources()["Prometheus"]["jsonData"]["timeInterval"] == scrape_interval


def test_datasource_names_match_dashboard_defaults() -> None:
    config = DashboardConfig()
    sources = _datasources()

    assert sources[config.datasource]["type"] == "prometheus"
    assert sources[config.trace_datasource]["type"] == "tempo"


def test_exemplars_link_to_trace_datasource() -> None:
    sources = _datasources()
    destinations = sources["Prometheus"]["jsonData"]["exemplarTraceIdDestinations"]

    assert destinations == [{"name": _names.EXEMPLAR_TRACE_ID, "datasourceUid": "tempo"}]
    assert sources["Tempo"]["uid"] == "tempo"


def test_prometheus_enables_exemplar_storage() -> None:
    command = _compose()["services"]["prometheus"]["command"]
    assert "--enable-feature=exemplar-storage" in command


def test_prometheus_scrapes_the_demo_port() -> None:
    demo_command = " ".join(_compose()["services"]["demo"]["command"])
    scrape = _load("prometheus/prometheus.yml")["scrape_configs"][0]
    target = scrape["static_configs"][0]["targets"][0]

    assert target == "127.0.0.1:9464"
    assert "--metrics-port 9464" in demo_command
    assert _compose()["services"]["demo"]["network_mode"] == "service:prometheus"


def test_prometheus_config_passes_promtool() -> None:
    promtool = find_tool("promtool")
    result = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(GRAFANA / "prometheus/prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_config_passes_amtool() -> None:
    amtool = find_tool("amtool")
    result = subprocess.run(
        [amtool, "check-config", str(GRAFANA / "alertmanager/alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
