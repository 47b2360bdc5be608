"""The caches of http/bank_json.py: a transaction's or a page's bytes are reused only for equal records, and the
caches stay within their size."""

from __future__ import annotations

import orjson

from mock_finapi.http.bank_json import RenderedPages, RenderedTransactions, money
from mock_finapi.state.banking import Transaction, TransactionPage


def record(transaction_id: int, amount: int, purpose: str = "Miete") -> Transaction:
    return Transaction(transaction_id, 7, "2026-01-01", "2026-01-01", "2026-01-01", amount, 0.0, purpose=purpose)


def test_money_is_a_number_with_two_decimals() -> None:
    shown = [orjson.dumps(money(cents)) for cents in (0, 5, -5, 100, -123456, 99)]
    assert shown == [b"0.00", b"0.05", b"-0.05", b"1.00", b"-1234.56", b"0.99"]


def test_a_transaction_is_rendered_again_when_its_record_differs() -> None:
    rendered = RenderedTransactions(10)
    (first,) = rendered.of([record(1, -100)])
    assert orjson.loads(first)["amount"] == -1.0
    assert rendered.of([record(1, -100)]) == [first]  # an equal record: the same bytes
    (changed,) = rendered.of([record(1, -100, "Miete Januar")])
    assert orjson.loads(changed)["purpose"] == "Miete Januar"


def test_the_transaction_cache_forgets_the_oldest() -> None:
    rendered = RenderedTransactions(3)
    rendered.of([record(i, i) for i in range(1, 6)])
    assert list(rendered.entries) == [3, 4, 5]


def test_a_page_is_the_same_bytes_only_for_the_same_records_and_sums() -> None:
    pages = RenderedPages(2)
    records = [record(1, 250), record(2, -100)]
    body = pages.body(TransactionPage(records, 2, 250, -100), 1, 20)
    assert orjson.loads(body) == {
        "transactions": [orjson.loads(b) for b in RenderedTransactions(2).of(records)],
        "paging": {"page": 1, "perPage": 20, "pageCount": 1, "totalCount": 2},
        "income": 2.5,
        "spending": -1.0,
        "balance": 1.5,
    }
    assert pages.body(TransactionPage(list(records), 2, 250, -100), 1, 20) is body
    changed = pages.body(TransactionPage([records[0], record(2, -100, "Strom")], 2, 250, -100), 1, 20)
    assert orjson.loads(changed)["transactions"][1]["purpose"] == "Strom"
    assert orjson.loads(pages.body(TransactionPage(records, 3, 250, -100), 1, 20))["paging"]["totalCount"] == 3
    assert len(pages.bodies) == 2


def test_a_page_of_one() -> None:
    body = RenderedPages(1).body(TransactionPage([record(3, 1)], 1, 1, 0), 1, 1)
    assert [t["id"] for t in orjson.loads(body)["transactions"]] == [3]


def test_an_empty_page() -> None:
    body = RenderedPages(1).body(TransactionPage([], 0, 0, 0), 4, 500)
    assert body == (
        b'{"transactions":[],"paging":{"page":4,"perPage":500,"pageCount":0,"totalCount":0},'
        b'"income":0.00,"spending":0.00,"balance":0.00}'
    )
