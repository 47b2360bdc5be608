"""Access v2 bank data on the wire (WEBFORM.md §5): banks, bank connections, accounts, transactions.

Every optional field is present, `null` when empty (§5.6, decided); money (integer cents in the records) is a JSON
number with exactly two decimals (`-49.99`, `5230.00`); dates are `YYYY-MM-DD`, instants RFC 3339 with millis and
the +01:00 offset. A transaction is rendered to bytes once (`RENDERED`, a bounded cache of the immutable records'
bytes), so a page of 500 is one join of cached bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from mock_finapi.clock import format_v2, to_datetime
from mock_finapi.http.render import JSON
from mock_finapi.state.banking import (
    Account,
    AccountInterface,
    Bank,
    BankInterface,
    Category,
    Connection,
    ConnectionInterface,
    Owner,
    Transaction,
    TransactionPage,
    UpdateResult,
)

MASKED = "XXXXX"
"""A stored credential or account holder id as an unlicensed client sees it (WEBFORM.md §5.1, §8: decided)."""
TRANSACTION_CACHE_SIZE = 20_000
"""Transactions whose rendered bytes are kept (about 25 MB): 40 pages of 500, the pages a client pages through."""
PAGE_CACHE_SIZE = 16
"""Transaction pages whose bodies are kept (at most about 9 MB at 500 a page)."""


def money(cents: int) -> orjson.Fragment:
    """Cents as a JSON number with two decimals."""
    whole, rest = divmod(abs(cents), 100)
    return orjson.Fragment(b"%s%d.%02d" % (b"-" if cents < 0 else b"", whole, rest))


def _money(cents: int | None) -> orjson.Fragment | None:
    return None if cents is None else money(cents)


def instant(when: float | None) -> str | None:
    return None if when is None else format_v2(to_datetime(when))


# ---------------------------------------------------------------------------------------------------- banks


def _bank_interface(interface: BankInterface) -> dict[str, Any]:
    pis = interface.is_pis_supported
    return {
        "bankingInterface": interface.banking_interface,
        "tppAuthenticationGroup": None,
        "loginCredentials": [
            {
                "label": field.label,
                "isSecret": field.is_secret,
                "isVolatile": field.is_volatile,
                "isMandatory": field.is_mandatory,
            }
            for field in interface.login_fields
        ],
        "properties": list(interface.properties),
        "loginHint": interface.login_hint,
        "health": interface.health,
        "lastCommunicationAttempt": None,
        "lastSuccessfulCommunication": None,
        "isAisSupported": interface.is_ais_supported,
        "isPisSupported": pis,
        "paymentCapabilities": {  # decided: all of them where the interface supports payments
            "sepaDirectDebit": pis,
            "sepaMoneyTransfer": pis,
            "sepaInstantMoneyTransfer": pis,
            "sepaCollectiveMoneyTransfer": pis,
            "sepaFutureDatedMoneyTransfer": pis,
            "sepaStandingOrder": pis,
            "domesticMoneyTransfer": False,
            "domesticCollectiveMoneyTransfer": False,
            "domesticFutureDatedMoneyTransfer": False,
        },
        "paymentConstraints": None,
        "aisAccountTypes": list(interface.account_types),
    }


def bank(record: Bank) -> dict[str, Any]:
    """`Bank`."""
    group = record.bank_group
    return {
        "id": record.id,
        "name": record.name,
        "bic": record.bic,
        "blz": record.blz,
        "location": record.location,
        "city": record.city,
        "isTestBank": record.is_test_bank,
        "popularity": record.popularity,
        "interfaces": [_bank_interface(interface) for interface in record.interfaces],
        "bankGroup": None if group is None else {"id": group[0], "name": group[1]},
        "isBeta": record.is_beta,
        "logo": None,
        "icon": None,
    }


def bank_page(banks: Sequence[Bank], total: int, page: int, per_page: int) -> Response:
    """`PageableBankList`."""
    return JSON({"banks": [bank(record) for record in banks], "paging": paging(total, page, per_page)})


def paging(total: int, page: int, per_page: int) -> dict[str, int]:
    """Access `Paging`: `page` echoes the request, also beyond the last page (decided, WEBFORM.md §7.12)."""
    return {"page": page, "perPage": per_page, "pageCount": -(-total // per_page), "totalCount": total}


# ---------------------------------------------------------------------------------------------------- connections


def _update_result(result: UpdateResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "result": result.result,
        "errorMessage": result.error_message,
        "errorType": result.error_type,
        "timestamp": instant(result.timestamp),
    }


def _consent(interface: ConnectionInterface, now: float) -> dict[str, Any] | None:
    """XS2A only: PRESENT until the consent expires, then NOT_PRESENT (`supportsImportNewAccounts` false, decided)."""
    if interface.banking_interface != "XS2A":
        return None
    expires = interface.consent_expires_at
    present = expires is not None and now < expires
    return {
        "status": "PRESENT" if present else "NOT_PRESENT",
        "expiresAt": instant(expires) if present else None,
        "supportsImportNewAccounts": False,
    }


def _connection_interface(interface: ConnectionInterface, bank: Bank, now: float) -> dict[str, Any]:
    offered = next((i for i in bank.interfaces if i.banking_interface == interface.banking_interface), None)
    procedures = () if offered is None else offered.two_step_procedures
    return {
        "bankingInterface": interface.banking_interface,
        "loginCredentials": [
            {"label": label, "value": None if value is None else MASKED} for label, value in interface.credentials
        ],
        "defaultTwoStepProcedureId": interface.default_two_step_procedure_id,
        "twoStepProcedures": [
            {
                "procedureId": procedure.procedure_id,
                "procedureName": procedure.procedure_name,
                "procedureChallengeType": procedure.challenge_type,
                "implicitExecute": procedure.implicit_execute,
            }
            for procedure in procedures
        ],
        "aisConsent": _consent(interface, now),
        "lastManualUpdate": _update_result(interface.last_manual_update),
        "lastAutoUpdate": _update_result(interface.last_auto_update),
        "userActionRequired": interface.user_action_required,
        "maxDaysForDownload": interface.max_days_for_download,
    }


def _owner(owner: Owner) -> dict[str, Any]:
    return {
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "salutation": owner.salutation,
        "title": owner.title,
        "email": owner.email,
        "dateOfBirth": owner.date_of_birth,
        "postCode": owner.post_code,
        "country": owner.country,
        "city": owner.city,
        "street": owner.street,
        "houseNumber": owner.house_number,
    }


def connection(record: Connection, bank_record: Bank, now: float) -> dict[str, Any]:
    """`BankConnection`, with its full bank; the statuses and the consent as of `now`."""
    return {
        "id": record.id,
        "name": record.name,
        "updateStatus": record.update_status(now),
        "categorizationStatus": record.categorization_status(now),
        "interfaces": [_connection_interface(interface, bank_record, now) for interface in record.interfaces],
        "accountIds": list(record.account_ids),
        "owners": None if record.owners is None else [_owner(owner) for owner in record.owners],
        "bank": bank(bank_record),
    }


# ---------------------------------------------------------------------------------------------------- accounts


def _account_interface(interface: AccountInterface) -> dict[str, Any]:
    capabilities = interface.capabilities
    transfer = "SEPA_MONEY_TRANSFER" in capabilities
    return {
        "bankingInterface": interface.banking_interface,
        "status": interface.status,
        "capabilities": list(capabilities),
        "paymentCapabilities": {  # decided: from the capabilities; domestic (non-SEPA) payments never
            "sepaInstantMoneyTransfer": transfer,
            "sepaFutureMoneyTransfer": transfer,
            "sepaFutureCollectiveMoneyTransfer": "SEPA_COLLECTIVE_MONEY_TRANSFER" in capabilities,
            "domesticMoneyTransfer": False,
            "domesticCollectiveMoneyTransfer": False,
            "domesticFutureMoneyTransfer": False,
            "domesticFutureCollectiveMoneyTransfer": False,
        },
        "lastSuccessfulUpdate": instant(interface.last_successful_update),
        "lastUpdateAttempt": instant(interface.last_update_attempt),
    }


def account(record: Account) -> dict[str, Any]:
    """`Account`."""
    return {
        "id": record.id,
        "bankConnectionId": record.connection_id,
        "accountName": record.name,
        "iban": record.iban,
        "accountNumber": record.account_number,
        "subAccountNumber": record.sub_account_number,
        "accountHolderName": record.holder_name,
        "accountHolderId": None if record.holder_id is None else MASKED,
        "accountCurrency": record.currency,
        "accountType": record.account_type,
        "balance": _money(record.balance),
        "overdraft": _money(record.overdraft),
        "overdraftLimit": _money(record.overdraft_limit),
        "availableFunds": _money(record.available_funds),
        "isNew": record.is_new,
        "interfaces": [_account_interface(interface) for interface in record.interfaces],
        "isSeized": record.is_seized,
    }


# ---------------------------------------------------------------------------------------------------- transactions


def _category(category: Category | None) -> dict[str, Any] | None:
    if category is None:
        return None
    return {
        "id": category.id,
        "name": category.name,
        "parentId": category.parent_id,
        "parentName": category.parent_name,
        "isCustom": category.is_custom,
        "children": None,
    }


class RenderedTransactions:
    """Transactions' JSON bytes by id, each with the record it was rendered from: a record that differs (updated, or
    another world's of the same id) is rendered anew. At most `size` are kept, the oldest forgotten first. An int
    lookup per record costs a fraction of hashing the whole record (as `functools.lru_cache` would)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: dict[int, tuple[Transaction, bytes]] = {}

    def of(self, records: Sequence[Transaction]) -> list[bytes]:
        entries, rendered = self.entries, []
        for record in records:
            entry = entries.get(record.id)
            if entry is None or (entry[0] is not record and entry[0] != record):
                entry = self._render(record, entry is None)
            rendered.append(entry[1])
        return rendered

    def _render(self, record: Transaction, new: bool) -> tuple[Transaction, bytes]:
        if new and len(self.entries) >= self.size:
            del self.entries[next(iter(self.entries))]
        entry = self.entries[record.id] = (record, _transaction_bytes(record))
        return entry


def _transaction_bytes(record: Transaction) -> bytes:
    """`Transaction` as JSON bytes (no split transactions, labels or PayPal/Certis data in the emulator)."""
    return orjson.dumps(
        {
            "id": record.id,
            "parentId": record.parent_id,
            "accountId": record.account_id,
            "valueDate": record.value_date,
            "bankBookingDate": record.bank_booking_date,
            "finapiBookingDate": record.finapi_booking_date,
            "amount": money(record.amount),
            "currency": record.currency,
            "purpose": record.purpose,
            "counterpartName": record.counterpart_name,
            "counterpartAccountNumber": record.counterpart_account_number,
            "counterpartIban": record.counterpart_iban,
            "counterpartBlz": record.counterpart_blz,
            "counterpartBic": record.counterpart_bic,
            "counterpartBankName": record.counterpart_bank_name,
            "counterpartMandateReference": record.counterpart_mandate_reference,
            "counterpartCustomerReference": record.counterpart_customer_reference,
            "counterpartCreditorId": record.counterpart_creditor_id,
            "counterpartDebitorId": record.counterpart_debitor_id,
            "type": record.type,
            "typeCodeZka": record.type_code_zka,
            "typeCodeSwift": record.type_code_swift,
            "sepaPurposeCode": record.sepa_purpose_code,
            "bankTransactionCode": None,
            "bankTransactionCodeDescription": None,
            "primanota": record.primanota,
            "category": _category(record.category),
            "labels": [],
            "isPotentialDuplicate": record.is_potential_duplicate,
            "isAdjustingEntry": record.is_adjusting_entry,
            "isNew": record.is_new,
            "importDate": instant(record.import_date),
            "children": None,
            "paypalData": None,
            "certisData": None,
            "endToEndReference": record.end_to_end_reference,
            "compensationAmount": None,
            "originalAmount": _money(record.original_amount),
            "originalCurrency": record.original_currency,
            "feeAmount": None,
            "feeCurrency": None,
            "differentDebitor": None,
            "differentCreditor": None,
        }
    )


RENDERED = RenderedTransactions(TRANSACTION_CACHE_SIZE)


class _Rendered(JSON):
    """JSON bytes made here, sent as they are."""

    def render(self, content: Any) -> bytes:
        body: bytes = content
        return body


def transaction(record: Transaction) -> Response:
    return _Rendered(RENDERED.of([record])[0])


def transaction_page(found: TransactionPage, page: int, per_page: int) -> Response:
    """`PageableTransactionList`: the page's transactions, paging, and the sums over all pages (spending negative)."""
    return _Rendered(PAGES.body(found, page, per_page))


class RenderedPages:
    """The bodies of the pages answered last, each with its records: a page asked for again whose transactions,
    paging and sums are the same is the same bytes (a client polling a page; no half-megabyte join each time). At
    most `size` are kept, the oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.bodies: dict[tuple[bytes, int, int, int], tuple[list[Transaction], bytes]] = {}
        """By the page's paging and sums and its count, first and last id; checked against its records."""

    def body(self, found: TransactionPage, page: int, per_page: int) -> bytes:
        rest = orjson.dumps(
            {
                "paging": paging(found.total, page, per_page),
                "income": money(found.income),
                "spending": money(found.spending),
                "balance": money(found.income + found.spending),
            }
        )
        records = found.transactions
        key = (rest, len(records), records[0].id if records else 0, records[-1].id if records else 0)
        entry = self.bodies.get(key)
        if entry is not None and entry[0] == records:  # the same records (compared by identity first: cheap)
            return entry[1]
        head, tail = b'{"transactions":[', b"]," + rest[1:]
        parts = RENDERED.of(found.transactions)
        if parts:
            parts[0] = head + parts[0]
            parts[-1] += tail
        body = b",".join(parts) if parts else head + tail
        if entry is None and len(self.bodies) >= self.size:
            del self.bodies[next(iter(self.bodies))]
        self.bodies[key] = (list(found.transactions), body)
        return body


PAGES = RenderedPages(PAGE_CACHE_SIZE)
