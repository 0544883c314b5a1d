"""`connectly-obs rules` as a user runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from connectly_obs import alerts
from connectly_obs.cli import _rules, main


def test_default_output_is_prometheus_rule_file(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rules"])

    assert status == 0
    assert capsys.readouterr().out == alerts.render(alerts.Config(), "prometheus")


def test_format_flag_selects_operator_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rules", "--format", "prometheus-operator"])

    assert status == 0
    assert yaml.safe_load(capsys.readouterr().out)["kind"] == "PrometheusRule"


def test_set_flag_overrides_a_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    main(["rules", "--set", "error_ratio.critical=0.5"])

    assert "job:connectly_api_failed_calls:ratio_rate5m > 0.5" in capsys.readouterr().out


def test_set_flag_wins_over_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "rules.yml"
    config.write_text("error_ratio:\n  critical: 0.4\n  warning: 0.1\n")

    main(["rules", "--config", str(config), "--set", "error_ratio.critical=0.5"])
    output = capsys.readouterr().out

    assert "ratio_rate5m > 0.5" in output
    assert "ratio_rate5m > 0.1" in output
    assert "ratio_rate5m > 0.4" not in output


def test_selector_and_runbook_flags_apply(capsys: pytest.CaptureFixture[str]) -> None:
    main(["rules", "--selector", 'job="shop"', "--runbook-url", "https://wiki.example/{alert}"])
    output = capsys.readouterr().out

    assert 'connectly_api_requests_total{job="shop"}' in output
    assert "runbook_url: https://wiki.example/ConnectlyCredentialsBroken" in output


def test_output_flag_writes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules.yml"

    status = main(["rules", "--format", "grafana", "-o", str(target)])

    assert status == 0
    assert capsys.readouterr().out == ""
    assert target.read_text() == alerts.render(alerts.Config(), "grafana")


def test_print_config_shows_overridden_value(capsys: pytest.CaptureFixture[str]) -> None:
    main(["rules", "--print-config", "--set", "latency.threshold_seconds=2"])

    assert "  threshold_seconds: 2.0\n" in capsys.readouterr().out


def test_bad_value_exits_2_naming_key(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rules", "--set", "credentials.severity=page"])
    captured = capsys.readouterr()

    assert status == 2
    assert captured.out == ""
    assert captured.err == (
        "connectly-obs rules: error: credentials.severity: invalid value 'page'; "
        "expected one of critical, warning, info\n"
    )


def test_unknown_key_in_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "rules.yml"
    config.write_text("error_ratios:\n  warning: 0.1\n")

    status = main(["rules", "--config", str(config)])

    assert status == 2
    assert "unknown key 'error_ratios'; allowed keys here: selector," in capsys.readouterr().err


def test_missing_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rules", "--config", str(tmp_path / "absent.yml")])

    assert status == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_malformed_set_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rules", "--set", "error_ratio.warning"])

    assert status == 2
    assert "expected KEY=VALUE, such as error_ratio.warning=0.1" in capsys.readouterr().err


def test_unknown_format_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["rules", "--format", "jsonnet"])

    assert excinfo.value.code == 2
    assert "invalid choice: 'jsonnet'" in capsys.readouterr().err


def test_unwritable_output_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rules", "-o", str(tmp_path / "no-such-dir" / "rules.yml")])

    assert status == 1
    assert "cannot write" in capsys.readouterr().err


def test_cli_formats_match_generator_formats() -> None:
    assert _rules._FORMATS == alerts.FORMATS


def test_installed_command_renders_rules(tmp_path: Path) -> None:
    command = shutil.which("connectly-obs", path=str(Path(sys.executable).parent))
    assert command, "connectly-obs is not installed in this environment; run pip install -e ."
    target = tmp_path / "rules.yml"

    result = subprocess.run(
        [command, "rules", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(target.read_text())["groups"]
