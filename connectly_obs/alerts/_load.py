"""Build a `Config` from defaults, a YAML override file and `KEY=VALUE` overrides.

Overrides are nested mappings with the same keys as `Config`, except that a
field named `for_` is written `for`. Every value is checked, and a bad one
raises `ConfigError` naming the dotted key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ._config import BurnRate, Config

__all__ = [
    "ConfigError",
    "config_as_dict",
    "dump_config",
    "duration_seconds",
    "load_config",
    "merge_overrides",
    "parse_assignment",
    "read_config_file",
]

T = TypeVar("T")


class ConfigError(ValueError):
    """A config key or value that is not allowed; the message names the key and the fix."""


_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_DURATION_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_MATCHER = re.compile(r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*')
_ERROR_TYPE = re.compile(r"^ERROR_TYPE_[A-Z0-9_]+$")
_ERROR_CODE = re.compile(r"^ERROR_CODE_[A-Z0-9_]+$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_K8S_LABEL_KEY = re.compile(r"^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_K8S_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_GRAFANA_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
SEVERITIES = ("critical", "warning", "info")


def duration_seconds(text: str) -> float:
    """Return the length of a Prometheus duration such as "1h30m" in seconds."""
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"invalid Prometheus duration {text!r}")
    return sum(int(part) * unit for part, unit in zip(match.groups(), _DURATION_UNITS, strict=True) if part)


def _duration_error(value: Any, *, allow_zero: bool) -> str | None:
    try:
        seconds = duration_seconds(value)
    except ValueError:
        return "a Prometheus duration such as 30s, 5m, 1h or 3d"
    if seconds == 0 and not allow_zero:
        return "a duration longer than zero, such as 5m"
    return None


def _each(values: Any, pattern: re.Pattern[str], example: str) -> str | None:
    bad = [value for value in values if not pattern.match(value)]
    return f"values such as {example}" if bad else None


def _regex_error(value: Any) -> str | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"a valid regular expression ({exc})"
    return None


def _runbook_error(value: Any) -> str | None:
    if "{alert}" not in value and "{anchor}" not in value:
        # A page without a pattern gets each alert's anchor appended.
        if "#" in value or "{" in value or "}" in value:
            return "a URL without a '#' part, or one that contains {alert} or {anchor}"
        return None
    try:
        value.format(alert="x", anchor="x")
    except (KeyError, IndexError, ValueError):
        return "a URL whose only {} fields are {alert} and {anchor}"
    return None


def _label_map_error(value: Any) -> str | None:
    for name, text in value.items():
        if not _K8S_LABEL_KEY.match(name) or not _K8S_LABEL_VALUE.match(text):
            return "Kubernetes label names and values, such as {prometheus: k8s}"
    return None


def _range(test: Callable[[float], bool], expected: str) -> Callable[[Any], str | None]:
    return lambda value: None if test(value) else expected


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "ratio": _range(lambda v: 0 < v < 1, "a share between 0 and 1, exclusive, such as 0.05"),
    "factor": _range(lambda v: v >= 1, "a factor of 1 or more, such as 3"),
    "nonnegative": _range(lambda v: v >= 0, "a number of 0 or more"),
    "positive": _range(lambda v: v > 0, "a number greater than 0"),
    "duration": lambda v: _duration_error(v, allow_zero=False),
    "for_duration": lambda v: _duration_error(v, allow_zero=True),
    "severity": lambda v: None if v in SEVERITIES else "one of " + ", ".join(SEVERITIES),
    "error_types": lambda v: _each(v, _ERROR_TYPE, "ERROR_TYPE_RATE_LIMIT"),
    "error_codes": lambda v: _each(v, _ERROR_CODE, "ERROR_CODE_BUSINESS_RATE_LIMIT_REACHED"),
    "exceptions": lambda v: _each(v, _IDENTIFIER, "ReadTimeout"),
    "label_names": lambda v: (
        None
        if v and len(set(v)) == len(v) and all(_LABEL_NAME.match(n) for n in v)
        else "one or more distinct Prometheus label names, such as [job]"
    ),
    # An empty selector would make ConnectlyMetricsAbsent watch every target.
    "selector": lambda v: (
        None
        if v.strip() != "" and all(_MATCHER.fullmatch(part) for part in _split_matchers(v))
        else 'PromQL label matchers separated by commas, such as job="my-app"'
    ),
    "regex": _regex_error,
    "runbook_url": _runbook_error,
    "nonempty": lambda v: None if len(v) > 0 else "a non-empty value",
    "dns_name": lambda v: (
        None if _DNS_SUBDOMAIN.match(v) and len(v) <= 253 else "a DNS subdomain name, such as my-rules"
    ),
    "dns_label": lambda v: None if v == "" or (_DNS_LABEL.match(v) and len(v) <= 63) else "a namespace name or empty",
    "label_map": _label_map_error,
    "grafana_uid": lambda v: None if _GRAFANA_UID.match(v) else "1 to 40 of a-z A-Z 0-9 _ -",
}


def _split_matchers(selector: str) -> list[str]:
    """Split matchers at the commas that are outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    in_string = escaped = False
    for char in selector:
        if in_string:
            escaped = char == "\\" and not escaped
            if char == '"' and not escaped:
                in_string = False
        elif char == '"':
            in_string = True
        elif char == ",":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _key_name(field: dataclasses.Field[Any]) -> str:
    return field.name.removesuffix("_")


def _invalid(path: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{path}: invalid value {value!r}; expected {expected}")


def _convert(path: str, value: Any, annotation: Any, default: Any) -> Any:
    """Convert a YAML value to the field's type, or raise ConfigError."""
    origin = typing.get_origin(annotation)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(path, value, "a number")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(path, value, "a whole number")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise _invalid(path, value, "a string")
        return value
    if origin is tuple:
        item_type = typing.get_args(annotation)[0]
        if not isinstance(value, list | tuple):
            raise _invalid(path, value, "a list, such as [a, b]")
        if isinstance(item_type, type) and dataclasses.is_dataclass(item_type):
            return tuple(_build_item(f"{path}[{index}]", item, item_type) for index, item in enumerate(value))
        return tuple(_convert(f"{path}[{index}]", item, str, None) for index, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _invalid(path, value, "a mapping of names to strings")
        return {
            _convert(f"{path} key", name, str, None): _convert(f"{path}.{name}", text, str, None)
            for name, text in value.items()
        }
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise _invalid(path, value, "a mapping of keys (see --print-config)")
        return _build(path, value, default)
    raise TypeError(f"config field {path} has an unsupported type {annotation!r}")


def _build(prefix: str, overrides: Mapping[str, Any], default: T) -> T:
    """Return `default` with `overrides` applied, after checking each value."""
    assert dataclasses.is_dataclass(default)
    fields = {_key_name(field): field for field in dataclasses.fields(default)}
    hints = typing.get_type_hints(type(default))
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        path = f"{prefix}.{name}" if prefix else str(name)
        field = fields.get(name)
        if field is None:
            raise ConfigError(f"unknown key {path!r}; allowed keys here: {', '.join(fields)}")
        converted = _convert(path, value, hints[field.name], getattr(default, field.name))
        check = _CHECKS.get(field.metadata.get("check", ""))
        expected = check(converted) if check else None
        if expected:
            raise _invalid(path, value, expected)
        changes[field.name] = converted
    return dataclasses.replace(default, **changes)  # type: ignore[type-var]


def _build_item(path: str, item: Any, item_type: type[T]) -> T:
    if not isinstance(item, Mapping):
        raise _invalid(path, item, "a mapping")
    names = [_key_name(field) for field in dataclasses.fields(item_type)]  # type: ignore[arg-type]
    missing = [name for name in names if name not in item]
    if missing:
        raise ConfigError(f"{path}: missing keys {', '.join(missing)}; each entry needs all of them")
    return _build(path, item, item_type())


def _check_consistency(config: Config) -> None:
    """Check the rules between keys that no single value shows."""
    ratio = config.error_ratio
    if ratio.warning >= ratio.critical:
        raise ConfigError(
            f"error_ratio.warning ({ratio.warning}) must be lower than error_ratio.critical ({ratio.critical})"
        )
    if config.rate_limit.rising_ratio >= config.rate_limit.ratio:
        raise ConfigError(
            f"rate_limit.rising_ratio ({config.rate_limit.rising_ratio}) must be lower than "
            f"rate_limit.ratio ({config.rate_limit.ratio}), so that a rise shows before it lasts"
        )
    for name in (
        "business_limit",
        "credentials",
        "templates",
        "messaging_window",
        "connectly_side",
    ):
        section = getattr(config, name)
        if not section.types and not section.codes:
            raise ConfigError(f"{name}: set at least one of types or codes")
    budget = 1 - config.error_budget.objective
    for index, burn in enumerate(config.error_budget.burn_rates):
        path = f"error_budget.burn_rates[{index}]"
        if duration_seconds(burn.short_window) >= duration_seconds(burn.long_window):
            raise ConfigError(
                f"{path}: short_window {burn.short_window} must be shorter than long_window {burn.long_window}"
            )
        if burn.factor * budget >= 1:
            raise ConfigError(
                f"{path}: factor {burn.factor} times the error budget {budget:.4g} is 1 or more, "
                "so the alert could never fire; lower the factor or the objective"
            )


def load_config(overrides: Mapping[str, Any] | None = None) -> Config:
    """Return the default config with `overrides` applied and checked."""
    config = _build("", overrides or {}, Config())
    _check_consistency(config)
    return config


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML override file; an empty file overrides nothing."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys, not {type(data).__name__}")
    return data


def parse_assignment(text: str) -> dict[str, Any]:
    """Turn "error_ratio.warning=0.1" into {"error_ratio": {"warning": 0.1}}.

    The value is read as YAML, so numbers, lists ("[a, b]") and strings work.
    """
    name, separator, raw = text.partition("=")
    if not separator or not name.strip():
        raise ConfigError(f"invalid override {text!r}; expected KEY=VALUE, such as error_ratio.warning=0.1")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid value in override {text!r}: {exc}") from exc
    result: dict[str, Any] = {}
    current = result
    parts = name.strip().split(".")
    for part in parts[:-1]:
        current = current.setdefault(part, {})
    current[parts[-1]] = value
    return result


def merge_overrides(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge nested override mappings; values in `extra` win."""
    merged = dict(base)
    for name, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(name), Mapping):
            merged[name] = merge_overrides(merged[name], value)
        else:
            merged[name] = value
    return merged


def config_as_dict(config: Any) -> dict[str, Any]:
    """Return a config section as plain YAML-ready data, with `for_` written `for`."""
    result: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            value = config_as_dict(value)
        elif isinstance(value, tuple):
            value = [config_as_dict(item) if isinstance(item, BurnRate) else item for item in value]
        elif isinstance(value, dict):
            value = dict(value)
        result[_key_name(field)] = value
    return result


def _yaml_value(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip()


def _commented_lines(config: Any, indent: str) -> list[str]:
    lines: list[str] = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        name = _key_name(field)
        lines.append(f"{indent}# {field.metadata['comment']}")
        if dataclasses.is_dataclass(value):
            lines.append(f"{indent}{name}:")
            lines.extend(_commented_lines(value, indent + "  "))
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            lines.append(f"{indent}{name}:")
            for item in value:
                item_lines = [
                    f"{indent}  - {_key_name(f)}: {_yaml_value(getattr(item, f.name))}"
                    for f in dataclasses.fields(item)
                ]
                lines.append(item_lines[0])
                lines.extend(line.replace("  - ", "    ", 1) for line in item_lines[1:])
        else:
            lines.append(f"{indent}{name}: {_yaml_value(list(value) if isinstance(value, tuple) else value)}")
    return lines


def dump_config(config: Config) -> str:
    """Return `config` as YAML with each key's comment, ready to edit as an override file."""
    return "\n".join(_commented_lines(config, "")) + "\n"
