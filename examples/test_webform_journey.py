"""The integrator's whole Web Form 2.0 journey against mock-finapi, without a browser: process token → user token →
web form → (the admin API plays the end user) → `finalised` callback → accounts and transactions.

`finapi` is a real server on a free port; `finapi_callbacks` is a local HTTP server standing in for the app's
callback endpoint (`.url`, `.wait_for(...)`). Plain http callbacks need a scenario that allows them
(`local-callbacks.yaml` here: `webforms: {callbacks: {allow_http: true}}`). Run them with `pytest examples`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from finapi_client import FinapiClient

from mock_finapi.testing import CallbackReceiver, ThreadedServer

CLIENT_ID = "8f92e604-b9b9-11ec-8422-0242ac120002"
CLIENT_SECRET = "8f92ea14-b9b9-11ec-8422-0242ac120002"
LOCAL_CALLBACKS = str(Path(__file__).with_name("local-callbacks.yaml"))
FINAPI_TEST_BANK = 280001  # DEMO0001: 2 checking accounts and a savings account


def connect_user(finapi: ThreadedServer) -> tuple[FinapiClient, str]:
    """The app's client and the user access token of a fresh process (the Process Controller's hidden user)."""
    client = FinapiClient(finapi.url, CLIENT_ID, CLIENT_SECRET)
    process_token = client.create_process("customer-4711")
    return client, client.exchange_process(process_token)


@pytest.mark.finapi(scenario=LOCAL_CALLBACKS)
def test_user_connects_the_test_bank_and_the_app_reads_its_transactions(
    finapi: ThreadedServer, finapi_callbacks: CallbackReceiver
) -> None:
    client, access_token = connect_user(finapi)
    with client:
        form = client.import_bank_connection(
            access_token,
            bank_id=FINAPI_TEST_BANK,
            account_types=["CHECKING", "SAVINGS"],
            callback_url=f"{finapi_callbacks.url}/finapi/webform?state=7",
        )
        assert (form["status"], form["url"]) == ("NOT_YET_OPENED", f"{finapi.url}/wf/{form['id']}")

        # The app sends the user to form["url"]; here the admin API finishes the form as the user would.
        finapi.admin.complete_web_form(form["id"])

        callback = finapi_callbacks.wait_for(webFormId=form["id"])
        assert callback == {"webFormId": form["id"], "status": "COMPLETED"}
        assert finapi_callbacks.received[0].path == "/finapi/webform?state=7"
        done = client.web_form(access_token, form["id"])
        assert done["status"] == "COMPLETED"
        accounts = client.accounts(access_token, done["payload"]["bankConnectionId"])
        assert [account["accountType"] for account in accounts] == ["Checking", "Checking", "Savings"]
        page = client.transactions(access_token, [account["id"] for account in accounts])
        assert page["paging"]["totalCount"] >= 60  # at least 20 an account
        assert {t["accountId"] for t in page["transactions"]} == {account["id"] for account in accounts}
        assert page["balance"] == pytest.approx(sum(account["balance"] for account in accounts))


@pytest.mark.finapi(scenario=LOCAL_CALLBACKS)
def test_only_the_account_types_the_app_asked_for_are_imported(
    finapi: ThreadedServer, finapi_callbacks: CallbackReceiver
) -> None:
    client, access_token = connect_user(finapi)
    with client:
        form = client.import_bank_connection(
            access_token, bank_id=FINAPI_TEST_BANK, account_types=["SAVINGS"], callback_url=finapi_callbacks.url
        )
        finapi.admin.complete_web_form(form["id"])
        finapi_callbacks.wait_for(webFormId=form["id"], status="COMPLETED")

        connection_id = client.web_form(access_token, form["id"])["payload"]["bankConnectionId"]
        assert [a["accountName"] for a in client.accounts(access_token, connection_id)] == ["Tagesgeld"]


@pytest.mark.finapi(scenario=LOCAL_CALLBACKS)
def test_a_wrong_pin_at_the_bank_ends_the_form_with_an_error_and_no_connection(
    finapi: ThreadedServer, finapi_callbacks: CallbackReceiver
) -> None:
    client, access_token = connect_user(finapi)
    with client:
        form = client.import_bank_connection(access_token, callback_url=finapi_callbacks.url)
        finapi.admin.complete_web_form(form["id"], "COMPLETED_WITH_ERROR", errorCode="BANK_SERVER_REJECTION")

        callback = finapi_callbacks.wait_for(webFormId=form["id"])
        assert callback["status"] == "COMPLETED_WITH_ERROR"
        payload = client.web_form(access_token, form["id"])["payload"]
        assert (payload["bankConnectionId"], payload["errorCode"]) == (None, "BANK_SERVER_REJECTION")
        assert finapi.admin.bank_connections() == []


@pytest.mark.finapi(scenario="webform-expires")  # nothing finishes the forms; callbacks may go to http receivers
def test_a_form_the_user_never_finishes_expires_after_20_minutes(
    finapi: ThreadedServer, finapi_callbacks: CallbackReceiver
) -> None:
    client, access_token = connect_user(finapi)
    with client:
        form = client.import_bank_connection(access_token, callback_url=finapi_callbacks.url)
        finapi.admin.advance(20 * 60)  # twenty minutes later, without waiting twenty minutes

        assert client.web_form(access_token, form["id"])["status"] == "EXPIRED"
        assert finapi_callbacks.wait_for(webFormId=form["id"])["status"] == "EXPIRED"
        assert client.web_form(access_token, form["id"])["payload"] == {"bankConnectionId": None}
        assert finapi.admin.bank_connections() == []
