from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connectly_obs.cli import main
from connectly_obs.dashboards import build_dashboards


def test_cli_writes_every_dashboard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["dashboards", "--output-dir", str(tmp_path / "out")])

    assert status == 0
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == sorted(build_dashboards())
    assert str(tmp_path / "out" / "connectly-limits.json") in capsys.readouterr().out


def test_cli_applies_user_options(tmp_path: Path) -> None:
    status = main(
        [
            "dashboards",
            "--output-dir",
            str(tmp_path),
            "--selector",
            'env="prod"',
            "--datasource",
            "Mimir",
            "--title-prefix",
            "Prod / ",
            "--runbook-url",
            "https://wiki.example.com/runbooks",
        ]
    )

    assert status == 0
    overview = json.loads((tmp_path / "connectly-overview.json").read_text())
    assert overview["title"] == "Prod / Connectly API / Overview"
    assert 'env="prod"' in overview["panels"][1]["targets"][0]["expr"]
    datasource = overview["templating"]["list"][0]
    assert datasource["current"]["value"] == "Mimir"


def test_cli_check_passes_on_current_files(tmp_path: Path) -> None:
    assert main(["dashboards", "--output-dir", str(tmp_path)]) == 0
    assert main(["dashboards", "--output-dir", str(tmp_path), "--check"]) == 0


def test_cli_check_fails_on_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "--output-dir", str(tmp_path)]) == 0
    (tmp_path / "connectly-limits.json").write_text("{}\n")

    assert main(["dashboards", "--output-dir", str(tmp_path), "--check"]) == 1
    assert "connectly-limits.json" in capsys.readouterr().err
    assert (tmp_path / "connectly-limits.json").read_text() == "{}\n"


def test_cli_check_fails_on_missing_folder(tmp_path: Path) -> None:
    assert main(["dashboards", "--output-dir", str(tmp_path / "none"), "--check"]) == 1
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--selector", "env=prod"], "invalid selector 'env=prod'"),
        (["--runbook-url", "runbooks.md"], "invalid runbook URL 'runbooks.md'"),
        (["--datasource", ""], "datasource must name a Grafana data source"),
        (["--uid-prefix", "a/b"], "invalid uid prefix 'a/b'"),
    ],
)
def test_cli_rejects_invalid_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["dashboards", "--output-dir", str(tmp_path / "out"), *flags])

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_rejects_file_as_output_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file.json"
    target.write_text("")

    with pytest.raises(SystemExit) as exit_info:
        main(["dashboards", "--output-dir", str(target)])

    assert exit_info.value.code == 2
    assert f"--output-dir '{target}' is a file" in capsys.readouterr().err


def test_installed_command_writes_dashboards(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connectly_obs.cli", "dashboards", "--output-dir", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "connectly-overview.json").is_file()


def test_unwritable_output_dir_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main(["dashboards", "--output-dir", str(blocker / "sub")])
    assert exit_info.value.code == 2
    assert "cannot write to --output-dir" in capsys.readouterr().err
