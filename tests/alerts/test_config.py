"""Config overrides: accepted values, and errors that name the key and what is allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from connectly_obs.alerts import (
    Config,
    ConfigError,
    dump_config,
    load_config,
    merge_overrides,
    parse_assignment,
    read_config_file,
)


def test_no_overrides_gives_defaults() -> None:
    assert load_config() == Config()


def test_nested_override_changes_one_key() -> None:
    config = load_config({"error_ratio": {"warning": 0.1}})

    assert config.error_ratio.warning == 0.1
    assert config.error_ratio.critical == Config().error_ratio.critical


def test_for_key_sets_for_field() -> None:
    config = load_config({"credentials": {"for": "10m"}})

    assert config.credentials.for_ == "10m"


def test_override_keeps_section_defaults() -> None:
    config = load_config({"credentials": {"severity": "warning"}})

    assert config.credentials.types == Config().credentials.types
    assert config.credentials.severity == "warning"


def test_integer_accepted_for_float_key() -> None:
    assert load_config({"latency": {"threshold_seconds": 2}}).latency.threshold_seconds == 2.0


def test_burn_rates_replaced_as_a_list() -> None:
    burn = {
        "long_window": "2h",
        "short_window": "10m",
        "factor": 10,
        "severity": "critical",
        "for": "5m",
    }

    config = load_config({"error_budget": {"burn_rates": [burn]}})

    assert len(config.error_budget.burn_rates) == 1
    assert config.error_budget.burn_rates[0].long_window == "2h"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"error_ratio": {"warnin": 0.1}},
            "unknown key 'error_ratio.warnin'; allowed keys here: warning, critical, warning_for, critical_for",
        ),
        ({"nonsense": 1}, "unknown key 'nonsense'"),
        (
            {"error_ratio": {"warning": 1.5}},
            "error_ratio.warning: invalid value 1.5; expected a share between 0 and 1",
        ),
        (
            {"error_ratio": {"warning": "high"}},
            "error_ratio.warning: invalid value 'high'; expected a number",
        ),
        ({"error_ratio": {"warning": True}}, "error_ratio.warning: invalid value True"),
        (
            {"alert_window": "5 minutes"},
            "alert_window: invalid value '5 minutes'; expected a Prometheus duration",
        ),
        (
            {"alert_window": "0s"},
            "alert_window: invalid value '0s'; expected a duration longer than zero",
        ),
        (
            {"credentials": {"severity": "page"}},
            "credentials.severity: invalid value 'page'; expected one of critical, warning, info",
        ),
        (
            {"credentials": {"types": "ERROR_TYPE_AUTHENTICATION"}},
            "credentials.types: invalid value 'ERROR_TYPE_AUTHENTICATION'; expected a list",
        ),
        (
            {"credentials": {"types": ["AUTHENTICATION"]}},
            "credentials.types: invalid value ['AUTHENTICATION']; expected values such as ERROR_TYPE_RATE_LIMIT",
        ),
        (
            {"selector": "job=connectly"},
            "selector: invalid value 'job=connectly'; expected PromQL label matchers",
        ),
        (
            {"selector": ""},
            "selector: invalid value ''; expected PromQL label matchers",
        ),
        ({"group_by": []}, "group_by: invalid value []; expected one or more"),
        (
            {"failed_status_codes": "5..("},
            "failed_status_codes: invalid value '5..('; expected a valid regular expression",
        ),
        (
            {"runbook_url": "https://wiki.example/runbooks#top"},
            "runbook_url: invalid value "
            "'https://wiki.example/runbooks#top'; expected a URL without a '#' part, "
            "or one that contains {alert} or {anchor}",
        ),
        ({"runbook_url": "https://wiki.example/{page}"}, "runbook_url: invalid value"),
        (
            {"error_spike": {"factor": 0.5}},
            "error_spike.factor: invalid value 0.5; expected a factor of 1 or more",
        ),
        (
            {"operator": {"name": "Connectly_Rules"}},
            "operator.name: invalid value 'Connectly_Rules'; expected a DNS subdomain name",
        ),
        ({"operator": {"labels": {"role": "alert rules"}}}, "operator.labels: invalid value"),
        ({"grafana": {"datasource_uid": "a" * 41}}, "grafana.datasource_uid: invalid value"),
        ({"error_ratio": 0.1}, "error_ratio: invalid value 0.1; expected a mapping of keys"),
        (
            {"error_budget": {"burn_rates": [{"long_window": "1h"}]}},
            "error_budget.burn_rates[0]: missing keys short_window, factor, severity, for",
        ),
    ],
)
def test_bad_override_names_key_and_fix(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config(overrides)

    assert expected in str(excinfo.value)


def test_warning_ratio_above_critical_rejected() -> None:
    with pytest.raises(
        ConfigError,
        match=r"error_ratio.warning \(0.3\) must be lower than "
        r"error_ratio.critical \(0.2\)",
    ):
        load_config({"error_ratio": {"warning": 0.3}})


def test_rising_ratio_above_sustained_rejected() -> None:
    with pytest.raises(ConfigError, match=r"rate_limit.rising_ratio \(0.1\) must be lower"):
        load_config({"rate_limit": {"rising_ratio": 0.1}})


def test_error_class_without_types_or_codes_rejected() -> None:
    with pytest.raises(ConfigError, match="templates: set at least one of types or codes"):
        load_config({"templates": {"codes": []}})


def test_burn_rate_short_window_longer_than_long_rejected() -> None:
    burn = {
        "long_window": "5m",
        "short_window": "1h",
        "factor": 14.4,
        "severity": "critical",
        "for": "2m",
    }

    with pytest.raises(ConfigError, match=r"short_window 1h must be shorter than long_window 5m"):
        load_config({"error_budget": {"burn_rates": [burn]}})


def test_burn_rate_that_cannot_fire_rejected() -> None:
    with pytest.raises(ConfigError, match=r"burn_rates\[0\]: factor 14.4 times the error budget"):
        load_config({"error_budget": {"objective": 0.9}})


def test_assignment_parses_dotted_key_and_yaml_value() -> None:
    assert parse_assignment("error_ratio.warning=0.1") == {"error_ratio": {"warning": 0.1}}
    assert parse_assignment("group_by=[cluster, job]") == {"group_by": ["cluster", "job"]}
    assert parse_assignment('selector=job="a"') == {"selector": 'job="a"'}


@pytest.mark.parametrize("text", ["error_ratio.warning", "=0.1", ""])
def test_assignment_without_key_or_equals_rejected(text: str) -> None:
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_assignment(text)


def test_merge_keeps_sibling_keys() -> None:
    merged = merge_overrides({"error_ratio": {"warning": 0.1}}, {"error_ratio": {"critical": 0.3}})

    assert merged == {"error_ratio": {"warning": 0.1, "critical": 0.3}}


def test_config_file_read_as_overrides(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("selector: 'job=\"shop\"'\nerror_ratio:\n  warning: 0.02\n")

    config = load_config(read_config_file(path))

    assert config.selector == 'job="shop"'
    assert config.error_ratio.warning == 0.02


def test_empty_config_file_overrides_nothing(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("")

    assert load_config(read_config_file(path)) == Config()


def test_config_file_not_a_mapping_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("- a\n- b\n")

    with pytest.raises(ConfigError, match="must hold a mapping of keys, not list"):
        read_config_file(path)


def test_config_file_invalid_yaml_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("error_ratio: [\n")

    with pytest.raises(ConfigError, match="is not valid YAML"):
        read_config_file(path)


def test_missing_config_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*missing\.yml"):
        read_config_file(tmp_path / "missing.yml")


def test_dumped_config_reads_back_unchanged() -> None:
    config = load_config({"error_ratio": {"warning": 0.02}, "operator": {"labels": {"a": "b"}}})

    assert load_config(yaml.safe_load(dump_config(config))) == config


def test_dumped_config_has_comment_for_every_key() -> None:
    lines = dump_config(Config()).splitlines()

    for index, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue
        if line.startswith(("    - ", "      ")):
            continue  # a burn-rate entry, whose keys the burn_rates comment covers
        assert lines[index - 1].lstrip().startswith("#"), f"no comment above {line!r}"


def test_runbook_page_gets_alert_anchor() -> None:
    from connectly_obs.alerts._alerting import runbook_url

    assert runbook_url("https://wiki.example/runbooks", "ConnectlyErrorSpike") == (
        "https://wiki.example/runbooks#connectlyerrorspike"
    )
    assert runbook_url("https://wiki.example/{alert}", "ConnectlyErrorSpike") == (
        "https://wiki.example/ConnectlyErrorSpike"
    )
