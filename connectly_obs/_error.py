"""The `ConnectlyError` value."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._catalog import CatalogEntry, lookup

__all__ = ["ERROR_EXTENSION", "ConnectlyError", "error_fields"]

# Response extension key under which the hooks store the BodyResult of an error
# response, so that `parse_error` works on a streamed response whose body the
# caller has not read yet.
ERROR_EXTENSION = "connectly_obs.error"

_EMPTY: Mapping[str, Any] = types.MappingProxyType({})


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


# JSON objects decode to dicts. Checking for dict first, in one isinstance()
# call, skips the several times slower check against the Mapping ABC.
_MAPPING_TYPES = (dict, Mapping)


def _frozen_details(value: object) -> Mapping[str, Any]:
    # Connectly mostly sends empty details, which share one empty mapping
    # rather than get a copy and a proxy each.
    if not isinstance(value, _MAPPING_TYPES) or not value:
        return _EMPTY
    return types.MappingProxyType(dict(value))


def error_fields(data: object) -> tuple[str | None, str | None, str | None] | None:
    """Return the (type, code, cntTraceId) of a decoded error object, or None if it is not one.

    It is one when it is a mapping with a string `type` or `code`, the least
    that distinguishes a Connectly error from other JSON. A field of another
    JSON type becomes None.
    """
    if not isinstance(data, _MAPPING_TYPES):
        return None
    get = data.get
    type_ = get("type")
    code = get("code")
    if not isinstance(type_, str):
        type_ = None
    if not isinstance(code, str):
        code = None
    if type_ is None and code is None:
        return None
    trace_id = get("cntTraceId")
    return type_, code, trace_id if isinstance(trace_id, str) else None


@dataclass(frozen=True)
class ConnectlyError:
    """A Connectly API error body.

    Fields the server left out, or sent with the wrong JSON type, are None
    (or an empty mapping for `details`). Values are kept exactly as sent: this
    value is for the application, so it is not redacted. The library redacts
    only what it exports.
    """

    message: str | None
    type: str | None
    code: str | None
    user_title: str | None
    user_message: str | None
    trace_id: str | None
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)
    status_code: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], status_code: int | None = None) -> ConnectlyError | None:
        """Build a value from a decoded error object, such as the `error` of a webhook.

        Returns None unless `data` is a mapping with a string `type` or `code`,
        the least that distinguishes a Connectly error from other JSON.
        """
        fields = error_fields(data)
        if fields is None:
            return None
        type_, code, trace_id = fields

        get = data.get
        return cls(
            message=_string(get("message")),
            type=type_,
            code=code,
            user_title=_string(get("userTitle")),
            user_message=_string(get("userMessage")),
            trace_id=trace_id,
            details=_frozen_details(get("details")),
            status_code=status_code,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # A MappingProxyType cannot be pickled, so `details` travels as a dict.
        return (_restore, (*(getattr(self, name) for name in _FIELDS), dict(self.details)))

    @property
    def documentation(self) -> CatalogEntry | None:
        """The catalog entry of the code, or of the type when the code is not documented."""
        return (self.code and lookup(self.code)) or (self.type and lookup(self.type)) or None

    @property
    def corrective_action(self) -> str | None:
        """What to do about this error, from Connectly's documentation, if the code or type is documented."""
        entry = self.documentation
        return entry.action if entry else None


# Fields in constructor order, except `details`, which `_restore` takes last.
_FIELDS = ("message", "type", "code", "user_title", "user_message", "trace_id", "status_code")


def _restore(
    message: str | None,
    type_: str | None,
    code: str | None,
    user_title: str | None,
    user_message: str | None,
    trace_id: str | None,
    status_code: int | None,
    details: Mapping[str, Any],
) -> ConnectlyError:
    return ConnectlyError(
        message=message,
        type=type_,
        code=code,
        user_title=user_title,
        user_message=user_message,
        trace_id=trace_id,
        details=_frozen_details(details),
        status_code=status_code,
    )
