"""The documented Connectly error types and codes.

Each entry gives the meaning, the corrective action and, for the fake API and
the demo, a plausible HTTP status. Connectly documents the types and codes but
not which HTTP status carries each one.

NOTE: the statuses, and the type paired with each code, are our best guess
from the meaning of each code. A real server may pair them differently, but
nothing in the hook depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CODES",
    "TYPES",
    "CatalogEntry",
    "is_documented",
    "lookup",
]


@dataclass(frozen=True)
class CatalogEntry:
    """A documented error type or code."""

    name: str
    meaning: str
    action: str
    status_code: int
    # For a code, the type the fake API sends with it; for a type, the code.
    paired_with: str


def _code(name: str, status: int, type_: str, meaning: str, action: str) -> CatalogEntry:
    return CatalogEntry(f"ERROR_CODE_{name}", meaning, action, status, f"ERROR_TYPE_{type_}")


def _type(name: str, status: int, meaning: str, action: str) -> CatalogEntry:
    return CatalogEntry(f"ERROR_TYPE_{name}", meaning, action, status, "ERROR_CODE_UNSPECIFIED")


_CODE_ENTRIES = (
    _code(
        "INVALID_SENDER_ID", 400, "INVALID_REQUEST",
        "The sender phone number is not valid.",
        "Send from a phone number that is registered as a sender for this business.",
    ),
    _code(
        "PHONE_NUMBER_BAD_FORMAT", 400, "INVALID_REQUEST",
        "The recipient phone number is badly formatted.",
        "Format the recipient number in E.164 form, for example +14155550123.",
    ),
    _code(
        "MESSAGE_ATTACHMENTS_NUMBER_INVALID", 400, "INVALID_REQUEST",
        "The message has more attachments than allowed.",
        "Send at most one attachment per message.",
    ),
    _code(
        "MESSAGE_TEXT_EMPTY", 400, "INVALID_REQUEST",
        "The message text is empty.",
        "Fill in the message text before sending.",
    ),
    _code(
        "MESSAGE_TEMPLATE_NOT_FOUND", 404, "NOT_FOUND",
        "No template matches the given name and language.",
        "Create the template and get it approved, or fix its name or language in the request.",
    ),
    _code(
        "MESSAGE_TEMPLATE_INPUT_INVALID", 400, "INVALID_REQUEST",
        "The template inputs are not valid.",
        "Check the template inputs against the template's definition.",
    ),
    _code(
        "MESSAGE_ATTACHMENT_EMPTY", 400, "INVALID_REQUEST",
        "The attachment URL is empty.",
        "Fill in the attachment URL, or send the message without an attachment.",
    ),
    _code(
        "MESSAGE_ATTACHMENT_INVALID", 400, "INVALID_REQUEST",
        "The attachment URL cannot be parsed.",
        "Send a valid, absolute attachment URL.",
    ),
    _code(
        "BUSINESS_MISSES_MATCHING_CHANNEL", 400, "INVALID_REQUEST",
        "The business has no sender channel of the requested channel type.",
        "Connect a sender channel of that type to the business, or send on a channel it has.",
    ),
    _code(
        "MESSAGE_OUTSIDE_OF_ELIGIBILITY_WINDOW", 400, "DEADLINE_EXCEEDED",
        "The customer last wrote more than 24 hours ago, so a session message is not allowed.",
        "Send a template message instead.",
    ),
    _code(
        "BUSINESS_REACHED_LIMITS", 403, "BUSINESS_LIMIT",
        "The business is restricted on this channel because too many earlier messages "
        "were blocked or reported as spam.",
        "Stop bulk sends, review message quality and opt-in practice, and contact Connectly.",
    ),
    _code(
        "MESSAGE_SELF_INVALID", 400, "INVALID_REQUEST",
        "This message type cannot be sent to the sender itself.",
        "Send to a different recipient.",
    ),
    _code(
        "MESSAGE_PHONE_NUMBER_INVALID", 400, "INVALID_REQUEST",
        "The recipient phone number is not valid.",
        "Check the recipient number; it may not exist or not be on WhatsApp.",
    ),
    _code(
        "MESSAGE_CUSTOMER_OPTED_OUT", 400, "INVALID_REQUEST",
        "The customer opted out of template messages.",
        "Stop sending template messages to this customer and update your audience list.",
    ),
    _code(
        "MESSAGE_CUSTOMER_NO_CONVERSATION_INITIATION", 400, "INVALID_REQUEST",
        "A session message needs the customer to write first.",
        "Reach the customer with a template message first.",
    ),
    _code(
        "BUSINESS_KEY_SECRET_ABSENT", 403, "AUTHORIZATION",
        "The business API secret has not been set up.",
        "Contact Connectly to initialise the business API secret.",
    ),
    _code(
        "MESSAGE_TEMPLATE_DELETED", 409, "CONFLICT",
        "Language content cannot be added while other language content of the template "
        "is being deleted.",
        "Create a new template, or retry after the deletion completes (up to 4 weeks).",
    ),
    _code(
        "MESSAGE_TEMPLATE_INVALID_PARAM", 400, "INVALID_REQUEST",
        "A template parameter is not valid.",
        "Check that every variable, button and parameter of the template is present and correct.",
    ),
    _code(
        "BUSINESS_RATE_LIMIT_REACHED", 429, "RATE_LIMIT",
        "The business exceeded the API rate limit.",
        "Slow down: retry after the Retry-After delay with backoff, and spread bulk sends over time.",
    ),
)

_TYPE_ENTRIES = (
    _type(
        "UNSPECIFIED", 500,
        "An unexpected error on Connectly's side.",
        "Contact Connectly support with the cntTraceId.",
    ),
    _type(
        "AUTHENTICATION", 401,
        "The API key is missing or invalid.",
        "Check the X-API-Key header and rotate the key if it was revoked.",
    ),
    _type(
        "AUTHORIZATION", 403,
        "The API key has no access to this resource, for example to this businessId.",
        "Use a key issued for this business, or fix the businessId in the URL.",
    ),
    _type(
        "RATE_LIMIT", 429,
        "The API rate limit was exceeded.",
        "Wait before retrying, honour Retry-After, and lower the request rate.",
    ),
    _type(
        "INVALID_REQUEST", 400,
        "The request payload is not valid.",
        "Fix the request body against the API reference; the code says which field.",
    ),
    _type(
        "DEADLINE_EXCEEDED", 504,
        "The request timed out on Connectly's side.",
        "Contact Connectly support with the cntTraceId.",
    ),
    _type(
        "NOT_FOUND", 404,
        "The requested resource does not exist.",
        "Check the ids and names in the request.",
    ),
    _type(
        "CONFLICT", 409,
        "The resource already exists.",
        "Use the update operation instead of create.",
    ),
    _type(
        "CONTEXT_CANCLED", 499,
        "The client cancelled the request before Connectly answered.",
        "Raise the HTTP client's timeout.",
    ),
    _type(
        "BUSINESS_LIMIT", 403,
        "The business reached its account-level limits.",
        "Review the account's limits with Connectly before sending more.",
    ),
)

# Documented codes and types by name, in the order Connectly lists them.
CODES: dict[str, CatalogEntry] = {entry.name: entry for entry in _CODE_ENTRIES}
TYPES: dict[str, CatalogEntry] = {entry.name: entry for entry in _TYPE_ENTRIES}

# Connectly documents the cancelled type as ERROR_TYPE_CONTEXT_CANCLED. The
# correct spelling is accepted as the same type, but a value the server sends
# is never rewritten.
_ALIASES = {"ERROR_TYPE_CONTEXT_CANCELED": "ERROR_TYPE_CONTEXT_CANCLED"}

# ERROR_CODE_UNSPECIFIED is missing from the code table but appears in
# Connectly's own webhook example, so it is treated as documented: it keeps its
# label value and never falls back to "other".
_DOCUMENTED = frozenset(CODES) | frozenset(TYPES) | frozenset(_ALIASES) | {"ERROR_CODE_UNSPECIFIED"}


def is_documented(value: str) -> bool:
    """Return True for a documented type or code, including accepted spellings."""
    return value in _DOCUMENTED


def lookup(value: str) -> CatalogEntry | None:
    """Return the catalog entry for a documented type or code, or None."""
    name = _ALIASES.get(value, value)
    return CODES.get(name) or TYPES.get(name)
