"""The Web Form 2.0 API's request rules (WEBFORM.md §2.1, §2.2, §2.5, §6.1): the bodies of
`POST /api/webForms/bankConnectionImport` and `POST /api/tasks/backgroundUpdate`, and the list parameters
`order`, `page`, `perPage`. Pure functions: JSON values in, a validated request or `errors.InvalidFields` out.

Every problem is reported, one `{field, message}` per bad field, `field` as the JSON path (`callbacks.finalised`,
`accountTypes[1]`, `userMetadata.ipAddress`); the messages are Bean Validation's wording where it has one
**(decided)**. Every field is optional and nullable (null is absent) except the task's `bankConnectionId`. Unknown
fields are ignored **(decided)**; an empty import body counts as `{}` **(decided)**. Callback URLs follow the
world's rule (`Callbacks.url_problem`: finAPI's, or with the scenario switch `http://` and local hosts too);
`redirectUrl` always finAPI's pattern (https, a dotted host, whole string, 1-2048 characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from mock_finapi import bodies, errors
from mock_finapi.state.webforms import ImportRequest, TaskRequest

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
MAX_DAYS = 3650
NAME_MAX = 64
PROFILE_ID_LENGTH = 36
URL_MAX = 2048
PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 500
ACCOUNT_TYPES = ("BAUSPAREN", "CHECKING", "CREDIT_CARD", "LOAN", "MEMBERSHIP", "SAVINGS", "SECURITY")
INTERFACES = ("XS2A", "FINTS_SERVER", "WEB_SCRAPER")
IMPORT_NEW_ACCOUNTS_MODES = ("SKIP", "CONDITIONAL", "FORCED")
MANAGE_SAVED_SETTINGS = ("CREDENTIALS", "DEFAULT_TWO_STEP_PROCEDURE")
USER_METADATA = (("ipAddress", 64), ("deviceOs", 1024), ("userAgent", 1024))
FINAPI_URL = re.compile(
    r"https://(www\.)?[-a-zA-Z0-9@:%._+~#=]{1,256}\.[a-zA-Z0-9()]{1,63}\b([-a-zA-Z0-9()@:%_+.~#?&/=]*)"
)
"""finAPI's URL pattern (WEBFORM.md §2.1), matched against the whole string (decided)."""
ORDERS = {"createdAt": False, "createdAt,asc": False, "createdAt,desc": True}
"""`order` values of the lists -> descending."""

MSG_NOT_NULL = "must not be null"
MSG_BOOLEAN = "must be a boolean"
MSG_INTEGER = "must be an integer"
MSG_STRING = "must be a string"
MSG_OBJECT = "must be an object"
MSG_ARRAY = "must be an array"
MSG_RANGE = "must be between {low} and {high}"
MSG_SIZE = "size must be between {low} and {high}"
MSG_SIZE_EXACT = "size must be {size}"
MSG_ONE_OF = "must be one of: {values}"
MSG_UNIQUE = "must not contain duplicates"
MSG_URL = "must be an https URL with a dotted host name (finAPI's URL pattern)"
MSG_BANK_BOTH = "id and search must not both be given"
MSG_SKIP_BALANCES = "may only be true when skipPositionsDownload is true"
MSG_BODY_JSON = "must be valid JSON"
MSG_BODY_OBJECT = "must be a JSON object"
MSG_BODY_MISSING = "must not be empty"
MSG_ORDER = "must be createdAt, createdAt,asc or createdAt,desc"
MSG_PAGE = "must be greater than or equal to 1"


class ImportDetails(NamedTuple):
    """A validated `BankConnectionImportDetails`: the request, and `bank.search` (the service resolves it)."""

    request: ImportRequest
    search: str | None


class ListQuery(NamedTuple):
    descending: bool = False
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT


def body_object(raw: bytes, *, required: bool) -> dict[str, Any]:
    """The JSON object of a request body; an empty body is `{}` unless `required` (400 field `body` otherwise)."""
    if not raw.strip():
        if required:
            raise errors.InvalidFields([("body", MSG_BODY_MISSING)])
        return {}
    try:
        data = bodies.parse_json(raw)
    except (ValueError, RecursionError):
        raise errors.InvalidFields([("body", MSG_BODY_JSON)]) from None
    if not isinstance(data, dict):
        raise errors.InvalidFields([("body", MSG_BODY_OBJECT)])
    return data


class _Fields:
    """One JSON object's fields, read with their checks; the problems are collected (`problems`)."""

    def __init__(self, data: Mapping[str, Any], problems: list[tuple[str, str]], prefix: str = "") -> None:
        self.data, self.problems, self.prefix = data, problems, prefix

    def path(self, name: str) -> str:
        return self.prefix + name

    def problem(self, name: str, message: str) -> None:
        self.problems.append((self.path(name), message))

    def _get(self, name: str, check: Callable[[Any], str | None]) -> Any:
        value = self.data.get(name)
        if value is None:
            return None
        message = check(value)
        if message is not None:
            self.problem(name, message)
            return None
        return value

    def flag(self, name: str) -> bool | None:
        value: bool | None = self._get(name, lambda v: None if isinstance(v, bool) else MSG_BOOLEAN)
        return value

    def integer(self, name: str, low: int, high: int) -> int | None:
        def check(value: Any) -> str | None:
            if type(value) is not int:
                return MSG_INTEGER
            return None if low <= value <= high else MSG_RANGE.format(low=low, high=high)

        value: int | None = self._get(name, check)
        return value

    def text(self, name: str, low: int, high: int) -> str | None:
        def check(value: Any) -> str | None:
            if not isinstance(value, str):
                return MSG_STRING
            if low == high and len(value) != low:
                return MSG_SIZE_EXACT.format(size=low)
            return None if low <= len(value) <= high else MSG_SIZE.format(low=low, high=high)

        value: str | None = self._get(name, check)
        return value

    def url(self, name: str, problem: Callable[[Any], str | None]) -> str | None:
        """A URL whose rule `problem` states (None: fine); a non-string is MSG_STRING."""
        value: str | None = self._get(name, lambda v: problem(v) if isinstance(v, str) else MSG_STRING)
        return value

    def choices(self, name: str, allowed: Sequence[str], *, unique: bool) -> tuple[str, ...] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list):
            self.problem(name, MSG_ARRAY)
            return None
        bad = [index for index, item in enumerate(value) if item not in allowed]
        for index in bad:
            self.problem(f"{name}[{index}]", MSG_ONE_OF.format(values=", ".join(allowed)))
        if bad:
            return None
        if unique and len(set(value)) != len(value):
            self.problem(name, MSG_UNIQUE)
            return None
        return tuple(dict.fromkeys(value))

    def choice(self, name: str, allowed: Sequence[str]) -> str | None:
        value: str | None = self._get(
            name, lambda v: None if v in allowed else MSG_ONE_OF.format(values=", ".join(allowed))
        )
        return value

    def nested(self, name: str) -> _Fields | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(name, MSG_OBJECT)
            return None
        return _Fields(value, self.problems, self.path(name) + ".")


def redirect_url_problem(value: Any) -> str | None:
    if len(value) > URL_MAX or not value:
        return MSG_SIZE.format(low=1, high=URL_MAX)
    return None if FINAPI_URL.fullmatch(value) else MSG_URL


def _downloads(fields: _Fields) -> tuple[bool, bool, bool]:
    """skipBalancesDownload, skipPositionsDownload, loadOwnerData: skipping balances needs skipping positions."""
    balances, positions = fields.flag("skipBalancesDownload"), fields.flag("skipPositionsDownload")
    if balances and not positions:
        fields.problem("skipBalancesDownload", MSG_SKIP_BALANCES)
    return bool(balances), bool(positions), bool(fields.flag("loadOwnerData"))


def parse_import(data: Mapping[str, Any], url_problem: Callable[[str | None], str | None]) -> ImportDetails:
    """`BankConnectionImportDetails` (WEBFORM.md §2.1); raises InvalidFields naming every bad field."""
    problems: list[tuple[str, str]] = []
    fields = _Fields(data, problems)
    bank_id, search = None, None
    bank = fields.nested("bank")
    if bank is not None:
        bank_id = bank.integer("id", -INT64_MAX - 1, INT64_MAX)
        search = bank.text("search", 0, 2**31)
        if bank.data.get("id") is not None and bank.data.get("search") is not None:
            fields.problem("bank", MSG_BANK_BOTH)
    name = fields.text("bankConnectionName", 1, NAME_MAX)
    balances, positions, owners = _downloads(fields)
    max_days = fields.integer("maxDaysForDownload", 0, MAX_DAYS)
    account_types = fields.choices("accountTypes", ACCOUNT_TYPES, unique=True)
    interfaces = fields.choices("allowedInterfaces", INTERFACES, unique=False)
    callbacks = fields.nested("callbacks")
    finalised = callbacks.url("finalised", url_problem) if callbacks is not None else None
    profile_id = fields.text("profileId", PROFILE_ID_LENGTH, PROFILE_ID_LENGTH)
    redirect_url = fields.url("redirectUrl", redirect_url_problem)
    allow_test_bank = fields.flag("allowTestBank")
    if problems:
        raise errors.InvalidFields(problems)
    request = ImportRequest(
        bank_id=bank_id,
        connection_name=name,
        account_types=account_types,
        allowed_interfaces=interfaces,
        skip_balances_download=balances,
        skip_positions_download=positions,
        load_owner_data=owners,
        max_days_for_download=max_days or 0,
        allow_test_bank=True if allow_test_bank is None else allow_test_bank,
        callback_url=finalised,
        redirect_url=redirect_url,
        profile_id=profile_id,
    )
    return ImportDetails(request, search)


def parse_task(data: Mapping[str, Any], url_problem: Callable[[str | None], str | None]) -> TaskRequest:
    """`BankConnectionUpdateTaskDetails` (WEBFORM.md §2.5); raises InvalidFields naming every bad field. The
    deprecated `importNewAccounts` counts when `importNewAccountsMode` is absent (true: CONDITIONAL)."""
    problems: list[tuple[str, str]] = []
    fields = _Fields(data, problems)
    connection_id = fields.integer("bankConnectionId", -INT64_MAX - 1, INT64_MAX)
    if data.get("bankConnectionId") is None:
        fields.problem("bankConnectionId", MSG_NOT_NULL)
    import_new = fields.flag("importNewAccounts")
    mode = fields.choice("importNewAccountsMode", IMPORT_NEW_ACCOUNTS_MODES)
    account_types = fields.choices("accountTypes", ACCOUNT_TYPES, unique=True)
    interfaces = fields.choices("allowedInterfaces", INTERFACES, unique=False)
    balances, positions, owners = _downloads(fields)
    manage = fields.choices("manageSavedSettings", MANAGE_SAVED_SETTINGS, unique=True)
    callbacks = fields.nested("callbacks")
    finalised = required = None
    if callbacks is not None:
        finalised = callbacks.url("finalised", url_problem)
        required = callbacks.url("webFormRequired", url_problem)
    profile_id = fields.text("profileId", PROFILE_ID_LENGTH, PROFILE_ID_LENGTH)
    redirect_url = fields.url("redirectUrl", redirect_url_problem)
    metadata = fields.nested("userMetadata")
    if metadata is not None:
        for name, longest in USER_METADATA:
            if metadata.data.get(name) is None:
                metadata.problem(name, MSG_NOT_NULL)
            else:
                metadata.text(name, 0, longest)
    if problems or connection_id is None:
        raise errors.InvalidFields(problems)
    return TaskRequest(
        connection_id,
        import_new_accounts_mode=mode or ("CONDITIONAL" if import_new else "SKIP"),
        account_types=account_types,
        allowed_interfaces=interfaces,
        skip_balances_download=balances,
        skip_positions_download=positions,
        load_owner_data=owners,
        manage_saved_settings=manage or (),
        finalised_url=finalised,
        web_form_required_url=required,
        profile_id=profile_id,
        redirect_url=redirect_url,
    )


def parse_list(pairs: Iterable[tuple[str, str]]) -> ListQuery:
    """`order`, `page`, `perPage` of `GET /api/webForms` and `GET /api/tasks` (the first of repeated ones counts;
    empty ones are absent); raises InvalidFields naming every bad one."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if value != "":
            values.setdefault(name, value)
    problems: list[tuple[str, str]] = []
    order = values.get("order", "createdAt")
    if order not in ORDERS:
        problems.append(("order", MSG_ORDER))
    page = _query_integer(values, "page", 1, problems)
    if page is not None and page < 1:
        problems.append(("page", MSG_PAGE))
    per_page = _query_integer(values, "perPage", PER_PAGE_DEFAULT, problems)
    if per_page is not None and not 1 <= per_page <= PER_PAGE_MAX:
        problems.append(("perPage", MSG_RANGE.format(low=1, high=PER_PAGE_MAX)))
    if problems or page is None or per_page is None:
        raise errors.InvalidFields(problems)
    return ListQuery(ORDERS[order], page, per_page)


def _query_integer(values: Mapping[str, str], name: str, default: int, problems: list[tuple[str, str]]) -> int | None:
    value = values.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"[+-]?[0-9]{1,10}", value) or abs(int(value)) > INT32_MAX:
        problems.append((name, MSG_INTEGER))
        return None
    return int(value)
