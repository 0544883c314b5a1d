"""The `ConnectlyError` value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ._catalog import CatalogEntry, lookup

__all__ = ["ERROR_EXTENSION", "ConnectlyError", "error_fields"]

# Response extension key under which the hooks store the BodyResult of an error
# response, so that `parse_error` works on a streamed response whose body the
# caller has not read yet.
ERROR_EXTENSION = "connectly_obs.error"


class _ReadOnlyDict(dict[str, Any]):
    """A dict that rejects every change, the type of `ConnectlyError.details`.

    A dict subclass rather than a MappingProxyType, so that dataclasses.asdict(),
    copy.deepcopy(), pickle and json.dumps() take it like any dict.
    """

    __slots__ = ()

    def _reject(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("ConnectlyError.details is read-only. To change it, copy it first with dict(error.details)")

    __setitem__ = _reject
    __delitem__ = _reject
    __ior__ = _reject
    clear = _reject
    pop = _reject
    popitem = _reject
    setdefault = _reject
    update = _reject

    def __reduce__(self) -> tuple[type[_ReadOnlyDict], tuple[dict[str, Any]]]:
        # copy and pickle would otherwise rebuild a dict subclass item by item
        # through __setitem__, which this class rejects.
        return (type(self), (dict(self),))


_EMPTY: Mapping[str, Any] = _ReadOnlyDict()


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


# JSON objects decode to dicts. Checking for dict first, in one isinstance()
# call, skips the several times slower check against the Mapping ABC.
_MAPPING_TYPES = (dict, Mapping)


def _frozen_details(value: object) -> Mapping[str, Any]:
    # Connectly mostly sends empty details, which share one empty mapping
    # rather than get a copy each.
    if isinstance(value, _ReadOnlyDict):
        return value
    if not isinstance(value, _MAPPING_TYPES) or not value:
        return _EMPTY
    return _ReadOnlyDict(value)


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
    only what it exports. `details` is a dict that is read-only at its top
    level, so that dataclasses.asdict() and json.dumps() work on the value.
    """

    message: str | None
    type: str | None
    code: str | None
    user_title: str | None
    user_message: str | None
    trace_id: str | None
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)
    status_code: int | None = None

    def __post_init__(self) -> None:
        # Copy `details` into a read-only dict however the value was built,
        # so that a caller's later change to its own dict cannot reach it.
        object.__setattr__(self, "details", _frozen_details(self.details))

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

    @property
    def documentation(self) -> CatalogEntry | None:
        """The catalog entry of the code, or of the type when the code is not documented."""
        return (self.code and lookup(self.code)) or (self.type and lookup(self.type)) or None

    @property
    def corrective_action(self) -> str | None:
        """What to do about this error, from Connectly's documentation, if the code or type is documented."""
        entry = self.documentation
        return entry.action if entry else None
