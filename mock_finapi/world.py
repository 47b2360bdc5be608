"""A world: one loaded scenario with its clock, seeded source, store and services.

`World(scenario)` builds everything a run needs from the scenario alone, so resetting is building a new world and
swapping it in, and one process can host many worlds side by side (each test gets its own).
"""

from __future__ import annotations

import logging

from mock_finapi.clock import Clock, wall_clock
from mock_finapi.randomness import Randomness, random_seed
from mock_finapi.scenarios.schema import GenerateUsers, Scenario, UserSpec
from mock_finapi.services import client_config, users
from mock_finapi.services.faults import Faults
from mock_finapi.services.journal import Journal, Matcher
from mock_finapi.services.processes import ProcessService
from mock_finapi.services.tokens import TokenService, TokenSettings
from mock_finapi.services.users import UserService
from mock_finapi.state.models import Client, User
from mock_finapi.state.store import Store

log = logging.getLogger("mock_finapi")


class World:
    def __init__(
        self, scenario: Scenario, *, seed: int | None = None, clock: Clock | None = None, journal_size: int = 1000
    ) -> None:
        self.scenario = scenario
        if seed is None:
            seed = scenario.seed
        if seed is None:
            seed = random_seed()
            log.info("scenario %s has no seed; using seed %d (pass --seed %d to replay)", scenario.name, seed, seed)
        self.seed = seed
        self.clock = clock or Clock(scenario.clock.start, frozen=scenario.clock.frozen)
        self.rng = Randomness(seed)
        self.store = Store()
        self.tokens = TokenService(
            self.store,
            self.clock,
            self.rng,
            TokenSettings(scenario.tokens.format, scenario.tokens.reuse, scenario.auto_register),
        )
        self.users = UserService(self.store, self.clock, self.rng)
        self.processes = ProcessService(self.store, self.clock, self.rng, self.tokens, scenario.processes.limits)
        self.faults = Faults(list(scenario.faults), self.rng.stream("faults"))
        self.journal = Journal(journal_size, self.store)
        self._populate()

    def reset(self) -> World:
        """A new world of the same scenario and seed, on this world's clock put back to the scenario's start."""
        start = self.scenario.clock
        self.clock.set(start.start or wall_clock())  # a real-time scenario restarts at the real time
        self.clock.freeze(start.frozen)
        return World(self.scenario, seed=self.seed, clock=self.clock, journal_size=self.journal.size)

    def reset_mandator(self, mandator_id: str) -> bool:
        """Put one mandator's slice (clients' configuration, users, tokens, processes, journal) back to the scenario.

        Other mandators keep their state, so parallel tests in one server do not disturb each other. False when
        neither the scenario nor the run knows the mandator.
        """
        if mandator_id not in self.store.mandators:
            return False
        fresh = World(self.scenario, seed=self.seed, clock=self.clock, journal_size=0)
        self.store.replace_mandator(mandator_id, fresh.store)
        self.journal.clear(Matcher(mandator_id=mandator_id))
        return True

    def _populate(self) -> None:
        for spec in self.scenario.clients:
            config = client_config.new_config(spec.config, mandator_admin=spec.role == "mandator_admin")
            self.store.add_client(Client(spec.client_id, spec.client_secret, spec.role, spec.mandator_id, config))
        now = self.clock.time()
        # Explicit users first: generated ones then avoid their ids instead of being overwritten by them.
        entries = sorted(self.scenario.users, key=lambda entry: not isinstance(entry, UserSpec))
        for entry in entries:
            if isinstance(entry, UserSpec):
                self.store.add_user(
                    User(
                        id=entry.id,
                        password=entry.password,
                        mandator_id=entry.mandator_id,
                        email=entry.email,
                        phone=entry.phone,
                        is_auto_update_enabled=entry.is_auto_update_enabled,
                        verified=entry.verified,
                        locked=entry.locked,
                        created_at=now,
                    )
                )
            else:
                self._generate(entry, now)
        for seeded in self.scenario.processes.seeded:
            self.processes.create(
                self.store.clients[seeded.client_id],
                seeded.client_reference,
                seeded.process_id,
                token=seeded.process_token,
                exchanges=seeded.exchanges,
                invalidated=seeded.invalidated,
            )

    def _generate(self, spec: GenerateUsers, now: float) -> None:
        """Faker users from the seed: same seed, same users. Values finAPI would refuse are replaced or left out."""
        fake = self.rng.faker
        for _ in range(spec.count):
            user_id = fake.user_name()
            if users.id_problem(user_id) or self.store.user(spec.mandator_id, user_id) is not None:
                user_id = self.rng.uuid()
            email, phone = fake.email(), fake.phone_number()
            self.store.add_user(
                User(
                    id=user_id,
                    password=fake.password(length=12),
                    mandator_id=spec.mandator_id,
                    email=None if users.email_problem(email) else email,
                    phone=None if users.phone_problem(phone) else phone,
                    verified=spec.verified,
                    created_at=now,
                )
            )
