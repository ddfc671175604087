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
    "SHOPIFY_PAYLOAD_UNREADABLE": (
        "Shopify sent something the portal cannot read. Open Shopify → Webhook inbox (filter: Unreadable payloads), "
        "read the reason and the payload; correct the object in Shopify, or run Reconcile Shopify to read it again."
    ),
    "SHOPIFY_COMPANY_UNKNOWN": (
        "A company location or contact came before its company. Run Reconcile Shopify (Jobs), then select the entry "
        "in Shopify → Webhook inbox and choose Process again."
    ),
    "SHOPIFY_APPLY_FAILED": (
        "The portal could not save what Shopify sent. Select the entry in Shopify → Webhook inbox and choose "
        "Process again; if it fails again, ask the team (the inbox keeps the payload)."
    ),
    "SHOPIFY_UNAUTHORIZED": "Shopify refused the access token: enter a valid one on the Shopify connection.",
    "SHOPIFY_NETWORK_ERROR": "Shopify could not be reached: check the shop domain (or the Admin API URL override).",
    "SHOPIFY_THROTTLED": "Shopify's rate limit held the requests back; nothing to fix, the next run goes on.",
    "SHOPIFY_GRAPHQL_ERRORS": "Shopify refused a request: read the message; check the connection's API version.",
    "SHOPIFY_USER_ERRORS": "Shopify refused a change the portal asked for: read the message.",
    "SHOPIFY_HTTP_ERROR": "Shopify answered with an error; try again later, and check the shop domain if it lasts.",
    "SHOPIFY_BULK_FAILED": "Shopify's bulk operation did not complete; the next reconciliation asks again.",
    "SHOPIFY_NO_TOKEN": "Enter the Admin API access token on the Shopify connection.",
    "SHOPIFY_NO_WEBHOOK_URL": "Enter the webhook address on the Shopify connection, then Subscribe to webhooks.",
}


def guidance_for(code: str) -> str:
    """Return the operator's guidance for an error code, or an empty string."""
    return ERROR_GUIDANCE.get(code or "", "")
