"""What the Access v2 bank data tests (tests/api/test_banks.py, test_bank_connections.py, test_accounts.py,
test_transactions.py) share: the scenario tests/scenarios/bank-data.yaml, its ids, tokens, and the wire shapes the
tests expect, written out from the scenario (not from the emulator's code).

Ids are numbered in the scenario's order: connections from 1,000,001, accounts from 2,000,001, transactions from
10,000,001 (`username`'s first, then `alice`'s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.helpers import CLIENT_CREDENTIALS, CLIENT_ID, TOKEN_PATH, bearer, password_grant

SCENARIO = str(Path(__file__).resolve().parent.parent / "scenarios" / "bank-data.yaml")
MANDATOR = "bank-data"
AUTH = f"{MANDATOR}/{CLIENT_ID}/username"
CLIENT_AUTH = f"{MANDATOR}/{CLIENT_ID}"
RID = "bank-data-test"
START = "2026-01-01T09:00:00.000+01:00"
"""The scenario's start: when its bank data was imported, and the frozen clock of the tests."""
INT64_TOO_BIG = str(2**63)

# username's connections, accounts and transactions, in the scenario's order
GIRO, SPARKASSE, REDIRECT, UPDATING = 1_000_001, 1_000_002, 1_000_003, 1_000_004
ALICE_CONNECTION = 1_000_005
CHECKING, SAVINGS, CREDIT_CARD, REDIRECT_ACCOUNT, UPDATING_ACCOUNT = range(2_000_001, 2_000_006)
ALICE_ACCOUNTS = (2_000_006, 2_000_007, 2_000_008)
STROM, GEHALT, MIETE, GEBUEHR, ERSTATTUNG, SPARRATE, ZINSEN, TESTBUCHUNG = range(10_000_001, 10_000_009)
ALICE_FIRST_TRANSACTION = 10_000_009


def user_token(client: httpx.Client, user: str = "username", password: str = "password") -> str:
    response = client.post(TOKEN_PATH[2], data=password_grant(user, password))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def client_token(client: httpx.Client, credentials: dict[str, str] = CLIENT_CREDENTIALS) -> str:
    response = client.post(TOKEN_PATH[2], data=credentials)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def admin_client_token(client: httpx.Client) -> str:
    data = {"grant_type": "client_credentials", "client_id": "bank-admin", "client_secret": "bank-admin-secret"}
    return client_token(client, data)


def headers(token: str) -> dict[str, str]:
    return {**bearer(token), "X-Request-Id": RID}


def get(client: httpx.Client, path: str, token: str, params: Any = None) -> httpx.Response:
    return client.get(path, params=params, headers=headers(token))


def assert_error(
    response: httpx.Response, status: int, code: str, type_: str, message: str, *, date: str = START
) -> None:
    """username's complete Access v2 ErrorMessage, dated `date` (the clock when answered)."""
    assert (response.status_code, response.headers["X-Request-Id"]) == (status, RID)
    assert response.json() == {
        "errors": [{"message": message, "code": code, "type": type_}],
        "date": date,
        "requestId": RID,
        "endpoint": f"{response.request.method} {response.request.url.path}",
        "authContext": AUTH,
        "bank": None,
    }


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


# ---------------------------------------------------------------------------------------------------- wire shapes


ACCOUNT_TYPES = ["Checking", "Savings", "CreditCard", "Security", "Loan", "Membership", "Bausparen"]
LOGIN_FIELDS = [
    {"label": "Onlinebanking-ID", "isSecret": False, "isVolatile": False, "isMandatory": True},
    {"label": "PIN", "isSecret": True, "isVolatile": False, "isMandatory": True},
]
PROCEDURES = [("942", "smsTan", "TEXT"), ("921", "pushTan", "TEXT"), ("911", "chipTan optical", "FLICKER_CODE")]
PROCEDURES += [("913", "chipTan QR", "PHOTO"), ("940", "Demo Decoupled Auth", "TEXT")]


def interface(name: str, properties: tuple[str, ...] = ()) -> dict[str, Any]:
    """A bank's interface: the login fields Onlinebanking-ID and PIN, healthy, AIS and PIS supported (all SEPA
    payments, no domestic ones), every account type."""
    return {
        "bankingInterface": name,
        "tppAuthenticationGroup": None,
        "loginCredentials": LOGIN_FIELDS,
        "properties": list(properties),
        "loginHint": None,
        "health": 100,
        "lastCommunicationAttempt": None,
        "lastSuccessfulCommunication": None,
        "isAisSupported": True,
        "isPisSupported": True,
        "paymentCapabilities": {
            "sepaDirectDebit": True,
            "sepaMoneyTransfer": True,
            "sepaInstantMoneyTransfer": True,
            "sepaCollectiveMoneyTransfer": True,
            "sepaFutureDatedMoneyTransfer": True,
            "sepaStandingOrder": True,
            "domesticMoneyTransfer": False,
            "domesticCollectiveMoneyTransfer": False,
            "domesticFutureDatedMoneyTransfer": False,
        },
        "paymentConstraints": None,
        "aisAccountTypes": ACCOUNT_TYPES,
    }


def bank(
    bank_id: int,
    name: str,
    blz: str,
    interfaces: list[dict[str, Any]],
    *,
    bic: str | None = None,
    city: str | None = None,
    location: str | None = None,
    test: bool = False,
    popularity: int = 0,
) -> dict[str, Any]:
    return {
        "id": bank_id,
        "name": name,
        "bic": bic,
        "blz": blz,
        "location": location,
        "city": city,
        "isTestBank": test,
        "popularity": popularity,
        "interfaces": interfaces,
        "bankGroup": None,
        "isBeta": False,
        "logo": None,
        "icon": None,
    }


def decoupled(name: str) -> dict[str, Any]:
    return interface(name, ("DECOUPLED_APPROACH",))


TEST_BANK = bank(
    280001,
    "finAPI Test Bank",
    "DEMO0001",
    [decoupled("XS2A"), decoupled("FINTS_SERVER")],
    bic="DEMODE01XXX",
    city="München",
    test=True,
)
REDIRECT_BANK = bank(
    280002,
    "finAPI Test Redirect Bank",
    "DEMO0002",
    [interface("XS2A", ("REDIRECT_APPROACH",))],
    bic="DEMODE02XXX",
    city="München",
    test=True,
)
SPARKASSE_BANK = bank(
    12345,
    "Sparkasse Musterstadt",
    "10050000",
    [interface("FINTS_SERVER"), interface("XS2A")],
    bic="BELADEBEXXX",
    city="Berlin",
    location="DE",
    popularity=7,
)
ZKB = bank(
    23456,
    "Zürcher Kantonalbank",
    "70070010",
    [interface("WEB_SCRAPER")],
    bic="ZKBKCHZZ80A",
    city="Zürich",
    location="CH",
    popularity=3,
)
APO = bank(34567, "apoBank Testinstitut", "30060601", [interface("XS2A")], test=True)
ALL_BANKS = [SPARKASSE_BANK, ZKB, APO, TEST_BANK, REDIRECT_BANK]
"""By id."""
"""By id."""


TYPE_CODES = {"Lastschrift": ("105", "NDDT"), "Gutschrift": ("166", "NTRF"), "Dauerauftrag": ("117", "NSTO")}
TYPE_CODES["Abschluss"] = ("805", "NMSC")
"""The ZKA and SWIFT codes of the scenario's transaction types (decided; an unknown type has none)."""


def transaction(
    transaction_id: int,
    account_id: int,
    amount: float,
    booking_date: str,
    *,
    value_date: str | None = None,
    purpose: str | None = None,
    counterpart_name: str | None = None,
    counterpart_iban: str | None = None,
    counterpart_bic: str | None = None,
    type_: str | None = None,
) -> dict[str, Any]:
    """An explicit transaction of the scenario as `GET /transactions` shows it: booked by finAPI on the bank's booking
    date, imported at the scenario's start, in the account's currency, new, with its counterpart's bank code and
    account number from the (German) IBAN and the codes of its type; every other optional field null."""
    blz, number = (counterpart_iban[4:12], counterpart_iban[12:]) if counterpart_iban else (None, None)
    zka, swift = TYPE_CODES.get(type_ or "", (None, None))
    return {
        "id": transaction_id,
        "parentId": None,
        "accountId": account_id,
        "valueDate": value_date or booking_date,
        "bankBookingDate": booking_date,
        "finapiBookingDate": booking_date,
        "amount": amount,
        "currency": "EUR",
        "purpose": purpose,
        "counterpartName": counterpart_name,
        "counterpartAccountNumber": number,
        "counterpartIban": counterpart_iban,
        "counterpartBlz": blz,
        "counterpartBic": counterpart_bic,
        "counterpartBankName": None,
        "counterpartMandateReference": None,
        "counterpartCustomerReference": None,
        "counterpartCreditorId": None,
        "counterpartDebitorId": None,
        "type": type_,
        "typeCodeZka": zka,
        "typeCodeSwift": swift,
        "sepaPurposeCode": None,
        "bankTransactionCode": None,
        "bankTransactionCodeDescription": None,
        "primanota": None,
        "category": None,
        "labels": [],
        "isPotentialDuplicate": False,
        "isAdjustingEntry": False,
        "isNew": True,
        "importDate": START,
        "children": None,
        "paypalData": None,
        "certisData": None,
        "endToEndReference": None,
        "compensationAmount": None,
        "originalAmount": None,
        "originalCurrency": None,
        "feeAmount": None,
        "feeCurrency": None,
        "differentDebitor": None,
        "differentCreditor": None,
    }


TRANSACTIONS = {
    STROM: transaction(
        STROM,
        CHECKING,
        -49.99,
        "2025-12-30",
        value_date="2025-12-29",
        purpose="Stromabschlag Dezember",
        counterpart_name="Stadtwerke Musterstadt",
        counterpart_iban="DE89370400440532013000",
        counterpart_bic="COBADEFFXXX",
        type_="Lastschrift",
    ),
    GEHALT: transaction(
        GEHALT,
        CHECKING,
        2500.00,
        "2025-12-29",
        purpose="Gehalt Dezember",
        counterpart_name="Muster GmbH",
        counterpart_iban="DE02120300000000202051",
        type_="Gutschrift",
    ),
    MIETE: transaction(
        MIETE,
        CHECKING,
        -1200.00,
        "2026-01-01",
        purpose="Miete Januar Wohnung 3",
        counterpart_name="Hausverwaltung Schmidt",
        counterpart_iban="DE75512108001245126199",
        type_="Dauerauftrag",
    ),
    GEBUEHR: transaction(GEBUEHR, CHECKING, -0.01, "2025-12-31", purpose="Kontoführung", type_="Entgelt"),
    ERSTATTUNG: transaction(
        ERSTATTUNG,
        CHECKING,
        15.50,
        "2025-12-31",
        purpose="Rückerstattung Bestellung 4711",
        counterpart_name="Online Shop AG",
        counterpart_iban="DE12500105170648489890",
        type_="Gutschrift",
    ),
    SPARRATE: transaction(
        SPARRATE,
        SAVINGS,
        100.00,
        "2025-12-01",
        purpose="Sparrate",
        counterpart_name="Max Mustermann",
        counterpart_iban="DE44500105175407324931",
        type_="Dauerauftrag",
    ),
    ZINSEN: transaction(ZINSEN, SAVINGS, 0.25, "2025-12-31", purpose="Zinsen", type_="Abschluss"),
    TESTBUCHUNG: transaction(TESTBUCHUNG, UPDATING_ACCOUNT, 1.00, "2026-01-01", purpose="Testbuchung"),
}
"""username's transactions, by id."""


def account(
    account_id: int,
    connection_id: int,
    name: str,
    iban: str,
    account_type: str,
    interface: str,
    balance: float,
    *,
    overdraft: float | None = None,
    overdraft_limit: float | None = None,
    available: float | None = None,
    holder: str = "",
) -> dict[str, Any]:
    """An account of the scenario: its number the IBAN's last ten digits, in EUR, updated at the scenario's start;
    available funds the balance plus the overdraft limit (at least 0); a checking account can pay SEPA transfers.
    The holder's name is generated (pass the one shown)."""
    checking = account_type == "Checking"
    capabilities = ["DATA_DOWNLOAD", *(["IBAN_ONLY_SEPA_MONEY_TRANSFER", "SEPA_MONEY_TRANSFER"] if checking else [])]
    return {
        "id": account_id,
        "bankConnectionId": connection_id,
        "accountName": name,
        "iban": iban,
        "accountNumber": iban[-10:],
        "subAccountNumber": None,
        "accountHolderName": holder,
        "accountHolderId": None,
        "accountCurrency": "EUR",
        "accountType": account_type,
        "balance": balance,
        "overdraft": overdraft,
        "overdraftLimit": overdraft_limit,
        "availableFunds": max(0.0, balance + (overdraft_limit or 0.0)) if available is None else available,
        "isNew": True,
        "interfaces": [
            {
                "bankingInterface": interface,
                "status": "UPDATED",
                "capabilities": capabilities,
                "paymentCapabilities": {
                    "sepaInstantMoneyTransfer": checking,
                    "sepaFutureMoneyTransfer": checking,
                    "sepaFutureCollectiveMoneyTransfer": False,
                    "domesticMoneyTransfer": False,
                    "domesticCollectiveMoneyTransfer": False,
                    "domesticFutureMoneyTransfer": False,
                    "domesticFutureCollectiveMoneyTransfer": False,
                },
                "lastSuccessfulUpdate": START,
                "lastUpdateAttempt": START,
            }
        ],
        "isSeized": False,
    }


ACCOUNTS = {
    CHECKING: account(
        CHECKING,
        GIRO,
        "Girokonto",
        "DE89002800011000000001",
        "Checking",
        "XS2A",
        -250.0,
        overdraft=250.0,
        overdraft_limit=1000.0,
    ),
    SAVINGS: account(SAVINGS, GIRO, "Tagesgeld", "DE62002800011000000002", "Savings", "XS2A", 100.25),
    CREDIT_CARD: account(CREDIT_CARD, GIRO, "Kreditkarte", "DE35002800011000000003", "CreditCard", "XS2A", 0.0),
    REDIRECT_ACCOUNT: account(
        REDIRECT_ACCOUNT, REDIRECT, "Konto", "DE79002800022000000001", "Checking", "XS2A", -10.0, overdraft=10.0
    ),
    UPDATING_ACCOUNT: account(
        UPDATING_ACCOUNT, UPDATING, "Girokonto", "DE08002800011000000004", "Checking", "FINTS_SERVER", 1.0
    ),
}
"""username's accounts, by id (`accountHolderName` to be filled in: generated)."""
