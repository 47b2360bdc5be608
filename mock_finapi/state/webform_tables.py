"""The Web Form 2.0 data of the in-memory store (state/memory.py): every user's web forms and background-update tasks,
and the journal of the callbacks the emulator sent.

`WebFormTables` keeps the forms and the tasks by id (ids are global: the page and the admin API look them up by id
alone) and, per user (mandator id, lower-cased user id), their ids in creation order. What the sweep asks for (the
forms whose URL expired or whose scenario outcome came, the tasks whose start or end came) is found through a heap
per kind, keyed by the time the record is next due: asking when nothing is due is O(1), and a record that went final,
was deleted or got another due time since it was filed leaves a stale entry that is dropped when it comes up
(`_Due`).

The rules (what may change when) are the store's (state/memory.py); these are the tables.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from mock_finapi.state.webforms import CallbackAttempt, Task, WebForm

CALLBACK_JOURNAL_SIZE = 1_000
"""The callback attempts the store keeps (the newest; `GET /__admin/callbacks`)."""

COMPACT_SLACK = 1_024
"""Stale entries a due-time heap may carry beyond twice its live ones before it is rebuilt."""

Owner = tuple[str, str]
"""(mandator id, lower-cased user id)."""


R = TypeVar("R", WebForm, Task)


class _Due(Generic[R]):
    """Records by the time they are next due: a heap of (time, creation number, id) and the time each record is filed
    under. An entry whose record is gone, final or filed under another time since is stale: dropped when it comes up,
    and all of them at once (the heap rebuilt from `filed`, O(n) spread over the n/2 pushes before it) once they
    outnumber the live ones, so the heap stays in proportion to the records that are not final however many come and
    go while the clock stands still."""

    __slots__ = ("filed", "heap", "when")

    def __init__(self, when: Callable[[R], float | None]) -> None:
        self.when: Callable[[R], float | None] = when
        """The time a record is next due; None: never (final)."""
        self.heap: list[tuple[float, int, str]] = []
        self.filed: dict[str, tuple[float, int]] = {}
        """(time, creation number) by id, of the records that are not final."""

    def file(self, record: R, number: int) -> None:
        when: float | None = self.when(record)
        if when is None:
            self.filed.pop(record.id, None)
            return
        filed = self.filed.get(record.id)
        if filed is not None and filed[0] == when:
            return
        self.filed[record.id] = (when, number)
        heapq.heappush(self.heap, (when, number, record.id))
        if len(self.heap) > 2 * len(self.filed) + COMPACT_SLACK:
            self.heap = [(at, n, record_id) for record_id, (at, n) in self.filed.items()]
            heapq.heapify(self.heap)

    def forget(self, record_id: str) -> None:
        self.filed.pop(record_id, None)

    def due(self, now: float) -> list[str]:
        """The ids due at `now` (they stay filed until they change): O(1) when none is, O(due · log n) otherwise."""
        heap, filed = self.heap, self.filed
        found: dict[str, tuple[float, int, str]] = {}
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if filed.get(entry[2]) == entry[:2]:
                found[entry[2]] = entry  # once, however many entries it has
        for entry in found.values():
            heapq.heappush(heap, entry)
        return list(found)


def _form_due(form: WebForm) -> float | None:
    if form.final:
        return None
    return form.expires_at if form.outcome_at is None else min(form.expires_at, form.outcome_at)


def _task_due(task: Task) -> float | None:
    if task.final:
        return None
    return min(task.starts_at, task.ends_at) if task.status == "NOT_YET_STARTED" else task.ends_at


class _Kind(Generic[R]):
    """The records of one kind: by id, per owner in creation order, and by due time."""

    __slots__ = ("by_id", "due", "numbers", "of_owner")

    def __init__(self, when: Callable[[R], float | None]) -> None:
        self.by_id: dict[str, R] = {}
        self.numbers: dict[str, int] = {}
        """Each record's creation number (ties of `created_at` go by it)."""
        self.of_owner: dict[Owner, dict[str, None]] = {}
        """Ids per owner in creation order (a dict: removing one is O(1))."""
        self.due: _Due[R] = _Due(when)

    def add(self, record: R, number: int) -> R:
        self.remove(record.id)
        self.by_id[record.id] = record
        self.numbers[record.id] = number
        self.of_owner.setdefault(_owner(record), {})[record.id] = None
        self.due.file(record, number)
        return record

    def put(self, record: R) -> R:
        """Store a new version of a record (same id and owner)."""
        self.by_id[record.id] = record
        self.due.file(record, self.numbers[record.id])
        return record

    def remove(self, record_id: str) -> R | None:
        record = self.by_id.pop(record_id, None)
        if record is None:
            return None
        del self.numbers[record_id]
        ids = self.of_owner.get(_owner(record))
        if ids is not None:
            ids.pop(record_id, None)
            if not ids:
                del self.of_owner[_owner(record)]
        self.due.forget(record_id)
        return record

    def of(self, owner: Owner, descending: bool) -> list[R]:
        records = [self.by_id[i] for i in self.of_owner.get(owner, ())]
        records.sort(key=lambda record: (record.created_at, self.numbers[record.id]), reverse=descending)
        return records

    def drop_owner(self, owner: Owner) -> None:
        for record_id in list(self.of_owner.get(owner, ())):
            self.remove(record_id)

    def due_at(self, now: float) -> list[R]:
        """Oldest first (by `created_at`, then creation)."""
        records = [self.by_id[i] for i in self.due.due(now)]
        records.sort(key=lambda record: (record.created_at, self.numbers[record.id]))
        return records

    def items(self) -> Iterator[tuple[R, int]]:
        for record_id, record in self.by_id.items():
            yield record, self.numbers[record_id]


def _owner(record: WebForm | Task) -> Owner:
    return record.mandator_id, record.user_key.lower()


class WebFormTables:
    """Every user's web forms and tasks, and the callback journal."""

    __slots__ = ("callbacks", "forms", "number", "tasks")

    def __init__(self) -> None:
        self.forms: _Kind[WebForm] = _Kind(_form_due)
        self.tasks: _Kind[Task] = _Kind(_task_due)
        self.number = 0
        """The next creation number (over forms and tasks)."""
        self.callbacks: deque[CallbackAttempt] = deque(maxlen=CALLBACK_JOURNAL_SIZE)
        """Oldest first: the oldest go beyond CALLBACK_JOURNAL_SIZE."""

    def _next(self) -> int:
        self.number += 1
        return self.number

    def add_form(self, form: WebForm) -> WebForm:
        return self.forms.add(form, self._next())

    def add_task(self, task: Task) -> Task:
        return self.tasks.add(task, self._next())

    def drop(self, mandator_id: str, user_key: str) -> None:
        """Forget the user's forms and tasks (the user is deleted)."""
        owner = (mandator_id, user_key.lower())
        self.forms.drop_owner(owner)
        self.tasks.drop_owner(owner)

    def drop_record(self, record: WebForm | Task) -> None:
        if isinstance(record, WebForm):
            self.forms.remove(record.id)
        else:
            self.tasks.remove(record.id)

    @classmethod
    def merged(cls, old: WebFormTables, new: WebFormTables, mandator_id: str) -> WebFormTables:
        """`old`'s forms and tasks with `mandator_id`'s taken from `new` (a mandator's reset), in `old`'s creation
        order then `new`'s; the callback journal is `old`'s without the mandator's attempts."""
        tables = cls()
        for source, theirs in ((old, False), (new, True)):
            for form, _ in sorted(source.forms.items(), key=lambda pair: pair[1]):
                if (form.mandator_id == mandator_id) == theirs:
                    tables.add_form(form)
            for task, _ in sorted(source.tasks.items(), key=lambda pair: pair[1]):
                if (task.mandator_id == mandator_id) == theirs:
                    tables.add_task(task)
        tables.callbacks.extend(a for a in old.callbacks if a.mandator_id != mandator_id)
        return tables

    def image(self) -> tuple[list[tuple[int, WebForm]], list[tuple[int, Task]], int, list[CallbackAttempt]]:
        """The forms and the tasks with their creation numbers, the last number given, the callbacks sent."""
        forms = [(number, form) for form, number in self.forms.items()]
        tasks = [(number, task) for task, number in self.tasks.items()]
        return forms, tasks, self.number, list(self.callbacks)

    @classmethod
    def from_image(
        cls,
        forms: Sequence[tuple[int, WebForm]],
        tasks: Sequence[tuple[int, Task]],
        number: int,
        callbacks: Sequence[CallbackAttempt],
    ) -> WebFormTables:
        tables = cls()
        for form_number, form in forms:
            tables.forms.add(form, form_number)
        for task_number, task in tasks:
            tables.tasks.add(task, task_number)
        tables.number = number
        tables.callbacks.extend(callbacks)
        return tables
