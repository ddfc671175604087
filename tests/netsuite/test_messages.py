from customers.dispatch import SyncResult
from customers.models import Customer
from netsuite.client import AuthError
from netsuite.services.push import PushReport, not_sent


def test_not_sent_is_one_sentence_with_one_period():
    assert not_sent("Missing price level") == "Not sent to NetSuite: Missing price level."
    assert not_sent("Missing customer name: enter first and last name.") == (
        "Not sent to NetSuite: Missing customer name: enter first and last name."
    )


def test_a_push_summary_tells_data_problems_apart_from_what_netsuite_refused():
    def result(n: int, ok: bool, message: str = "") -> SyncResult:
        return SyncResult(Customer(pk=n), ok=ok, status="synced" if ok else "error", message=message, error_code="X")

    report = PushReport()
    report.results = {1: result(1, False, not_sent("Missing price level")), 2: result(2, False, not_sent("x"))}
    report.stopped = AuthError("INVALID_LOGIN", "NetSuite refused the login.")
    assert report.summary().startswith(
        "0 customer(s) sent to NetSuite, 2 failed (all of them not sent: their data needs fixing in the portal, see "
        "the Failed Record Queue). Stopped: NetSuite refused the login."
    )
    report.results[3] = result(3, False, "NetSuite push failed: the request timed out")
    report.results[4] = result(4, True)
    assert report.summary().startswith("1 customer(s) sent to NetSuite, 3 failed (2 of them not sent: ")
    report.results = {4: result(4, True)}
    report.stopped = None
    assert report.summary() == "1 customer(s) sent to NetSuite, 0 failed."
