from netsuite.services.push import not_sent


def test_not_sent_is_one_sentence_with_one_period():
    assert not_sent("Missing price level") == "Not sent to NetSuite: Missing price level."
    assert not_sent("Missing customer name: enter first and last name.") == (
        "Not sent to NetSuite: Missing customer name: enter first and last name."
    )
