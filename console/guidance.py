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
        "NetSuite refused the connection's credentials. Ask the NetSuite admin for a new token, enter it on the "
        "NetSuite connection, then RESYNC. Every customer fails until this is fixed."
    ),
    "INSUFFICIENT_PERMISSION": "The token's NetSuite role may not do this: ask the NetSuite admin to grant it.",
    "USER_ERROR": "NetSuite rejected a value: read the message, correct the customer, then RESYNC.",
    "CONCURRENCY_LIMIT_EXCEEDED": "NetSuite was busy; nothing to fix. RESYNC, or wait for the next run.",
    "SSS_REQUEST_LIMIT_EXCEEDED": "NetSuite was busy; nothing to fix. RESYNC, or wait for the next run.",
    "NETWORK_ERROR": "NetSuite could not be reached. RESYNC when the network is back; check the base URL if it lasts.",
    "PARENT_NOT_IN_NETSUITE": "Fix and resync the parent company first, then RESYNC this sub-customer.",
    "BINDING_CONFLICT": "Two portal customers point to the same NetSuite customer: merge or unlink the duplicate.",
    "MAPPING_MISSING": (
        "The customer's value (subsidiary, lead source, payment term, price level, sales rep) has no NetSuite internal "
        "ID: add it under NetSuite reference mappings for this connector, or pick a mapped value on the customer, then "
        "RESYNC."
    ),
    "NO_CONNECTION": "Set up the NetSuite connection (NetSuite REST → NetSuite connections), then RESYNC.",
    "NO_CONNECTOR": "No connector is installed for this system's transport: ask the team to enable it.",
    "NO_FEED": "Set up the export feed for this system (SFTP file exchange → Feeds), then RESYNC.",
    "HISTORICAL_IMPORT_PENDING": "Run the historical customer import for this connector first (Jobs page).",
    "ROW_INVALID": "Correct the row in the file (the line number is given) and send the file again.",
    "FILE_REJECTED": "The file could not be read: fix it and put it back in the feed's folder.",
    "NETSUITE_IMPORT_ERROR": (
        "NetSuite's HC_SC_ImportCustomer could not take the export file (its error file gives the reason, shown in "
        "the message) and moved it to export/failed/. Fix the cause (a folder, the file's size, NetSuite's import "
        "map), then RESYNC the customers: they are written into a new file."
    ),
    "NETSUITE_FILE_FAILED": (
        "The export file was found in export/failed/ on the SFTP server: NetSuite did not import it. Look for its "
        "error file in export/error/archive/ and for a job 'Add Customer-<file>' on NetSuite's CSV Import Job Status "
        "page (Setup > Import/Export > View CSV Import Status), fix the cause, then RESYNC."
    ),
    "NETSUITE_ID_NOT_RETURNED": (
        "NetSuite's CSV import rejects rows without telling the portal. In NetSuite open Setup > Import/Export > View "
        "CSV Import Status, find the job named 'Add Customer-<export file>' (the file is in the message), open its "
        "response file and read the error on this customer's row. Correct the customer (or NetSuite's data), then "
        "RESYNC. A customer NetSuite already holds under the same external ID is rejected by the import (it only "
        "adds): link it instead."
    ),
    "UNKNOWN_EXPORT_FILE": (
        "NetSuite reported an error for a file the portal did not write: check the error file in the export feed's "
        "error/archive/ folder; no customer was marked."
    ),
    "UNKNOWN_EXPORT_ROW": (
        "NetSuite reported an error for a file or line the portal did not write: check the error file in the "
        "export feed's error/archive folder; the customers concerned stay awaiting their ID until resynced."
    ),
}


def guidance_for(code: str) -> str:
    """Return the operator's guidance for an error code, or an empty string."""
    return ERROR_GUIDANCE.get(code or "", "")
