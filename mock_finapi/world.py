"""Worlds, and the sandbox that serves one at a time.

A `World` is one loaded scenario: its seed, its banks and the services it configures, over the sandbox's store.
`build_state` makes the state a scenario starts with (clients, users with their bank connections, seeded processes,
fault rules, the clock) as a `MemoryStore`,
synchronously, so a sandbox builds it off the event loop. `Sandbox` holds the served world; `Sandbox.swap` is the one
way to serve another (the admin API's reset and scenario loads, `--reload`, the threaded server and the pytest plugin
all call it): the new state replaces the old in one step of the store, so no request sees half of either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from mock_finapi import collector, errors, snapshots
from mock_finapi.clock import Clock, starting
from mock_finapi.randomness import IDS, Randomness, random_seed
from mock_finapi.scenarios import loader
from mock_finapi.scenarios.schema import ConnectionSpec, GenerateUsers, Scenario, UserSpec
from mock_finapi.services import bankgen, client_config, users
from mock_finapi.services.bank_data import BankDataService
from mock_finapi.services.banks import BankCatalog
from mock_finapi.services.callbacks import STOP_GRACE, Callbacks
from mock_finapi.services.mandator_admin import MandatorAdminService
from mock_finapi.services.processes import ProcessService
from mock_finapi.services.tokens import TokenService
from mock_finapi.services.users import UserService
from mock_finapi.services.webforms import WebFormService
from mock_finapi.settings import DEFAULT_CAPACITY, MEMORY, Capacity, Settings
from mock_finapi.state.memory import MemoryStore
from mock_finapi.state.models import Client, Origin, User
from mock_finapi.state.protocol import NewProcess, Store, TokenPolicy

log = logging.getLogger("mock_finapi")
UPKEEP_INTERVAL = 0.5
"""Seconds between two looks of the upkeep when nothing was left to purge."""
UPKEEP_BATCH = 2000
"""Expired entries purged at a time (a few milliseconds), the event loop serving requests in between."""


class World:
    """One scenario's services over a store (immutable: swapping scenarios makes a new World)."""

    def __init__(
        self, scenario: Scenario, seed: int, store: Store, clock: Clock, *, public_url: str | None = None
    ) -> None:
        """`public_url`: the base of web form URLs (`--public-url`); None: each request's own."""
        self.scenario, self.seed, self.store, self.clock = scenario, seed, store, clock
        self.rng = Randomness(seed)
        self.banks = BankCatalog.with_scenario(scenario.banks)
        self.bank_data = BankDataService(store, self.banks)
        policy = TokenPolicy(scenario.tokens.format, scenario.tokens.reuse)
        self.tokens = TokenService(store, policy, auto_register=scenario.auto_register)
        self.callbacks = Callbacks(store, clock, scenario.webforms.callbacks)
        self.users = UserService(store, self.rng, self.callbacks)
        self.processes = ProcessService(store, self.tokens, scenario.processes.limits)
        self.mandator_admin = MandatorAdminService(store, self.callbacks)
        self.webforms = WebFormService(
            store, self.banks, self.rng, scenario.webforms, self.callbacks, public_url=public_url
        )


def resolve_seed(scenario: Scenario, seed: int | None) -> int:
    """The seed given, else the scenario's, else a fresh one (logged, so the run can be replayed)."""
    if seed is None:
        seed = scenario.seed
    if seed is None:
        seed = random_seed()
        log.info("scenario %s has no seed; using seed %d (pass --seed %d to replay)", scenario.name, seed, seed)
    return seed


def build_state(
    scenario: Scenario,
    seed: int,
    real: float,
    *,
    journal_size: int,
    freeze_at: datetime | None = None,
    capacity: Capacity = DEFAULT_CAPACITY,
) -> MemoryStore:
    """The state `scenario` starts with; `freeze_at` starts its clock there, frozen. The scenario's own clients,
    users, bank data and processes are all loaded whatever `capacity` says (the loader caps a scenario's totals);
    the capacity limits what is created at run time. Bank connections are made as they stand at the start, their
    generated parts drawn from the seed (one position of `bankgen.STREAM` per connection, in the scenario's order)."""
    start = freeze_at or scenario.clock.start
    clock = starting(start, freeze_at is not None or scenario.clock.frozen, real)
    store = MemoryStore(seed, clock, journal_size=journal_size, capacity=capacity)
    for spec in scenario.clients:
        config = client_config.new_config(spec.config, mandator_admin=spec.role == "mandator_admin")
        store.load_client(Client(spec.client_id, spec.client_secret, spec.role, spec.mandator_id, config))
    now = clock.time(real)
    catalog = BankCatalog.with_scenario(scenario.banks)
    with collector.paused():
        # Explicit users first: generated ones then avoid their ids instead of being overwritten by them.
        for entry in sorted(scenario.users, key=lambda entry: not isinstance(entry, UserSpec)):
            if isinstance(entry, UserSpec):
                user = User(
                    entry.mandator_id,
                    entry.id,
                    entry.password,
                    email=entry.email,
                    phone=entry.phone,
                    is_auto_update_enabled=entry.is_auto_update_enabled,
                    verified=entry.verified,
                    locked=entry.locked,
                    created_at=now,
                )
                store.load_user(user)
                _connect(store, catalog, user, entry.bank_connections, now)
            else:
                _generate(store, catalog, entry, now)
    limits = scenario.processes.limits
    for seeded in scenario.processes.seeded:
        new = NewProcess(
            seeded.client_reference, seeded.process_id, seeded.process_token, seeded.exchanges, seeded.invalidated
        )
        store.load_processes(seeded.client_id, [new], now, limits)
    store.load_faults(scenario.faults)
    store.origin = Origin(scenario, seed)
    return store


def _connect(store: MemoryStore, catalog: BankCatalog, user: User, specs: Sequence[ConnectionSpec], now: float) -> None:
    """Load `user`'s bank connections as they stand at `now`."""
    for spec in specs:
        bank = catalog.get(spec.bank)
        if bank is None:  # the loader refuses such a scenario
            raise LookupError(f"a connection of {user.id!r} names bank {spec.bank}, which the scenario lacks")
        position = store.draw_now(bankgen.STREAM)
        connection, accounts = bankgen.connection(spec, bank, store.rng, position, now, user.mandator_id, user.key)
        store.load_connection(connection, accounts)


def _generate(store: MemoryStore, catalog: BankCatalog, spec: GenerateUsers, now: float) -> None:
    """Faker users from the seed: same seed, same users, each with the entry's bank connections. Values finAPI
    would refuse are replaced or left out."""
    fake = store.rng.faker("users")
    for _ in range(spec.count):
        user_id = fake.user_name()
        if users.id_problem(user_id):
            user_id = store.rng.uuid(IDS, store.draw_now(IDS))
        email, phone = fake.email(), fake.phone_number()
        user = User(
            spec.mandator_id,
            user_id,
            fake.password(length=12),
            email=None if users.email_problem(email) else email,
            phone=None if users.phone_problem(phone) else phone,
            verified=spec.verified,
            created_at=now,
        )
        if not store.load_user(user):  # the id is taken: the same user under a fresh id
            user = user._replace(id=store.rng.uuid(IDS, store.draw_now(IDS)))
            store.load_user(user)
        _connect(store, catalog, user, spec.bank_connections, now)


class Sandbox:
    """The world being served (`world`), the store all its worlds share, and the one way to swap worlds."""

    def __init__(self, settings: Settings, store: Store, world: World) -> None:
        self.settings, self.store, self._world = settings, store, world
        self._origin = store.origin
        """The origin `_world` serves (each build of a state makes a new one: a reset too)."""
        self._swapping = asyncio.Lock()
        self.changes = 0
        """Grows whenever the state may have changed (a request, the upkeep's work, a swap): what the state file's
        writer looks at."""
        self.stopping = asyncio.Event()
        """Set when serving stops and requests still waiting (a fault's delay) must end now."""

    @property
    def world(self) -> World:
        """The world being served: a new one whenever the state's origin moved on (a reset, a scenario or snapshot
        load; on a shared state, also one made by another process)."""
        world, origin = self._world, self.store.origin
        if origin is not None and origin is not self._origin:
            world.callbacks.close()  # the old world's callbacks on their way end, unrecorded
            self._origin = origin
            world = self._world = World(
                origin.scenario, origin.seed, self.store, world.clock, public_url=self.settings.public_url
            )
        return world

    async def upkeep(self, interval: float = UPKEEP_INTERVAL) -> None:
        """While serving: purge expired tokens and due user deletions a bounded batch at a time, so that memory
        follows the clock (a clock jump that expires a million tokens) without any request paying for it; and move
        web forms and tasks along the clock (`WebFormService.sweep`: every `interval`, at most 0.5 s)."""
        while True:
            world = self.world
            now = (await self.store.prepare()).clock.time(world.clock.real())
            purged = await self.store.purge_expired(now, UPKEEP_BATCH)
            swept = 0
            try:
                swept = await world.webforms.sweep(now)  # expiry, scenario outcomes, tasks: with their callbacks
            except Exception:  # a bug must not end the upkeep
                log.exception("web form sweep failed")
            if purged or swept:
                self.changes += 1
            await asyncio.sleep(0 if purged == UPKEEP_BATCH else interval)

    async def close(self) -> None:
        """Serving has stopped: callbacks still on their way get `STOP_GRACE` seconds to end (then they end unsent or
        unanswered), and the store lets go of its connections (a shared state's, of this event loop)."""
        await self.world.callbacks.drain(STOP_GRACE)
        await self.store.close()

    async def delay(self, seconds: float) -> bool:
        """Wait `seconds` of real time (a fault's `delay_ms`); False when serving stops first."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            return True
        return False

    @classmethod
    def start(
        cls, settings: Settings, scenario: Scenario, *, clock: Clock | None = None, freeze_at: datetime | None = None
    ) -> Sandbox:
        """A sandbox serving `scenario` in memory (built here, before anything is served)."""
        clock = clock or Clock()
        seed = resolve_seed(scenario, settings.seed)
        store = build_state(
            scenario,
            seed,
            clock.real(),
            journal_size=settings.journal_size,
            freeze_at=freeze_at,
            capacity=settings.capacity,
        )
        return cls.serving(settings, store, clock)

    @classmethod
    def serving(cls, settings: Settings, state: MemoryStore, clock: Clock) -> Sandbox:
        """A sandbox on the backend `settings.state` names, starting from `state` (a shared state that exists
        already is joined instead: see state/redis_store.py)."""
        store: Store = state
        if settings.state != MEMORY:
            from mock_finapi.state.redis_store import RedisStore  # only where it is used: redis is slow to import

            store = RedisStore(settings.state, settings.state_prefix, state)
        origin = state.origin
        assert origin is not None
        return cls(settings, store, World(origin.scenario, origin.seed, store, clock, public_url=settings.public_url))

    async def swap(self, scenario: Scenario, *, seed: int | None = None, freeze_at: datetime | None = None) -> World:
        """Serve `scenario` from a fresh state (built off the event loop), in one step; `seed` None takes the
        settings' or the scenario's."""
        async with self._swapping:
            seed = resolve_seed(scenario, self.settings.seed if seed is None else seed)
            fresh = await asyncio.to_thread(
                build_state,
                scenario,
                seed,
                self.world.clock.real(),
                journal_size=self.settings.journal_size,
                freeze_at=freeze_at,
                capacity=self.settings.capacity,
            )
            await self.store.replace(fresh)
            return self.world

    async def snapshot(self, *, journal: bool = True, paced: bool = True) -> Iterator[bytes]:
        """The snapshot of the state as it stands now (taken in one step of the store), as the pieces of its JSON
        document: iterate them off the event loop (`snapshots.chunks`; `paced` False once nothing is served)."""
        world = self.world
        assemble = await self.store.export(journal)
        return snapshots.chunks(world.scenario, world.seed, assemble, paced=paced)

    async def restore(self, loaded: snapshots.Loaded) -> World:
        """Serve a snapshot (read and checked by `snapshots.load`), in one step, as `swap` serves a scenario."""
        async with self._swapping:
            await self.store.replace(loaded.store)
            return self.world

    @classmethod
    def restored(cls, settings: Settings, loaded: snapshots.Loaded, *, clock: Clock | None = None) -> Sandbox:
        """A sandbox serving a snapshot."""
        return cls.serving(settings, loaded.store, clock or Clock())

    async def reset(self) -> World:
        """The served scenario and seed from scratch (clock back at its start, journal and run-time faults gone)."""
        return await self.swap(self.world.scenario, seed=self.world.seed)

    async def reset_mandator(self, mandator_id: str) -> bool:
        """Put one mandator's slice back to the scenario's; False when neither knows the mandator."""
        world = self.world
        async with self._swapping:
            fresh = await asyncio.to_thread(
                build_state,
                world.scenario,
                world.seed,
                world.clock.real(),
                journal_size=self.settings.journal_size,
                capacity=self.settings.capacity,
            )
            return await self.store.reset_mandator(mandator_id, fresh)

    def scenario_roots(self) -> list[Path]:
        """Where `POST /__admin/scenario {"path"}` may read: `--scenario-dir`s, the built-ins, the served file's
        folder."""
        roots = [*(Path(d) for d in self.settings.scenario_dirs), loader.builtin_dir()]
        source = Path(self.world.scenario.source)
        if source.is_file():
            roots.append(source.parent)
        return [root.resolve() for root in roots]


def allowed_scenario_path(value: str, roots: list[Path]) -> Path:
    """A scenario file inside one of `roots` (symbolic links followed); a relative path is looked up in them (in
    order), then in the working directory. Raises BadRequest for anything else, so the admin API cannot be used to
    read other files of the host."""
    given = Path(value)
    candidates = [given] if given.is_absolute() else [*(root / given for root in roots), given]
    try:
        resolved = [c.resolve() for c in candidates]
        path = next((p for p in resolved if p.is_file()), resolved[0])
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a name too long, a symlink loop
        raise errors.BadRequest(f"'{value}' is not a usable file path") from None
    if not value or not any(path.is_relative_to(root) for root in roots):
        raise errors.BadRequest(f"'{value}' is outside the scenario directories (add one with --scenario-dir)")
    return path
