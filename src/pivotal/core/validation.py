"""Input types shared by every schema, and the one translation of validation errors.

Every body field is strict about its JSON type (``"5"`` is not an integer), strings are
trimmed before their length is checked, and NUL characters are refused because
PostgreSQL cannot store them. Pydantic's error types are mapped to the SPEC's codes here,
and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

from pivotal.core import clock
from pivotal.core.errors import InvalidRequest


def _reject_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("invalid_string", "must not contain NUL characters")
    return value


def _reject_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("invalid_type", "must not be null")
    return value


class _NotNull:
    """Marks a field that may be omitted but, when sent, must not be null.

    Python sees ``T | None`` (None meaning "not sent"); the API refuses an explicit null
    with ``invalid_type`` and the OpenAPI document shows the plain type.
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_reject_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema = dict(handler(schema))
        any_of = json_schema.pop("anyOf", None)
        if any_of:
            kept = [option for option in any_of if option.get("type") != "null"]
            json_schema.update(kept[0])
        return json_schema


NotNull = _NotNull()

_NoNul = AfterValidator(_reject_nul)


def _strip(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Name255 = Annotated[str, Strict(), _strip(1, 255), _NoNul]
Name100 = Annotated[str, Strict(), _strip(1, 100), _NoNul]
Text50 = Annotated[str, Strict(), _strip(0, 50), _NoNul]
Text120 = Annotated[str, Strict(), _strip(0, 120), _NoNul]
Text255 = Annotated[str, Strict(), _strip(0, 255), _NoNul]
Text10k = Annotated[str, Strict(), _strip(0, 10_000), _NoNul]
Label = Annotated[str, Strict(), _strip(1, 50), _NoNul]

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=SLUG_PATTERN),
    _NoNul,
]

MAX_BIGINT = 2**63 - 1
NonNegativeBigInt = Annotated[int, Strict(), Field(ge=0, le=MAX_BIGINT)]
StrictBool = Annotated[bool, Strict()]


def _email(value: str) -> str:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PydanticCustomError("invalid_string", "must be a valid email address") from exc
    return value.lower()


Email = Annotated[str, Strict(), _strip(1, 254), _NoNul, AfterValidator(_email)]


def _datetime_input(value: Any) -> int:
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_type", "must be an ISO 8601 date-time string")
    try:
        return clock.parse_datetime(value.strip())
    except (ValueError, OverflowError) as exc:
        raise PydanticCustomError("invalid_string", "must be an ISO 8601 date-time") from exc


def _date_or_datetime_input(value: Any) -> int:
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return clock.date_to_us(clock.parse_date(value.strip()))
        except ValueError as exc:
            raise PydanticCustomError(
                "invalid_string", "must be a YYYY-MM-DD date or an ISO 8601 date-time"
            ) from exc
    return _datetime_input(value)


# Date-times arrive as strings and leave validation as stored microseconds.
DateTimeInput = Annotated[
    int,
    BeforeValidator(_datetime_input),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
DateOrDateTimeInput = Annotated[
    int,
    BeforeValidator(_date_or_datetime_input),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
    ),
]


def _ref_input(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_type", "must be an id or a display id")
    if "\x00" in value:
        # Like every body string: PostgreSQL cannot even compare text holding NUL.
        raise PydanticCustomError("invalid_string", "must not contain NUL characters")
    return value


# A reference to another object in a body: its id, or its display id as a string or a
# positive integer. The constraints come before the BeforeValidator so they land on the
# inner ``str`` schema, which trims before checking lengths ("   " is too_small).
Ref = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    BeforeValidator(_ref_input),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": 255},
                {"type": "integer", "minimum": 1},
            ]
        }
    ),
]

METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_BYTES = 8 * 1024


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > METADATA_MAX_KEYS:
        raise PydanticCustomError("too_big", f"must have at most {METADATA_MAX_KEYS} keys")
    for key in value:
        if len(key) > METADATA_MAX_KEY_LENGTH:
            raise PydanticCustomError(
                "too_big", f"keys must be at most {METADATA_MAX_KEY_LENGTH} characters"
            )
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError as exc:
        # Integers beyond 64 bits or nesting deeper than 254 levels cannot be stored.
        raise PydanticCustomError("invalid_type", f"cannot be stored: {exc}") from exc
    if size > METADATA_MAX_BYTES:
        raise PydanticCustomError("too_big", "must serialize to at most 8 KiB of JSON")
    return value


Metadata = Annotated[dict[str, Any], Strict(), AfterValidator(_metadata)]


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Labels = Annotated[list[Label], Field(max_length=20), AfterValidator(_dedupe)]


class InputModel(BaseModel):
    """Base of every request body: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    def sent(self) -> dict[str, Any]:
        """The fields the client actually sent, with their validated values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


# ---- translation of pydantic errors to the SPEC's codes -------------------------------

_OUR_CODES = {
    "missing_field",
    "invalid_type",
    "too_small",
    "too_big",
    "invalid_enum_value",
    "invalid_string",
    "unrecognized_keys",
    "invalid_json",
    "invalid_parameter",
}
_TOO_SMALL = {"string_too_short", "too_short", "greater_than_equal", "greater_than"}
_TOO_BIG = {"string_too_long", "too_long", "less_than_equal", "less_than"}
_ENUM = {"literal_error", "enum"}
_FORMAT = {
    "string_pattern_mismatch",
    "value_error",
    "datetime_parsing",
    "datetime_from_date_parsing",
}


def _body_code(kind: str) -> str:
    if kind in _OUR_CODES:
        return kind
    if kind == "missing":
        return "missing_field"
    if kind == "extra_forbidden":
        return "unrecognized_keys"
    if kind in _TOO_SMALL:
        return "too_small"
    if kind in _TOO_BIG:
        return "too_big"
    if kind in _ENUM:
        return "invalid_enum_value"
    if kind in _FORMAT:
        return "invalid_string"
    return "invalid_type"


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "list_type": "an array",
}


def _describe(code: str, field: str, error: dict[str, Any]) -> str:
    """Human text for one error; clients match on ``code``, people read this."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if code == "missing_field":
        return f"{field} is required"
    if code == "unrecognized_keys":
        return f"Unrecognized key: {field}"
    if code == "invalid_enum_value" and "expected" in ctx:
        return f"{field} must be one of: {ctx['expected'].replace(chr(39), '')}"
    if kind in _TYPE_WORDS:
        return f"{field} must be {_TYPE_WORDS[kind]}"
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return f"{field} must not be empty" if minimum == 1 else f"{field} is too short"
    if kind == "string_too_long":
        return f"{field} must be at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"{field} must have at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"{field} must have at least {ctx.get('min_length')} items"
    if kind == "greater_than_equal":
        return f"{field} must be at least {ctx.get('ge')}"
    if kind == "greater_than":
        return f"{field} must be greater than {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"{field} must be at most {ctx.get('le')}"
    if kind == "less_than":
        return f"{field} must be less than {ctx.get('lt')}"
    if kind == "string_pattern_mismatch":
        return f"{field} has an invalid format (expected {ctx.get('pattern')})"
    return f"{field} {error.get('msg', 'is invalid')}"


def translate_errors(errors: Sequence[Any]) -> InvalidRequest:
    """The first validation error, as the SPEC's 400 with ``code`` and dotted ``field``."""
    error = dict(errors[0])
    location = [str(part) for part in error.get("loc", ())]
    source, path = (location[0], location[1:]) if location else ("body", [])
    field = ".".join(path) if path else None
    kind = str(error.get("type", ""))
    if source == "body":
        if kind == "json_invalid":
            return InvalidRequest("invalid_json", "The request body is not valid JSON.")
        if field is None:
            return InvalidRequest("invalid_json", "The request body must be a JSON object.")
        code = _body_code(kind)
        if kind in _ENUM and not isinstance(error.get("input"), str):
            # A number or a list where an enum of strings belongs is a wrong JSON type,
            # not a value outside the enum.
            code, kind = "invalid_type", "string_type"
            error["type"] = kind
        return InvalidRequest(code, _describe(code, field, error), field)
    if source == "header":
        field = "-".join(word.capitalize() for word in (field or "").split("_"))
    if source == "query" and field == "cursor":
        return InvalidRequest("invalid_string", "cursor must be an ISO 8601 date-time", "cursor")
    return InvalidRequest(
        "invalid_parameter", f"Invalid value for {field}: {error.get('msg', 'is invalid')}", field
    )


def domain_normalized(value: str) -> str:
    """``https://Acme.com/`` becomes ``acme.com``: lowercase, no scheme, no trailing slash."""
    value = value.strip().lower()
    value = re.sub(r"^https?://", "", value)
    return value.rstrip("/")
