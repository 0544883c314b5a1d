"""Conventions every generated rule follows, and the runbook page that indexes them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from connectly_obs import _names
from connectly_obs.alerts import Config, load_config, rule_groups

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks.md"
GENERATOR = ROOT / "connectly_obs" / "alerts"


def _rules(config: Config, kind: str) -> list[dict[str, Any]]:
    return [rule for group in rule_groups(config) for rule in group["rules"] if kind in rule]


def test_alert_names_are_camel_case_with_prefix() -> None:
    for rule in _rules(Config(), "alert"):
        assert re.fullmatch(r"Connectly(?:[A-Z][a-z0-9]+)+", rule["alert"]), rule["alert"]


def test_alerts_have_severity_annotations_and_for() -> None:
    for rule in _rules(Config(), "alert"):
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["for"]
        assert rule["annotations"]["summary"].endswith(".")
        assert "{{" in rule["annotations"]["description"], rule["alert"]
        assert rule["annotations"]["runbook_url"].endswith("#" + rule["alert"].lower())


def test_expected_alerts_and_severities_present() -> None:
    found = {(rule["alert"], rule["labels"]["severity"]) for rule in _rules(Config(), "alert")}

    assert found == {
        ("ConnectlyErrorRatioHigh", "warning"),
        ("ConnectlyErrorRatioHigh", "critical"),
        ("ConnectlyErrorSpike", "warning"),
        ("ConnectlyRateLimited", "warning"),
        ("ConnectlyRateLimitRising", "info"),
        ("ConnectlyBusinessLimitReached", "critical"),
        ("ConnectlyCredentialsBroken", "critical"),
        ("ConnectlyTemplatesBroken", "warning"),
        ("ConnectlyMessagingWindowMisuse", "info"),
        ("ConnectlyServerErrors", "warning"),
        ("ConnectlyUnparsedErrorResponses", "warning"),
        ("ConnectlyTransportErrors", "warning"),
        ("ConnectlyLatencyHigh", "warning"),
        ("ConnectlyMetricsAbsent", "warning"),
        ("ConnectlyObsHookErrors", "info"),
        ("ConnectlyErrorBudgetBurn", "critical"),
        ("ConnectlyErrorBudgetBurn", "warning"),
    }


def test_recording_rule_names_are_level_metric_operations() -> None:
    for rule in _rules(Config(), "record"):
        level, metric, operations = rule["record"].split(":")
        assert re.fullmatch(r"[a-z_]+", level)
        assert metric.startswith("connectly_api_")
        assert re.fullmatch(r"(ratio_)?rate\w+|histogram_quantile_rate\w+", operations)


def test_recording_level_follows_group_by() -> None:
    config = load_config({"group_by": ["cluster", "job"]})

    names = {rule["record"] for rule in _rules(config, "record")}

    assert "cluster_job:connectly_api_calls:rate5m" in names
    assert "cluster_job_type_code:connectly_api_errors:rate5m" in names


def test_selector_applies_to_every_raw_metric() -> None:
    config = load_config({"selector": 'namespace="shop"'})
    metrics = (
        _names.REQUESTS_TOTAL,
        _names.ERRORS_TOTAL,
        _names.UNPARSED_ERRORS_TOTAL,
        _names.TRANSPORT_ERRORS_TOTAL,
        _names.HOOK_ERRORS_TOTAL,
        _names.REQUEST_DURATION_SECONDS + "_bucket",
        "up",
    )

    for rule in _rules(config, "expr"):
        for metric in metrics:
            for match in re.finditer(rf"(?<![\"|])\b{metric}\b(\{{[^}}]*\}})?", rule["expr"]):
                matchers = match.group(1)
                assert matchers, rule["expr"]
                assert 'namespace="shop"' in matchers, rule["expr"]


def test_alerts_reference_only_recorded_series() -> None:
    config = Config()
    recorded = {rule["record"] for rule in _rules(config, "record")}

    for rule in _rules(config, "alert"):
        for name in re.findall(r"\b[a-z_]+:[a-z_]+:[a-z_0-9]+\b", rule["expr"]):
            assert name in recorded, (rule["alert"], name)


def test_generator_has_no_literal_metric_names() -> None:
    metrics = [
        _names.REQUESTS_TOTAL,
        _names.ERRORS_TOTAL,
        _names.REQUEST_DURATION_SECONDS,
        _names.UNPARSED_ERRORS_TOTAL,
        _names.TRANSPORT_ERRORS_TOTAL,
        _names.HOOK_ERRORS_TOTAL,
    ]

    for path in GENERATOR.glob("*.py"):
        source = path.read_text()
        for metric in metrics:
            assert metric not in source, f"{path.name} spells out {metric}; import it from _names"


def test_runbook_has_section_per_alert() -> None:
    text = RUNBOOKS.read_text()
    headings = set(re.findall(r"^## (Connectly\w+)$", text, flags=re.MULTILINE))

    assert headings == {rule["alert"] for rule in _rules(Config(), "alert")}


def test_runbook_sections_have_required_parts() -> None:
    sections = re.split(r"^## ", RUNBOOKS.read_text(), flags=re.MULTILINE)[1:]

    for section in sections:
        name = section.splitlines()[0]
        for part in (
            "**Meaning**",
            "**Impact**",
            "**Investigate**",
            "**Fix**",
            "**Contact Connectly**",
        ):
            assert part in section, f"{name} lacks {part}"
        assert "```promql" in section, f"{name} has no PromQL to investigate"


def test_dashboard_alert_links_name_real_alerts() -> None:
    from connectly_obs.dashboards import _common

    linked = {getattr(_common, name) for name in _common.__all__ if name.startswith("ALERT_")}
    alerts = {rule["alert"] for rule in _rules(Config(), "alert")}

    assert linked
    assert linked - alerts == set()


def test_alert_name_constants_match_rules() -> None:
    constants = {getattr(_names, name) for name in _names.__all__ if name.startswith("ALERT_")}

    assert constants == {rule["alert"] for rule in _rules(Config(), "alert")}
