"""The prometheus-operator and Grafana renderings carry the fields their consumers require."""

from __future__ import annotations

import re
from typing import Any

import yaml

from connectly_obs.alerts import Config, load_config, render, rule_groups

# Patterns from the PrometheusRule CustomResourceDefinition (monitoring.coreos.com/v1).
_CRD_DURATION = re.compile(
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _operator(config: Config) -> dict[str, Any]:
    document = yaml.safe_load(render(config, "prometheus-operator"))
    assert isinstance(document, dict)
    return document


def _grafana(config: Config) -> dict[str, Any]:
    document = yaml.safe_load(render(config, "grafana"))
    assert isinstance(document, dict)
    return document


def test_operator_manifest_has_kubernetes_object_fields() -> None:
    manifest = _operator(Config())

    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["kind"] == "PrometheusRule"
    assert _DNS_SUBDOMAIN.match(manifest["metadata"]["name"])
    assert set(manifest) == {"apiVersion", "kind", "metadata", "spec"}


def test_operator_groups_follow_prometheusrule_schema() -> None:
    groups = _operator(Config())["spec"]["groups"]
    names = [group["name"] for group in groups]

    assert len(names) == len(set(names))
    for group in groups:
        assert isinstance(group["name"], str) and group["name"]
        assert set(group) <= {"name", "interval", "rules", "limit", "partial_response_strategy"}
        for rule in group["rules"]:
            assert isinstance(rule["expr"], str) and rule["expr"]
            assert ("record" in rule) != ("alert" in rule), rule
            assert set(rule) <= {"record", "alert", "expr", "for", "labels", "annotations"}
            if "for" in rule:
                assert _CRD_DURATION.match(rule["for"]), rule["for"]
            for mapping in ("labels", "annotations"):
                values = rule.get(mapping, {})
                assert all(isinstance(value, str) for value in values.values()), rule


def test_operator_spec_equals_rule_file_groups() -> None:
    assert _operator(Config())["spec"]["groups"] == rule_groups(Config())


def test_operator_metadata_takes_namespace_and_labels() -> None:
    config = load_config(
        {
            "operator": {
                "name": "shop-connectly",
                "namespace": "monitoring",
                "labels": {"prometheus": "k8s", "role": "alert-rules"},
            }
        }
    )

    metadata = _operator(config)["metadata"]

    assert metadata == {
        "name": "shop-connectly",
        "namespace": "monitoring",
        "labels": {"prometheus": "k8s", "role": "alert-rules"},
    }


def test_operator_metadata_omits_empty_namespace() -> None:
    assert "namespace" not in _operator(Config())["metadata"]


def test_grafana_file_has_provisioning_fields() -> None:
    document = _grafana(Config())

    assert document["apiVersion"] == 1
    [group] = document["groups"]
    assert group["orgId"] == 1
    assert group["name"] == "connectly-obs"
    assert group["folder"] == "Connectly"
    assert group["interval"] == "1m"


def test_grafana_rules_have_required_fields() -> None:
    [group] = _grafana(Config())["groups"]

    for rule in group["rules"]:
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", rule["uid"]), rule["uid"]
        assert rule["title"].startswith("Connectly")
        assert rule["condition"] == "C"
        assert rule["noDataState"] in {"OK", "NoData", "Alerting"}
        assert rule["execErrState"] in {"OK", "Error", "Alerting"}
        assert _CRD_DURATION.match(rule["for"])
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        query, condition = rule["data"]
        assert query["refId"] == "A"
        assert query["datasourceUid"] == "prometheus"
        assert query["relativeTimeRange"] == {"from": 600, "to": 0}
        assert query["model"]["expr"]
        assert condition["refId"] == "C"
        assert condition["datasourceUid"] == "__expr__"
        assert condition["model"]["expression"] == "A"


def test_grafana_uids_and_titles_are_unique() -> None:
    [group] = _grafana(Config())["groups"]
    uids = [rule["uid"] for rule in group["rules"]]
    titles = [rule["title"] for rule in group["rules"]]

    assert len(uids) == len(set(uids))
    assert len(titles) == len(set(titles))


def test_grafana_uids_stable_across_thresholds() -> None:
    changed = load_config({"error_ratio": {"critical": 0.5}})

    before = [rule["uid"] for rule in _grafana(Config())["groups"][0]["rules"]]
    after = [rule["uid"] for rule in _grafana(changed)["groups"][0]["rules"]]

    assert before == after


def test_grafana_annotations_use_query_value() -> None:
    [group] = _grafana(Config())["groups"]
    descriptions = [rule["annotations"]["description"] for rule in group["rules"]]

    assert not any("$value " in text or "$value}" in text for text in descriptions)
    assert any("$values.A.Value" in text for text in descriptions)


def test_grafana_repeated_alerts_get_distinct_titles() -> None:
    [group] = _grafana(Config())["groups"]
    titles = {rule["title"] for rule in group["rules"]}

    assert "ConnectlyErrorRatioHigh (critical)" in titles
    assert "ConnectlyErrorBudgetBurn (critical, 1h/5m)" in titles
    assert "ConnectlyCredentialsBroken" in titles


def test_grafana_datasource_and_folder_from_config() -> None:
    config = load_config(
        {
            "grafana": {
                "datasource_uid": "prom-eu",
                "folder": "Messaging",
                "org_id": 3,
                "interval": "30s",
            }
        }
    )

    [group] = _grafana(config)["groups"]

    assert (group["folder"], group["orgId"], group["interval"]) == ("Messaging", 3, "30s")
    assert {rule["data"][0]["datasourceUid"] for rule in group["rules"]} == {"prom-eu"}
