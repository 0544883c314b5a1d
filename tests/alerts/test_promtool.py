"""The shipped rules pass promtool, and the promtool tests cover every alert both ways."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from connectly_obs.alerts import Config, render, rule_groups
from tests.support.servers import find_tool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "prometheus" / "connectly-obs.rules.yml"
OPERATOR = ROOT / "prometheus" / "connectly-obs.prometheusrule.yml"
UNIT_TESTS = sorted((ROOT / "prometheus" / "tests").glob("*.test.yml"))


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    promtool = find_tool("promtool")
    return subprocess.run([promtool, *map(str, args)], capture_output=True, text=True, timeout=300, check=False)


def _alert_tests() -> list[dict[str, object]]:
    cases = []
    for path in UNIT_TESTS:
        for group in yaml.safe_load(path.read_text())["tests"]:
            cases.extend(group.get("alert_rule_test", []))
    return cases


def test_shipped_rule_file_passes_promtool_check() -> None:
    result = _promtool("check", "rules", RULES)

    assert result.returncode == 0, result.stdout + result.stderr


def test_operator_manifest_groups_pass_promtool_check(tmp_path: Path) -> None:
    spec = yaml.safe_load(OPERATOR.read_text())["spec"]
    rule_file = tmp_path / "operator.rules.yml"
    rule_file.write_text(yaml.safe_dump(spec))

    result = _promtool("check", "rules", rule_file)

    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    assert UNIT_TESTS, "no promtool test files found in prometheus/tests"

    result = _promtool("test", "rules", *UNIT_TESTS)

    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_with_other_labels_pass_promtool_check(tmp_path: Path) -> None:
    from connectly_obs.alerts import load_config

    config = load_config(
        {
            "selector": 'namespace="shop", job=~"shop-.*"',
            "group_by": ["cluster", "namespace", "job"],
            "failed_status_codes": "5..",
            "ignored_exceptions": [],
        }
    )
    rule_file = tmp_path / "custom.rules.yml"
    rule_file.write_text(render(config))

    result = _promtool("check", "rules", rule_file)

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_case() -> None:
    alerts = {rule["alert"] for group in rule_groups(Config()) for rule in group["rules"] if "alert" in rule}
    firing = {case["alertname"] for case in _alert_tests() if case.get("exp_alerts")}

    assert alerts - firing == set()


def test_every_alert_has_a_quiet_case() -> None:
    alerts = {rule["alert"] for group in rule_groups(Config()) for rule in group["rules"] if "alert" in rule}
    quiet = {case["alertname"] for case in _alert_tests() if not case.get("exp_alerts")}

    assert alerts - quiet == set()


def test_every_alert_severity_fires() -> None:
    expected = {
        (rule["alert"], rule["labels"]["severity"])
        for group in rule_groups(Config())
        for rule in group["rules"]
        if "alert" in rule
    }
    fired = {
        (case["alertname"], alert["exp_labels"]["severity"])
        for case in _alert_tests()
        for alert in case.get("exp_alerts") or []
    }

    assert expected - fired == set()


def test_alert_window_recording_rules_have_value_tests() -> None:
    config = Config()
    recorded = {
        rule["record"]
        for group in rule_groups(config)
        for rule in group["rules"]
        if "record" in rule and rule["record"].endswith(f"rate{config.alert_window}")
    }
    tested = {
        case["expr"]
        for path in UNIT_TESTS
        for group in yaml.safe_load(path.read_text())["tests"]
        for case in group.get("promql_expr_test", [])
    }

    assert recorded - tested == set()
