"""Mandator administration (Access v1 1.151.1 "Mandator Administration", the same under /api/v2): the list of a
mandator's users, live and deleted, and the deletion of several at once. Only a mandator admin client may call them
(`http/auth.mandator_admin`); it sees and deletes the users of its own mandator.

What the emulator knows of a user, and so answers in `UserInfo`:
- `registrationDate`: when it was created (a scenario's users: the scenario clock's start).
- `deletionDate`: when it was deleted (`DELETE /users`, `DELETE /users/{userId}`, `deleteUsers`, or the retention of a
  process's hidden user); its `userId` is then distorted as finAPI does (`user` → `uXXr`), and `isLocked` is false.
- `lastActiveDate`: when it last got an access token (a password or refresh grant, a process exchange); null before.
- Order: by `userId`, case-insensitive (ids are case-insensitive in finAPI; decided), ascending by default; on equal
  ids a live user comes first, deleted ones in the order of their deletion.
- Bank connections: a live user's `bankConnectionCount` is how many it has now and `latestBankConnectionImportDate`
  the day its newest one was imported (null without any); a deleted user has none. Past connections are not
  remembered (decided): `latestBankConnectionDeletionDate` is null, each month of `monthlyStats` 0/0, so
  `minBankConnectionCountInMonthlyStats` above 0 selects nobody.
Dates are days in finAPI's time zone (+01:00), `YYYY-MM-DD` in both versions (v1 documents that format, v2's model
types them `date`).
"""

from __future__ import annotations

import heapq
import math
import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from mock_finapi import errors
from mock_finapi.clock import FINAPI_TZ, parse_day, to_datetime
from mock_finapi.state.models import Client, DeletedUser, User
from mock_finapi.state.protocol import Store

if TYPE_CHECKING:
    from mock_finapi.services.callbacks import Callbacks

PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 500
MAX_USER_IDS = 1000
"""User ids `deleteUsers` takes at once (decided: the spec names no limit; finAPI's error code for it is used)."""
MAX_MONTHS = 120
"""Months of `monthlyStats` per user at most, the latest of the range (decided: the clock can be moved centuries)."""
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
BOOLEANS = {"true": True, "on": True, "yes": True, "1": True, "false": False, "off": False, "no": False, "0": False}
"""What Spring takes for a boolean query parameter (any case)."""
DATE_FILTERS = (
    "minRegistrationDate",
    "maxRegistrationDate",
    "minDeletionDate",
    "maxDeletionDate",
    "minLastActiveDate",
    "maxLastActiveDate",
)
ORDER_RULE = "'order' must be 'userId', 'userId,asc' or 'userId,desc'"


@dataclass(frozen=True, slots=True)
class UserListQuery:
    """The criteria of `getUserList`, parsed. Date bounds are instants: a day's start (min) or the next day's (max)."""

    registered: tuple[float | None, float | None] = (None, None)
    deleted: tuple[float | None, float | None] = (None, None)
    last_active: tuple[float | None, float | None] = (None, None)
    include_monthly_stats: bool = False
    stats_from: int | None = None
    """A month as `year * 12 + month - 1`."""
    stats_to: int | None = None
    min_bank_connections: int = 0
    user_id: str | None = None
    is_deleted: bool | None = None
    is_locked: bool | None = None
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    descending: bool = False

    @property
    def filters(self) -> bool:
        """Whether a criterion must be checked user by user."""
        bounds = (*self.registered, *self.deleted, *self.last_active)
        return self.is_locked is not None or any(bound is not None for bound in bounds)


def parse_query(pairs: Iterable[tuple[str, str]]) -> UserListQuery:
    """The criteria from the query's (name, value) pairs: the first of a repeated name counts (`order`: all), an
    empty value is no value, unknown names are ignored (as finAPI's Spring does). Raises finAPI's 400s."""
    params: dict[str, str] = {}
    orders: list[str] = []
    for name, value in pairs:
        if value == "":
            continue
        if name == "order":
            orders.append(value)
        else:
            params.setdefault(name, value)
    bounds = {name: _date(params, name) for name in DATE_FILTERS}
    page = _integer(params, "page", 1)
    if page < 1:
        raise errors.IllegalFieldValue("'page' must be at least 1")
    per_page = _integer(params, "perPage", PER_PAGE_DEFAULT)
    if not 1 <= per_page <= PER_PAGE_MAX:
        raise errors.IllegalPageSize(errors.MSG_PAGE_SIZE.format(limit=PER_PAGE_MAX))
    return UserListQuery(
        registered=(_start(bounds["minRegistrationDate"]), _end(bounds["maxRegistrationDate"])),
        deleted=(_start(bounds["minDeletionDate"]), _end(bounds["maxDeletionDate"])),
        last_active=(_start(bounds["minLastActiveDate"]), _end(bounds["maxLastActiveDate"])),
        include_monthly_stats=_boolean(params, "includeMonthlyStats") or False,
        stats_from=_month(params, "monthlyStatsStartDate"),
        stats_to=_month(params, "monthlyStatsEndDate"),
        min_bank_connections=_integer(params, "minBankConnectionCountInMonthlyStats", 0),
        user_id=params.get("userId"),
        is_deleted=_boolean(params, "isDeleted"),
        is_locked=_boolean(params, "isLocked"),
        page=page,
        per_page=per_page,
        descending=_descending(orders),
    )


def _integer(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not _INTEGER.fullmatch(value) or not INT32_MIN <= int(value) <= INT32_MAX:
        raise errors.BadRequest(f"'{name}' must be an integer")
    return int(value)


def _boolean(params: Mapping[str, str], name: str) -> bool | None:
    value = params.get(name)
    if value is None:
        return None
    flag = BOOLEANS.get(value.lower())
    if flag is None:
        raise errors.BadRequest(f"'{name}' must be true or false")
    return flag


def _date(params: Mapping[str, str], name: str) -> date | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError:
        raise errors.IllegalFieldValue(f"'{name}' must be a date in the format 'YYYY-MM-DD'") from None


def _month(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    month = int(value[5:]) if _MONTH.fullmatch(value) else 0
    if not 1 <= month <= 12:
        raise errors.IllegalFieldValue(f"'{name}' must be a month in the format 'YYYY-MM'")
    return int(value[:4]) * 12 + month - 1


def _descending(orders: Sequence[str]) -> bool:
    """`userId` ascending unless told otherwise; every `order` given must name `userId` (the only property)."""
    descending = None
    for order in orders:
        prop, _, direction = order.partition(",")
        if prop.strip() != "userId" or direction.strip().lower() not in ("", "asc", "desc"):
            raise errors.IllegalFieldValue(ORDER_RULE)
        if descending is None:
            descending = direction.strip().lower() == "desc"
    return bool(descending)


def _start(day: date | None) -> float | None:
    """The first instant of `day` in finAPI's time zone."""
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=FINAPI_TZ).timestamp()


def _end(day: date | None) -> float | None:
    """The first instant after `day` (after 9999-12-31: no bound)."""
    if day is None or day == date.max:
        return None
    return _start(day + timedelta(days=1))


def _day(when: float | None) -> str | None:
    return None if when is None else to_datetime(when).date().isoformat()


def _month_of(when: float) -> int:
    moment = to_datetime(when)
    return moment.year * 12 + moment.month - 1


def _live_selected(live: Mapping[str, User], query: UserListQuery) -> Collection[str]:
    """The keys of the live users that meet the criteria (one pass over them per criterion given)."""
    if query.deleted[0] is not None:
        return []  # a live user has no deletion date (and meets any max)
    tests: list[Callable[[User], bool]] = []
    locked = query.is_locked
    if locked is not None:
        tests.append(lambda user: user.locked == locked)
    low, high = query.registered
    if low is not None:
        tests.append(lambda user: user.created_at >= low)
    if high is not None:
        tests.append(lambda user: user.created_at < high)
    since, until = query.last_active
    if since is not None:
        tests.append(lambda user: user.last_active_at is not None and user.last_active_at >= since)
    if until is not None:
        tests.append(lambda user: user.last_active_at is None or user.last_active_at < until)
    if not tests:
        return live.keys()
    first, *more = tests
    keys = [key for key, user in live.items() if first(user)]
    for test in more:
        keys = [key for key in keys if test(live[key])]
    return keys


def _deleted_selected(record: DeletedUser, query: UserListQuery) -> bool:
    """Whether a deleted user meets the criteria: a min date selects only users that have such a date, a max also
    users that have none; a deleted user is never locked."""
    checks = (
        (record.created_at, query.registered),
        (record.deleted_at, query.deleted),
        (record.last_active_at, query.last_active),
    )
    for when, (low, high) in checks:
        if low is not None and (when is None or when < low):
            return False
        if high is not None and when is not None and when >= high:
            return False
    return not query.is_locked


def _deleted_key(record: DeletedUser) -> str:
    return record.user_id.lower()


_FIRST = operator.itemgetter(0)


def _first(count: int, keys: Iterable[Any], size: int, descending: bool, key: Any = None) -> list[Any]:
    """The first `count` of `size` items in order: picked without sorting them all when `count` is small."""
    if count * 8 < size:
        return (heapq.nlargest if descending else heapq.nsmallest)(count, keys, key=key)
    return sorted(keys, key=key, reverse=descending)[:count]


def _page(
    live: Mapping[str, User],
    keys: Collection[str],
    deleted: Sequence[DeletedUser],
    start: int,
    end: int,
    descending: bool,
) -> list[User | DeletedUser]:
    """Entries `start` to `end` of the users in order (see the module docstring): the live ones of `keys` (their
    lower-cased ids) and `deleted`."""
    if start >= len(keys) + len(deleted):
        return []
    first = [(key, live[key]) for key in _first(end, keys, len(keys), descending)]
    second = [(_deleted_key(d), d) for d in _first(end, deleted, len(deleted), descending, _deleted_key)]
    merged: Iterable[tuple[str, User | DeletedUser]] = heapq.merge(first, second, key=_FIRST, reverse=descending)
    return [record for _, record in islice(merged, start, end)]


def _info(
    record: User | DeletedUser, connections: Mapping[str, list[float]], query: UserListQuery, now: float
) -> dict[str, Any]:
    """A `UserInfo`, its fields in the spec's order; `connections`: when each live user's connections were imported,
    by user key."""
    imported: list[float] = []
    if isinstance(record, User):
        user_id, deleted_at, locked = record.id, None, record.locked
        imported = connections.get(record.key, [])
    else:
        user_id, deleted_at, locked = record.user_id, record.deleted_at, False
    stats = _monthly_stats(record.created_at, deleted_at, query, now) if query.include_monthly_stats else None
    return {
        "userId": user_id,
        "registrationDate": _day(record.created_at),
        "deletionDate": _day(deleted_at),
        "lastActiveDate": _day(record.last_active_at),
        "bankConnectionCount": len(imported),
        "latestBankConnectionImportDate": _day(max(imported, default=None)),
        "latestBankConnectionDeletionDate": None,
        "monthlyStats": stats,
        "isLocked": locked,
    }


def _monthly_stats(
    created_at: float, deleted_at: float | None, query: UserListQuery, now: float
) -> list[dict[str, Any]]:
    """One entry a month, latest first, from the month of registration (or `monthlyStatsStartDate`, if later) to the
    current month or the month of deletion (or `monthlyStatsEndDate`, if earlier); at most the latest MAX_MONTHS."""
    first = _month_of(created_at)
    last = _month_of(now if deleted_at is None else deleted_at)
    if query.stats_from is not None:
        first = max(first, query.stats_from)
    if query.stats_to is not None:
        last = min(last, query.stats_to)
    first = max(first, last - MAX_MONTHS + 1)
    return [
        {"month": f"{month // 12:04d}-{month % 12 + 1:02d}", "minBankConnectionCount": 0, "maxBankConnectionCount": 0}
        for month in range(last, first - 1, -1)
    ]


class MandatorAdminService:
    def __init__(self, store: Store, callbacks: Callbacks | None = None) -> None:
        self.store, self.callbacks = store, callbacks
        """`callbacks`: where deletions are told to the mandator's `userSynchronizationCallbackUrl`s."""

    async def user_list(self, client: Client, query: UserListQuery, now: float) -> dict[str, Any]:
        """`PageableUserInfoList`: the mandator's users that meet every criterion, in order, one page. The cost grows
        with the mandator's users (each criterion looks at each; a page is picked without sorting them all);
        `userId` looks up that one user."""
        mandator_id = client.mandator_id
        live: Mapping[str, User]
        deleted: list[DeletedUser] = []
        if query.user_id is not None:  # finds live users only: a deleted user's id is no longer known
            user = None if query.is_deleted else await self.store.user(mandator_id, query.user_id, now)
            live = {} if user is None else {user.key: user}
        else:
            found = await self.store.mandator_users(mandator_id, now)
            live = {} if query.is_deleted is True else found.live
            deleted = [] if query.is_deleted is False else found.deleted
        if query.include_monthly_stats and query.min_bank_connections > 0:
            live, deleted = {}, []  # no user ever had a bank connection
        keys = _live_selected(live, query)
        if query.filters:
            deleted = [record for record in deleted if _deleted_selected(record, query)]
        total = len(keys) + len(deleted)
        start = (query.page - 1) * query.per_page
        page = _page(live, keys, deleted, start, start + query.per_page, query.descending)
        connections: dict[str, list[float]] = {}
        if any(isinstance(record, User) for record in page):
            for summary in await self.store.bank_summary(mandator_id, now):
                connections.setdefault(summary.connection.user_key, []).append(summary.connection.created_at)
        return {
            "users": [_info(record, connections, query, now) for record in page],
            "paging": {
                "page": query.page,
                "perPage": query.per_page,
                "pageCount": math.ceil(total / query.per_page),
                "totalCount": total,
            },
        }

    async def delete_users(self, client: Client, params: Mapping[str, Any], now: float) -> dict[str, list[str]]:
        """`UserIdentifiersList`: the users deleted, in ascending order; unknown ids are in neither list, and every
        known user can be deleted (the emulator runs no internal process that would hold one)."""
        user_ids = params.get("userIds")
        if user_ids is None:
            raise errors.MissingField("userIds")
        if not isinstance(user_ids, list) or not all(isinstance(user_id, str) for user_id in user_ids):
            raise errors.IllegalFieldValue("'userIds' must be a list of strings")
        if len(user_ids) > MAX_USER_IDS:
            raise errors.TooManyIds(errors.MSG_TOO_MANY_IDS.format(limit=MAX_USER_IDS))
        deleted = await self.store.delete_users(client.mandator_id, user_ids, now)
        if self.callbacks is not None:
            await self.callbacks.user_deleted(client.mandator_id, [user.id for user in deleted])
        return {"deletedUsers": sorted((user.id for user in deleted), key=str.lower), "nonDeletedUsers": []}
