"""The Kubernetes examples parse, and their monitors select the example's pods."""

from __future__ import annotations

from pathlib import Path

import yaml

import connectly_obs

KUBERNETES = Path(__file__).resolve().parents[2] / "examples" / "kubernetes"


def load_all(name: str) -> list[dict[str, object]]:
    return list(yaml.safe_load_all((KUBERNETES / name).read_text()))


def test_monitors_select_deployment_pods() -> None:
    deployment, service = load_all("deployment.yaml")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]  # type: ignore[index]
    [service_monitor] = load_all("servicemonitor.yaml")
    [pod_monitor] = load_all("podmonitor.yaml")

    assert service_monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()  # type: ignore[index]
    assert service["spec"]["selector"].items() <= pod_labels.items()  # type: ignore[index]
    assert pod_monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()  # type: ignore[index]


def test_deployment_sets_multiprocess_dir_and_mounts_it() -> None:
    deployment, _ = load_all("deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]  # type: ignore[index]
    [container] = pod["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}

    assert env["PROMETHEUS_MULTIPROC_DIR"] == mounts["prometheus-multiproc"]
    assert "emptyDir" in volumes["prometheus-multiproc"]


def test_public_names_exported() -> None:
    for name in ("MetricsServer", "make_asgi_app", "make_wsgi_app", "start_metrics_server"):
        assert name in connectly_obs.__all__
        assert callable(getattr(connectly_obs, name))
