"""Bounded label values.

Every label value that comes from the server or from a URL passes through
here, so that the number of series stays bounded whatever the server sends.
"""

from __future__ import annotations

import re
import threading

from ._catalog import is_documented
from ._names import MISSING_VALUE, OTHER_VALUE

__all__ = [
    "DEFAULT_MAX_BUSINESS_IDS",
    "DEFAULT_MAX_EXCEPTION_NAMES",
    "DEFAULT_MAX_ROUTES",
    "DEFAULT_MAX_UNDOCUMENTED",
    "BoundedValues",
    "LabelPolicy",
    "method_label",
    "status_code_label",
]

# Distinct undocumented ERROR_TYPE_/ERROR_CODE_ values kept per label and per
# registry before new ones become "other". Connectly adds codes over time, so
# new ones are kept as they are, but a misbehaving server must not be able to
# create unbounded series.
DEFAULT_MAX_UNDOCUMENTED = 50

# Distinct route templates per registry before new ones become "other".
DEFAULT_MAX_ROUTES = 100

# Distinct businessId values per registry, when business ids are recorded.
DEFAULT_MAX_BUSINESS_IDS = 100

# Distinct exception class names per registry kept as `exception` label values.
DEFAULT_MAX_EXCEPTION_NAMES = 50

# Shape of a Connectly enum value. Anything else (other characters, lower
# case, a lone surrogate, a very long string) is not a label value of its own.
_TYPE_VALUE = re.compile(r"ERROR_TYPE_[A-Z0-9_]{1,80}")
_CODE_VALUE = re.compile(r"ERROR_CODE_[A-Z0-9_]{1,80}")

# A business id as it appears in a URL path: Connectly uses UUIDs, and any
# plain token of letters, digits, dashes and underscores is accepted.
_BUSINESS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# A path segment that is a word, not an id: lower case letters and separators,
# or an API version such as "v1".
_WORD_SEGMENT = re.compile(r"[a-z][a-z_-]{0,48}|v[0-9]{1,3}")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})

# Maximum path length, in segments, that gets a route template of its own.
_MAX_SEGMENTS = 10

# Paths cached with their template. The cache is cleared when full, so its
# memory stays bounded even when every request has a new id in its path.
_PATH_CACHE_SIZE = 4096

# Status codes as strings, so that the hot path does not format integers.
_STATUS_LABELS = {code: str(code) for code in range(100, 600)}


def method_label(method: str) -> str:
    """Return the request method as a label value; unknown methods become "_OTHER"."""
    return method if method in _METHODS else "_OTHER"


def status_code_label(status_code: int) -> str:
    """Return an HTTP status code as a label value; outside 100 to 599 it is "other"."""
    return _STATUS_LABELS.get(status_code, OTHER_VALUE)


class BoundedValues:
    """A set of label values that stops growing at `limit` distinct values."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def admit(self, value: str) -> bool:
        """Return True if `value` is already known or there is room to add it."""
        if value in self._values:
            return True
        with self._lock:
            if len(self._values) >= self._limit:
                return False
            self._values.add(value)
            return True


class LabelPolicy:
    """Turns server values and URL paths into bounded label values.

    One instance belongs to each set of metrics, so the bounds apply per
    registry: per process for the default registry.
    """

    def __init__(
        self,
        *,
        max_undocumented: int = DEFAULT_MAX_UNDOCUMENTED,
        max_routes: int = DEFAULT_MAX_ROUTES,
        max_business_ids: int = DEFAULT_MAX_BUSINESS_IDS,
        max_exception_names: int = DEFAULT_MAX_EXCEPTION_NAMES,
    ) -> None:
        self._types = BoundedValues(max_undocumented)
        self._codes = BoundedValues(max_undocumented)
        self._routes = BoundedValues(max_routes)
        self._business_ids = BoundedValues(max_business_ids)
        self._exception_names = BoundedValues(max_exception_names)
        self._route_cache: dict[str, str] = {}

    def error_type(self, value: object) -> str:
        return self._enum_value(value, _TYPE_VALUE, self._types)

    def error_code(self, value: object) -> str:
        return self._enum_value(value, _CODE_VALUE, self._codes)

    @staticmethod
    def _enum_value(value: object, shape: re.Pattern[str], seen: BoundedValues) -> str:
        if not isinstance(value, str) or not value:
            return MISSING_VALUE
        if is_documented(value):
            return value
        if shape.fullmatch(value) and seen.admit(value):
            return value
        return OTHER_VALUE

    def exception_name(self, exc: BaseException) -> str:
        """Return the class name of an exception as a label value."""
        name = type(exc).__name__
        return name if self._exception_names.admit(name) else OTHER_VALUE

    def route(self, path: str) -> str:
        """Return the route template of a URL path, e.g. `/v1/businesses/{businessId}/send/messages`."""
        route = self._route_cache.get(path)
        if route is not None:
            return route

        template = _template(path)
        route = template if self._routes.admit(template) else OTHER_VALUE
        if len(self._route_cache) >= _PATH_CACHE_SIZE:
            self._route_cache.clear()
        self._route_cache[path] = route
        return route

    def business_id(self, path: str) -> str:
        """Return the businessId in a `/v1/businesses/{businessId}/...` path as a label value."""
        segments = path.split("/")
        if len(segments) < 4 or segments[2] != "businesses":
            return MISSING_VALUE
        value = segments[3]
        if _BUSINESS_ID.fullmatch(value) and self._business_ids.admit(value):
            return value
        return OTHER_VALUE


def _template(path: str) -> str:
    """Replace the id-like segments of a path with placeholders."""
    segments = path.split("/")
    if len(segments) > _MAX_SEGMENTS + 1:
        return OTHER_VALUE

    parts = []
    for index, segment in enumerate(segments):
        if index == 3 and segments[2] == "businesses":
            parts.append("{businessId}")
        elif not segment or _WORD_SEGMENT.fullmatch(segment):
            parts.append(segment)
        else:
            parts.append("{id}")
    return "/".join(parts)
