"""What an operator should do about each known error code, shown next to the error message."""

ERROR_GUIDANCE: dict[str, str] = {
    "MISSING_ADDRESS_LABEL": "Open the customer, give every address a label (e.g. Head office), save, then RESYNC.",
    "INCOMPLETE_ADDRESS": "Open the customer and fill in city, state and ZIP on every address, save, then RESYNC.",
    "MISSING_ADDRESS": "Open the customer and add an address with a label, city, state and ZIP, then RESYNC.",
    "MISSING_PRICE_LEVEL": "Open the customer, choose a price level (Commercial section), save, then RESYNC.",
    "MISSING_PAYMENT_TERM": "Open the customer, choose a payment term (Commercial section), save, then RESYNC.",
    "MISSING_CUSTOMER_NAME": "Open the customer and enter first and last name (or the company name), then RESYNC.",
    "CONNECTOR_NOT_SELECTED": "Open the customer and tick the connector on its External System tab, then RESYNC.",
    "VALIDATION_FAILED": "The customer misses required fields: open it, fix what its export problems list, RESYNC.",
    "NONEXISTENT_ID": (
        "NetSuite does not know a record this customer points to (its internal ID, subsidiary, terms, price level "
        "or sales rep). Check the customer's NetSuite ID and the connection's mappings, then RESYNC."
    ),
    "NOT_FOUND": "The customer was deleted in NetSuite or its link is wrong: check its NetSuite ID, then RESYNC.",
    "INVALID_LOGIN": (
        "NetSuite refused the connection's credentials, so nothing is sent. Ask the NetSuite admin for a new token, "
        "enter it on the NetSuite connection and press Test connection; the next run sends the waiting customers."
    ),
    "TIMEOUT": (
        "NetSuite did not answer in time; it may still have done the write. Nothing to fix: RESYNC, or wait for the "
        "next run (it repeats the write safely by external ID). If it lasts, raise the connection's request timeout."
    ),
    "CONNECTION_DROPPED": (
        "The connection to NetSuite broke after the request was sent; NetSuite may have saved it. Nothing to fix: "
        "RESYNC, or wait for the next run (it repeats the write safely by external ID)."
    ),
    "UNEXPECTED_ERROR": (
        "NetSuite itself failed (its UNEXPECTED_ERROR). RESYNC later; if it keeps failing for this customer, give "
        "NetSuite support the Error ID from the message."
    ),
    "PORTAL_INTERNAL_ERROR": (
        "The portal failed while sending this customer (a fault of the portal, not of the customer or NetSuite). "
        "RESYNC; if it fails again, send the message to the portal's support team."
    ),
    "BEING_SENT": "Another push is sending this customer right now: wait for its result in the log.",
    "NO_REQUEST_SLOT": (
        "Other workers held the connection's whole NetSuite concurrency share for too long. RESYNC later, or raise "
        "the connection's concurrency share if the account allows it."
    ),
    "INSUFFICIENT_PERMISSION": "The token's NetSuite role may not do this: ask the NetSuite admin to grant it.",
    "USER_ERROR": "NetSuite rejected a value: read the message, correct the customer, then RESYNC.",
    "CONCURRENCY_LIMIT_EXCEEDED": "NetSuite was busy; nothing to fix. RESYNC, or wait for the next run.",
    "SSS_REQUEST_LIMIT_EXCEEDED": "NetSuite was busy; nothing to fix. RESYNC, or wait for the next run.",
    "NETWORK_ERROR": (
        "NetSuite could not be reached; nothing was sent. RESYNC when the network is back; check the base URL if it "
        "lasts."
    ),
    "PARENT_NOT_IN_NETSUITE": "Fix and resync the parent company first, then RESYNC this sub-customer.",
    "BINDING_CONFLICT": "Two portal customers point to the same NetSuite customer: merge or unlink the duplicate.",
    "MAPPING_MISSING": (
        "The customer's value has no NetSuite ID in the connection's mappings: add it on the NetSuite connection "
        "(Mappings) or pick a mapped value on the customer, then RESYNC."
    ),
    "NO_CONNECTION": "Set up the NetSuite connection (NetSuite REST → NetSuite connections), then RESYNC.",
    "NO_CONNECTOR": "No connector is installed for this system's transport: ask the team to enable it.",
    "NO_FEED": "Set up the export feed for this system (SFTP file exchange → Feeds), then RESYNC.",
    "HISTORICAL_IMPORT_PENDING": "Run the historical customer import for this connector first (Jobs page).",
    "ROW_INVALID": "Correct the row in the file (the line number is given) and send the file again.",
    "FILE_REJECTED": "The file could not be read: fix it and put it back in the feed's folder.",
    "NETSUITE_IMPORT_ERROR": (
        "NetSuite's CSV import (HC_SC_ImportCustomer) rejected the customer's row: correct the value NetSuite names "
        "(e.g. the subsidiary must exist in NetSuite; change it on the customer or the export feed's default), "
        "save, then RESYNC. A whole-file error names no line: fix its cause, then RESYNC the file's customers."
    ),
    "UNKNOWN_EXPORT_ROW": (
        "NetSuite reported an error for a file or line the portal did not write: check the error file in the "
        "export feed's error/archive folder; the customers concerned stay awaiting their ID until resynced."
    ),
}


def guidance_for(code: str) -> str:
    """Return the operator's guidance for an error code, or an empty string."""
    return ERROR_GUIDANCE.get(code or "", "")
