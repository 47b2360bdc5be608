"""The one exception tree of mock-finapi, and the messages it speaks.

```
MockFinapiError
├── ApiError            → finAPI ErrorMessage {"errors": [{message, code, type}], date, requestId, ...}
│   ├── BadRequest              400 BAD_REQUEST
│   ├── MissingField            400 MISSING_FIELD
│   ├── IllegalFieldValue       400 ILLEGAL_FIELD_VALUE
│   ├── IllegalPageSize         400 ILLEGAL_PAGE_SIZE
│   ├── TooManyIds              400 TOO_MANY_IDS
│   ├── UnauthorizedAccess      403 UNAUTHORIZED_ACCESS
│   ├── UserNotVerified         422 USER_NOT_VERIFIED (403 on the token endpoint)
│   ├── UnknownEntity           404 UNKNOWN_ENTITY
│   ├── MethodNotAllowed        405 METHOD_NOT_ALLOWED
│   ├── PayloadTooLarge         413 BAD_REQUEST
│   ├── UnsupportedMediaType    415 UNSUPPORTED_MEDIA_TYPE
│   ├── EntityExists            422 ENTITY_EXISTS
│   ├── IllegalEntityState      422 ILLEGAL_ENTITY_STATE
│   ├── UserAlreadyVerified     422 USER_ALREADY_VERIFIED
│   ├── Locked                  423 LOCKED
│   ├── UnexpectedError         500 UNEXPECTED_ERROR
│   ├── CapacityReached         503 UNEXPECTED_ERROR (the store keeps no more: settings.Capacity)
│   ├── WebFormError            the Web Form 2.0 API's Error {code, description, timestamp, endpoint}, its own code
│   └── InvalidFields           400: the Web Form 2.0 API's ValidationError {errors: [{field, message}], ...}
├── OAuthError          → {"error": ..., "error_description": ...}
│   ├── InvalidClient           401 invalid_client (finAPI's BadCredentialsError)
│   └── InvalidToken            401 invalid_token
└── ScenarioError       a scenario file that does not validate (never an HTTP answer)
```
Services raise these; `http/render.py` turns them into responses (on `/api/webForms` and `/api/tasks` every one in
the Web Form 2.0 API's shapes, WEBFORM.md §6.1). Tests import the message constants.
"""

from __future__ import annotations

from typing import ClassVar

# Messages, shared by services and tests.
MSG_BAD_CLIENT = "Bad client credentials"
MSG_BAD_USER = "Bad user credentials"
MSG_BAD_REFRESH = "Invalid refresh token"
MSG_UNSUPPORTED_GRANT = "Unsupported grant type: {grant}"
MSG_GRANT_NOT_ALLOWED = "Client is not allowed to use grant type '{grant}'"
MSG_MISSING_FIELD = "Missing required field '{field}'"
MSG_USER_LOCKED = "User '{user}' is locked"
MSG_USER_NOT_VERIFIED = "User '{user}' is not verified"
MSG_USER_ALREADY_VERIFIED = "User '{user}' is already verified"
MSG_USER_EXISTS = "A user with id '{user}' already exists"
MSG_NOTHING_TO_UPDATE = "At least one of the fields email, phone, isAutoUpdateEnabled must have a non-null value"
MSG_AUTO_UPDATE_DISABLED = "The automatic update cannot be enabled: it is disabled for this client"
MSG_UNKNOWN_USER = "No user with id '{user}'"
MSG_BAD_PASSWORD_TOKEN = "Invalid password change token"
MSG_ROLE_CLIENT = "This service requires a client access token"
MSG_ROLE_USER = "This service requires a user access token"
MSG_ROLE_APP = "Mandator admin clients cannot call this service"
MSG_ROLE_MANDATOR_ADMIN = "This service requires the mandator admin client's access token"
MSG_PAGE_SIZE = "'perPage' must be between 1 and {limit}"
MSG_TOO_MANY_IDS = "At most {limit} user ids can be deleted at once"
MSG_MISSING_TOKEN = "Full authentication is required to access this resource"
MSG_INVALID_TOKEN = "Invalid access token: {token}"
MSG_NO_ENDPOINT = "No endpoint {method} {path}"
MSG_METHOD_NOT_ALLOWED = "Request method '{method}' is not supported"
MSG_MEDIA_TYPE = "Content type '{content_type}' is not supported, use {expected}"
MSG_BODY_TOO_LARGE = "Request body exceeds {limit} bytes"
MSG_BODY_MISSING = "Required request body is missing"
MSG_MALFORMED_JSON = "Malformed JSON request body"
MSG_JSON_OBJECT = "The request body must be a JSON object"
MSG_MALFORMED_FORM = "Malformed form request body"
MSG_REQUEST_ID_TOO_LONG = "The X-Request-Id header must not be longer than 255 characters"
MSG_UNEXPECTED = "An unexpected error occurred"
MSG_INJECTED = "Injected fault '{name}'"
MSG_CAPACITY = "Capacity reached: the sandbox keeps at most {limit} {what} (mock-finapi serve --max-{flag})"
# bank data (WEBFORM.md §6.2: UNKNOWN_ENTITY wording per entity, decided)
MSG_UNKNOWN_CONNECTION = "Bank connection with ID '{id}' not found."
MSG_UNKNOWN_ACCOUNT = "Account with ID '{id}' not found."
MSG_UNKNOWN_BANK = "Bank with ID '{id}' not found."
MSG_UNKNOWN_TRANSACTION = "Transaction with ID '{id}' not found."
# Access v2 bank data reads and deletes (WEBFORM.md §5.1-§5.4, §6.2; wording decided)
MSG_PATH_ID = "The id in the path must be an integer (int64)"
MSG_QUERY_INTEGER = "'{name}' must be an integer"
MSG_QUERY_INTEGERS = "'{name}' must be a list of integers (int64)"
MSG_QUERY_ENUM = "'{name}' must be one of: {allowed}"
MSG_QUERY_BOOLEAN = "'{name}' must be true or false"
MSG_QUERY_DATE = "'{name}' must be a date in the format 'YYYY-MM-DD'"
MSG_QUERY_AMOUNT = "'{name}' must be a number with at most 2 decimals"
MSG_QUERY_PAGE = "'page' must be at least 1"
MSG_QUERY_ORDER = "'order' must be 'property[,asc|desc]' with a property of: {allowed}"
MSG_QUERY_LOCATION = "'location' must be a list of ISO 3166 alpha-2 country codes"
MSG_TOO_MANY_FILTER_IDS = "'{name}' takes at most {limit} values"
MSG_CONNECTION_LOCKED = "Bank connection with ID '{id}' is locked: an import or update is running"
MSG_CONNECTIONS_LOCKED = "A bank connection is locked by a running import or update: none was deleted"
MSG_WEB_FORM_MANDATOR = (
    "Mandator not configured correctly to use this service: bank connections are imported and updated through "
    "Web Form 2.0"
)
# POST /api/v2/tests/mockBatchUpdate (WEBFORM.md §5.5; wording decided)
MSG_MOCK_AUTO_UPDATE = "Mock batch updates need the user's automatic updates disabled (isAutoUpdateEnabled: false)"
MSG_MOCK_FOREIGN_ACCOUNT = "Account with ID '{account}' does not belong to bank connection with ID '{connection}'."
MSG_MOCK_NO_INTERFACE = "Bank connection with ID '{connection}' has no interface {interface}"
MSG_MOCK_SECURITY_ACCOUNT = "Account with ID '{account}' is a security account: its data cannot be mocked"
MSG_MOCK_NO_PIN = "Bank connection with ID '{connection}' has no PIN stored for interface {interface}"
MSG_MOCK_TOO_MANY = "At most {limit} new transactions per account, got {count} for account with ID '{account}'"
MSG_MOCK_TYPE_ID = "'{field}' must be a transaction type between 1 and 999"
MSG_MOCK_LOGIN_ERROR = "Anmeldung fehlgeschlagen: Zugangsdaten ungültig (simulateBankLoginError)"


class MockFinapiError(Exception):
    """Root of every error mock-finapi raises on purpose."""


class ApiError(MockFinapiError):
    """An error answered with finAPI's ErrorMessage body."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    type: ClassVar[str] = "BUSINESS"

    def __init__(self, message: str, *, status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = status or self.status
        self.headers = headers or {}


class BadRequest(ApiError):
    type = "TECHNICAL"


class MissingField(ApiError):
    code = "MISSING_FIELD"
    type = "TECHNICAL"

    def __init__(self, field: str) -> None:
        super().__init__(MSG_MISSING_FIELD.format(field=field))


class IllegalFieldValue(ApiError):
    code = "ILLEGAL_FIELD_VALUE"
    type = "TECHNICAL"


class IllegalPageSize(ApiError):
    code = "ILLEGAL_PAGE_SIZE"
    type = "TECHNICAL"


class TooManyIds(ApiError):
    code = "TOO_MANY_IDS"


class UnauthorizedAccess(ApiError):
    status = 403
    code = "UNAUTHORIZED_ACCESS"


class UserNotVerified(ApiError):
    status = 422
    code = "USER_NOT_VERIFIED"


class UnknownEntity(ApiError):
    status = 404
    code = "UNKNOWN_ENTITY"


class MethodNotAllowed(ApiError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    type = "TECHNICAL"


class PayloadTooLarge(ApiError):
    status = 413
    type = "TECHNICAL"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    type = "TECHNICAL"


class EntityExists(ApiError):
    status = 422
    code = "ENTITY_EXISTS"


class IllegalEntityState(ApiError):
    status = 422
    code = "ILLEGAL_ENTITY_STATE"


class UserAlreadyVerified(ApiError):
    status = 422
    code = "USER_ALREADY_VERIFIED"


class Locked(ApiError):
    status = 423
    code = "LOCKED"


class UnexpectedError(ApiError):
    status = 500
    code = "UNEXPECTED_ERROR"
    type = "TECHNICAL"


class CapacityReached(ApiError):
    """The store holds as many records of a kind as it may (`settings.Capacity`): nothing more is created until some
    expire, are deleted or the sandbox is reset."""

    status = 503
    code = "UNEXPECTED_ERROR"
    type = "TECHNICAL"


class StoreUnavailable(ApiError):
    """The shared state (Redis) cannot be reached or answers too late: the request is answered 503 and the next one
    tries again."""

    status = 503
    code = "UNEXPECTED_ERROR"
    type = "TECHNICAL"


class WebFormError(ApiError):
    """An error of the Web Form 2.0 API with its own `code` (WEBFORM.md §6.1: NOT_FOUND, BANK_NOT_SUPPORTED, ...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, status=status)
        self.web_form_code = code


class InvalidFields(ApiError):
    """400 of the Web Form 2.0 API: one (field, message) per bad field, `field` a JSON path (`callbacks.finalised`)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = tuple(problems)


_BY_STATUS: dict[int, type[ApiError]] = {
    403: UnauthorizedAccess,
    404: UnknownEntity,
    405: MethodNotAllowed,
    410: IllegalEntityState,
    415: UnsupportedMediaType,
    422: IllegalEntityState,
    423: Locked,
}


def injected(status: int, message: str) -> ApiError:
    """An error of the finAPI code that fits `status` (for fault rules that give none of their own)."""
    kind = _BY_STATUS.get(status, UnexpectedError if status >= 500 else BadRequest)
    return kind(message, status=status)


class OAuthError(MockFinapiError):
    """An error answered with the OAuth shape {"error", "error_description"}."""

    status: ClassVar[int] = 401
    error: ClassVar[str] = "invalid_request"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidClient(OAuthError):
    error = "invalid_client"

    def __init__(self) -> None:
        super().__init__(MSG_BAD_CLIENT)


class InvalidToken(OAuthError):
    error = "invalid_token"


class ScenarioError(MockFinapiError):
    """A scenario that cannot be loaded; `str()` reads `file:line: key.path: problem`.

    `source`, `line`, `path` and `problem` are the first problem's; `more` holds the others as (line, path, problem).
    `lines()` shows each problem on a line of its own; `str()` joins them with "; ".
    """

    def __init__(
        self,
        source: str,
        line: int | None,
        path: str,
        problem: str,
        more: tuple[tuple[int | None, str, str], ...] = (),
    ) -> None:
        self.source, self.line, self.path, self.problem = source, line, path, problem
        self.problems = ((line, path, problem), *more)
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"{self.source}:{line}: {path or '<root>'}: {problem}"
            if line is not None
            else f"{self.source}: {path or '<root>'}: {problem}"
            for line, path, problem in self.problems
        ]
