from pathlib import Path

from tests.support.servers import run_alertmanager, run_prometheus


def test_prometheus_and_alertmanager_start(tmp_path: Path) -> None:
    with run_alertmanager(tmp_path / "am") as alertmanager, run_prometheus(
        tmp_path / "prom", [], alertmanager=alertmanager.address
    ) as prometheus:
        assert prometheus.query("vector(1)")[0]["value"][1] == "1"
        assert alertmanager.alerts() == []
