"""Every error code a connector can record, each with what an operator does about it.

One enumeration for every connector (REST, SFTP files, Shopify): a filter by code finds the same problem
whichever way it came, and the console shows the same guidance. NetSuite's own codes that the portal knows
keep their NetSuite names; a code NetSuite invents that is not listed here is recorded as ``NETSUITE_OTHER``
with NetSuite's code kept in the message (``ErrorCode.coerce``).

Each code has a *kind*, which says who can make the problem go away:

- ``DATA``: the record itself must change (a missing field, a value NetSuite refuses). Automatic runs leave the
  record alone until it changes; after fixing it, an operator can resync it at once.
- ``SETUP``: the connection or its mappings must change. Automatic runs try again; so can an operator.
- ``TRANSIENT``: nothing to fix (NetSuite busy, a timeout). The next run tries again by itself.
- ``FILE``: a file (or a row in it) could not be used: fix the file and put it back. Resync does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    DATA = "data"
    SETUP = "setup"
    TRANSIENT = "transient"
    FILE = "file"


@dataclass(frozen=True)
class ErrorInfo:
    """What the console says about a code: a short title for groups, and what to do."""

    title: str
    fix: str
    kind: Kind


class ErrorCode(StrEnum):
    # -- the record's own data (what the connector requires: SPEC section 4) --
    MISSING_CUSTOMER_NAME = "MISSING_CUSTOMER_NAME"
    MISSING_PAYMENT_TERM = "MISSING_PAYMENT_TERM"
    MISSING_PRICE_LEVEL = "MISSING_PRICE_LEVEL"
    MISSING_ADDRESS = "MISSING_ADDRESS"
    MISSING_ADDRESS_LABEL = "MISSING_ADDRESS_LABEL"
    INCOMPLETE_ADDRESS = "INCOMPLETE_ADDRESS"
    MISSING_EMAIL = "MISSING_EMAIL"
    NAME_TOO_LONG = "NAME_TOO_LONG"
    MISSING_SHOPIFY_ID = "MISSING_SHOPIFY_ID"
    COMPANY_NOT_SUPPORTED = "COMPANY_NOT_SUPPORTED"
    CONNECTOR_NOT_SELECTED = "CONNECTOR_NOT_SELECTED"
    PARENT_NOT_IN_NETSUITE = "PARENT_NOT_IN_NETSUITE"
    BINDING_CONFLICT = "BINDING_CONFLICT"
    DUPLICATE_IN_NETSUITE = "DUPLICATE_IN_NETSUITE"
    # -- NetSuite refusing the record (its own codes) --
    USER_ERROR = "USER_ERROR"
    NONEXISTENT_ID = "NONEXISTENT_ID"
    INVALID_KEY_OR_REF = "INVALID_KEY_OR_REF"
    DUP_ENTITY = "DUP_ENTITY"
    INVALID_EXTERNAL_ID = "INVALID_EXTERNAL_ID"
    NOT_FOUND = "NOT_FOUND"
    NETSUITE_OTHER = "NETSUITE_OTHER"
    # -- the connection and its setup --
    INVALID_LOGIN = "INVALID_LOGIN"
    INSUFFICIENT_PERMISSION = "INSUFFICIENT_PERMISSION"
    MAPPING_MISSING = "MAPPING_MISSING"
    NO_CONNECTION = "NO_CONNECTION"
    CONNECTION_INACTIVE = "CONNECTION_INACTIVE"
    SYSTEM_INACTIVE = "SYSTEM_INACTIVE"
    MISSING_CREDENTIALS = "MISSING_CREDENTIALS"
    SECRET_UNREADABLE = "SECRET_UNREADABLE"  # noqa: S105 (an error code, not a secret)
    NO_CONNECTOR = "NO_CONNECTOR"
    NO_FEED = "NO_FEED"
    HISTORICAL_IMPORT_PENDING = "HISTORICAL_IMPORT_PENDING"
    UNKNOWN_HOST = "UNKNOWN_HOST"
    TLS_ERROR = "TLS_ERROR"
    # -- passing trouble: the next run tries again --
    CONCURRENCY_LIMIT_EXCEEDED = "CONCURRENCY_LIMIT_EXCEEDED"
    SSS_REQUEST_LIMIT_EXCEEDED = "SSS_REQUEST_LIMIT_EXCEEDED"
    NO_REQUEST_SLOT = "NO_REQUEST_SLOT"
    LIMITER_UNAVAILABLE = "LIMITER_UNAVAILABLE"
    TIMEOUT = "TIMEOUT"
    NETWORK_ERROR = "NETWORK_ERROR"
    CONNECTION_DROPPED = "CONNECTION_DROPPED"
    BEING_SENT = "BEING_SENT"
    NETSUITE_SERVER_ERROR = "NETSUITE_SERVER_ERROR"
    UNEXPECTED_ERROR = "UNEXPECTED_ERROR"
    MALFORMED_RESPONSE = "MALFORMED_RESPONSE"
    MISSING_LOCATION = "MISSING_LOCATION"
    REQUEST_FAILED = "REQUEST_FAILED"
    NOT_EXPORTED = "NOT_EXPORTED"
    PORTAL_INTERNAL_ERROR = "PORTAL_INTERNAL_ERROR"
    # -- Shopify, the source --
    SHOPIFY_PAYLOAD_UNREADABLE = "SHOPIFY_PAYLOAD_UNREADABLE"
    SHOPIFY_COMPANY_UNKNOWN = "SHOPIFY_COMPANY_UNKNOWN"
    SHOPIFY_APPLY_FAILED = "SHOPIFY_APPLY_FAILED"
    SHOPIFY_UNAUTHORIZED = "SHOPIFY_UNAUTHORIZED"
    SHOPIFY_NETWORK_ERROR = "SHOPIFY_NETWORK_ERROR"
    SHOPIFY_THROTTLED = "SHOPIFY_THROTTLED"
    SHOPIFY_GRAPHQL_ERRORS = "SHOPIFY_GRAPHQL_ERRORS"
    SHOPIFY_USER_ERRORS = "SHOPIFY_USER_ERRORS"
    SHOPIFY_HTTP_ERROR = "SHOPIFY_HTTP_ERROR"
    SHOPIFY_BULK_FAILED = "SHOPIFY_BULK_FAILED"
    SHOPIFY_NO_TOKEN = "SHOPIFY_NO_TOKEN"  # noqa: S105 (an error code, not a secret)
    SHOPIFY_NO_WEBHOOK_URL = "SHOPIFY_NO_WEBHOOK_URL"
    # -- files --
    ROW_INVALID = "ROW_INVALID"
    UNKNOWN_PARTY = "UNKNOWN_PARTY"
    CONFLICT = "CONFLICT"
    FILE_REJECTED = "FILE_REJECTED"
    NETSUITE_IMPORT_ERROR = "NETSUITE_IMPORT_ERROR"
    NETSUITE_FILE_FAILED = "NETSUITE_FILE_FAILED"
    NETSUITE_ID_NOT_RETURNED = "NETSUITE_ID_NOT_RETURNED"
    UNKNOWN_EXPORT_FILE = "UNKNOWN_EXPORT_FILE"
    UNKNOWN_EXPORT_ROW = "UNKNOWN_EXPORT_ROW"

    @classmethod
    def coerce(cls, code: str) -> ErrorCode:
        """Return the member for a code; NetSuite's HTTP_5xx are server errors; any other unknown code is
        ``NETSUITE_OTHER`` (callers keep the original code in the message)."""
        try:
            return cls(code)
        except ValueError:
            if code.startswith("HTTP_5"):
                return cls.NETSUITE_SERVER_ERROR
            return cls.NETSUITE_OTHER

    @property
    def info(self) -> ErrorInfo:
        return GUIDANCE[self]

    @property
    def kind(self) -> Kind:
        return GUIDANCE[self].kind

    @property
    def title(self) -> str:
        return GUIDANCE[self].title


_OPEN = "Open the customer and "

GUIDANCE: dict[ErrorCode, ErrorInfo] = {
    ErrorCode.MISSING_CUSTOMER_NAME: ErrorInfo(
        "Missing customer name", _OPEN + "enter first and last name (or the company name), then save.", Kind.DATA
    ),
    ErrorCode.MISSING_PAYMENT_TERM: ErrorInfo(
        "Missing payment term", _OPEN + "choose a payment term (Commercial section), then save.", Kind.DATA
    ),
    ErrorCode.MISSING_PRICE_LEVEL: ErrorInfo(
        "Missing price level", _OPEN + "choose a price level (Commercial section), then save.", Kind.DATA
    ),
    ErrorCode.MISSING_ADDRESS: ErrorInfo(
        "No address", _OPEN + "add an address with a label, city, state and ZIP, then save.", Kind.DATA
    ),
    ErrorCode.MISSING_ADDRESS_LABEL: ErrorInfo(
        "Missing address label", _OPEN + "give every address a label (e.g. Head office), then save.", Kind.DATA
    ),
    ErrorCode.INCOMPLETE_ADDRESS: ErrorInfo(
        "Incomplete address", _OPEN + "fill in city, state and ZIP on every address, then save.", Kind.DATA
    ),
    ErrorCode.MISSING_EMAIL: ErrorInfo(
        "Missing email",
        _OPEN + "enter the customer's email address (the file export requires it), then save.",
        Kind.DATA,
    ),
    ErrorCode.NAME_TOO_LONG: ErrorInfo(
        "Name too long for NetSuite",
        _OPEN + "shorten the first or last name to 32 characters (NetSuite's limit; its CSV import refuses longer "
        "ones), then save.",
        Kind.DATA,
    ),
    ErrorCode.MISSING_SHOPIFY_ID: ErrorInfo(
        "Missing Shopify customer ID",
        _OPEN + "add its SHOPIFY_CUST_ID party identification: HotWax's SuiteScripts only return NetSuite's ID "
        "for customers that carry one. Or send the customer through a REST connector instead.",
        Kind.DATA,
    ),
    ErrorCode.COMPANY_NOT_SUPPORTED: ErrorInfo(
        "Company cannot go through the file export",
        "HotWax's customer file carries persons only (it has no company name column). Send companies through a "
        "REST connector: untick the file connector and tick a REST one on the customer's External System tab.",
        Kind.DATA,
    ),
    ErrorCode.CONNECTOR_NOT_SELECTED: ErrorInfo(
        "Connector not selected", _OPEN + "tick the connector on its External System tab, then save.", Kind.DATA
    ),
    ErrorCode.PARENT_NOT_IN_NETSUITE: ErrorInfo(
        "Parent company not in NetSuite",
        "Fix the parent company's own failure first; this sub-customer is sent as soon as its parent is in NetSuite.",
        Kind.SETUP,
    ),
    ErrorCode.BINDING_CONFLICT: ErrorInfo(
        "Linked to another customer",
        "Two portal customers point to the same NetSuite customer: merge the duplicates, or remove the wrong "
        "party identification, then save.",
        Kind.DATA,
    ),
    ErrorCode.DUPLICATE_IN_NETSUITE: ErrorInfo(
        "Duplicate in NetSuite",
        "Two NetSuite customers match one portal customer: merge them in NetSuite; the next pull links the one left.",
        Kind.SETUP,
    ),
    ErrorCode.USER_ERROR: ErrorInfo(
        "NetSuite rejected a value", "Read NetSuite's message, correct the customer, then save.", Kind.DATA
    ),
    ErrorCode.NONEXISTENT_ID: ErrorInfo(
        "NetSuite does not know a referenced record",
        "NetSuite does not know a record this customer points to (its internal ID, parent, subsidiary, terms, price "
        "level or sales rep). Check the customer's NetSuite ID and the connection's mappings.",
        Kind.SETUP,
    ),
    ErrorCode.INVALID_KEY_OR_REF: ErrorInfo(
        "Invalid reference",
        "A value points to a NetSuite record that does not exist or may not be used: check the connection's "
        "mappings (subsidiary, terms, price level, sales rep).",
        Kind.SETUP,
    ),
    ErrorCode.DUP_ENTITY: ErrorInfo(
        "Duplicate in NetSuite",
        "NetSuite already has a customer with this name or ID: link the portal customer to it (party "
        "identification NETSUITE_CUSTOMER_ID) or change the name, then save.",
        Kind.DATA,
    ),
    ErrorCode.INVALID_EXTERNAL_ID: ErrorInfo(
        "Invalid external ID",
        "The portal customer ID holds characters NetSuite does not allow (letters, digits, '_' and '-' only).",
        Kind.DATA,
    ),
    ErrorCode.NOT_FOUND: ErrorInfo(
        "Deleted in NetSuite",
        "The customer was deleted in NetSuite or its link is wrong: check or remove its NETSUITE_CUSTOMER_ID.",
        Kind.DATA,
    ),
    # A code nobody has seen yet may be passing: the next run tries again (and counts an occurrence).
    ErrorCode.NETSUITE_OTHER: ErrorInfo(
        "Other NetSuite error", "Read NetSuite's message (its code is in it) and correct what it names.", Kind.SETUP
    ),
    ErrorCode.INVALID_LOGIN: ErrorInfo(
        "NetSuite refused the login",
        "NetSuite refused the connection's credentials, so nothing is sent. Ask the NetSuite administrator for a new "
        "token, enter it on the NetSuite connection and press Test connection; the next run sends the waiting "
        "customers.",
        Kind.SETUP,
    ),
    ErrorCode.INSUFFICIENT_PERMISSION: ErrorInfo(
        "Token role lacks a permission",
        "Ask the NetSuite administrator to grant the token's role this permission (customers, REST web services).",
        Kind.SETUP,
    ),
    ErrorCode.MAPPING_MISSING: ErrorInfo(
        "Value not mapped to NetSuite",
        "Add the value's NetSuite internal ID under NetSuite reference mappings (one list for the connector's REST "
        "and file exchanges), or pick a mapped value on the customer.",
        Kind.SETUP,
    ),
    ErrorCode.NO_CONNECTION: ErrorInfo(
        "No connection set up", "Set up the connector's connection (NetSuite REST → NetSuite connections).", Kind.SETUP
    ),
    ErrorCode.CONNECTION_INACTIVE: ErrorInfo(
        "Connection switched off",
        "Switch the connection on again, or untick the connector on the customer.",
        Kind.SETUP,
    ),
    ErrorCode.SYSTEM_INACTIVE: ErrorInfo(
        "Connector switched off",
        "Switch the connector on under External systems if it should receive customers.",
        Kind.SETUP,
    ),
    ErrorCode.MISSING_CREDENTIALS: ErrorInfo(
        "Connection has no credentials",
        "Enter the connection's credentials on its page (NetSuite REST → NetSuite connections).",
        Kind.SETUP,
    ),
    ErrorCode.SECRET_UNREADABLE: ErrorInfo(
        "Stored secret unreadable",
        "The connection's stored secrets cannot be decrypted with the current encryption key: open the connection "
        "and enter them again (or put the old key back after the new one in PORTAL_ENCRYPTION_KEY).",
        Kind.SETUP,
    ),
    ErrorCode.NO_CONNECTOR: ErrorInfo(
        "No connector installed", "No connector is installed for this system's transport: ask the team.", Kind.SETUP
    ),
    ErrorCode.NO_FEED: ErrorInfo(
        "No export feed", "Set up or enable the export feed of this system (SFTP file exchange → Feeds).", Kind.SETUP
    ),
    ErrorCode.HISTORICAL_IMPORT_PENDING: ErrorInfo(
        "Historical import not done",
        "Run the historical customer import (or the first complete NetSuite pull) for this connector on the Jobs "
        "page; exports wait for it so that NetSuite gets no duplicates.",
        Kind.SETUP,
    ),
    ErrorCode.UNKNOWN_HOST: ErrorInfo(
        "Unknown host", "Check the NetSuite account ID and the base URL override of the connection.", Kind.SETUP
    ),
    ErrorCode.TLS_ERROR: ErrorInfo(
        "TLS handshake failed",
        "Check the base URL and the server's certificate (or a proxy intercepting HTTPS).",
        Kind.SETUP,
    ),
    ErrorCode.CONCURRENCY_LIMIT_EXCEEDED: ErrorInfo(
        "NetSuite busy",
        "Nothing to fix: the next run sends it again. If it lasts, lower the connection's concurrency share.",
        Kind.TRANSIENT,
    ),
    ErrorCode.SSS_REQUEST_LIMIT_EXCEEDED: ErrorInfo(
        "NetSuite busy",
        "Nothing to fix: the next run sends it again. If it lasts, lower the connection's concurrency share.",
        Kind.TRANSIENT,
    ),
    ErrorCode.NO_REQUEST_SLOT: ErrorInfo(
        "No request slot free",
        "Other workers held the connection's whole concurrency share: the next run sends it again.",
        Kind.TRANSIENT,
    ),
    ErrorCode.LIMITER_UNAVAILABLE: ErrorInfo(
        "Redis unreachable",
        "The request limiter's Redis could not be reached: check REDIS_URL and Redis.",
        Kind.TRANSIENT,
    ),
    ErrorCode.TIMEOUT: ErrorInfo(
        "NetSuite did not answer in time",
        "Nothing to fix: the write is repeated safely by external ID on the next run.",
        Kind.TRANSIENT,
    ),
    ErrorCode.NETWORK_ERROR: ErrorInfo(
        "NetSuite unreachable",
        "Nothing was sent. The next run tries again; if it lasts, check the network and the connection's base URL.",
        Kind.TRANSIENT,
    ),
    ErrorCode.CONNECTION_DROPPED: ErrorInfo(
        "Connection lost after sending",
        "The connection broke after the request was sent; NetSuite may have saved it. Nothing to fix: the next run "
        "repeats the write safely by external ID.",
        Kind.TRANSIENT,
    ),
    ErrorCode.BEING_SENT: ErrorInfo(
        "Being sent by another push",
        "Another push is sending this customer right now (or it waits in a batch whose results are not read yet): "
        "wait for its result in the sync log.",
        Kind.TRANSIENT,
    ),
    ErrorCode.NETSUITE_SERVER_ERROR: ErrorInfo(
        "NetSuite server error", "Nothing to fix here: the next run tries again.", Kind.TRANSIENT
    ),
    ErrorCode.UNEXPECTED_ERROR: ErrorInfo(
        "NetSuite unexpected error",
        "NetSuite's own UNEXPECTED_ERROR: the next run tries again; if it repeats for this record, give NetSuite "
        "support the message.",
        Kind.TRANSIENT,
    ),
    ErrorCode.MALFORMED_RESPONSE: ErrorInfo(
        "NetSuite's answer unreadable", "The next run tries again; if it repeats, check the base URL.", Kind.TRANSIENT
    ),
    ErrorCode.MISSING_LOCATION: ErrorInfo(
        "NetSuite did not return the internal ID",
        "NetSuite accepted the write but did not say which record it is: the next run repeats it safely by external "
        "ID and links the answer.",
        Kind.TRANSIENT,
    ),
    ErrorCode.REQUEST_FAILED: ErrorInfo(
        "Request failed", "The next run tries again; if it repeats, read the message.", Kind.TRANSIENT
    ),
    ErrorCode.NOT_EXPORTED: ErrorInfo(
        "Not exported", "Another run was exporting this customer: try again in a minute.", Kind.TRANSIENT
    ),
    ErrorCode.PORTAL_INTERNAL_ERROR: ErrorInfo(
        "Portal internal error",
        "An error inside the portal (not NetSuite's): the next run tries again; if it repeats, give the team the "
        "message and the time.",
        Kind.TRANSIENT,
    ),
    ErrorCode.SHOPIFY_PAYLOAD_UNREADABLE: ErrorInfo(
        "Shopify sent something unreadable",
        "Open Shopify → Webhook inbox (filter: needs attention), read the reason and the payload; correct the object "
        "in Shopify, or run Reconcile Shopify (Jobs) to read it again.",
        Kind.FILE,
    ),
    ErrorCode.SHOPIFY_COMPANY_UNKNOWN: ErrorInfo(
        "Company location or contact before its company",
        "Run Reconcile Shopify (Jobs), then select the entry in Shopify → Webhook inbox and choose Process again.",
        Kind.TRANSIENT,
    ),
    ErrorCode.SHOPIFY_APPLY_FAILED: ErrorInfo(
        "Shopify change could not be saved",
        "Select the entry in Shopify → Webhook inbox and choose Process again; if it fails again, give the team the "
        "message (the inbox keeps the payload).",
        Kind.TRANSIENT,
    ),
    ErrorCode.SHOPIFY_UNAUTHORIZED: ErrorInfo(
        "Shopify refused the access token",
        "Enter a valid Admin API access token on the Shopify connection.",
        Kind.SETUP,
    ),
    ErrorCode.SHOPIFY_NETWORK_ERROR: ErrorInfo(
        "Shopify unreachable",
        "Check the shop domain (or the Admin API URL override); the next run tries again.",
        Kind.TRANSIENT,
    ),
    ErrorCode.SHOPIFY_THROTTLED: ErrorInfo(
        "Shopify rate limit",
        "Nothing to fix: Shopify's rate limit held the requests back; the next run goes on.",
        Kind.TRANSIENT,
    ),
    ErrorCode.SHOPIFY_GRAPHQL_ERRORS: ErrorInfo(
        "Shopify refused a request", "Read the message; check the connection's API version.", Kind.SETUP
    ),
    ErrorCode.SHOPIFY_USER_ERRORS: ErrorInfo(
        "Shopify refused a change", "Read Shopify's message: it names the field it refused.", Kind.SETUP
    ),
    ErrorCode.SHOPIFY_HTTP_ERROR: ErrorInfo(
        "Shopify answered with an error",
        "The next run tries again; check the shop domain if it lasts.",
        Kind.TRANSIENT,
    ),
    ErrorCode.SHOPIFY_BULK_FAILED: ErrorInfo(
        "Shopify bulk operation failed", "Nothing to fix: the next reconciliation asks Shopify again.", Kind.TRANSIENT
    ),
    ErrorCode.SHOPIFY_NO_TOKEN: ErrorInfo(
        "No Shopify access token", "Enter the Admin API access token on the Shopify connection.", Kind.SETUP
    ),
    ErrorCode.SHOPIFY_NO_WEBHOOK_URL: ErrorInfo(
        "No webhook address",
        "Enter the webhook address on the Shopify connection, then press Subscribe to webhooks.",
        Kind.SETUP,
    ),
    ErrorCode.ROW_INVALID: ErrorInfo(
        "Row could not be read",
        "Correct the row in the file (the line number is given) and send the file again.",
        Kind.FILE,
    ),
    ErrorCode.UNKNOWN_PARTY: ErrorInfo(
        "Unknown customer in file",
        "The row names a customer the portal does not have: check partyId in NetSuite (it must be the portal "
        "customer ID sent as externalId).",
        Kind.FILE,
    ),
    ErrorCode.CONFLICT: ErrorInfo(
        "ID conflict in file",
        "The row's ID already belongs to another customer: merge the duplicates in NetSuite, then send the row again.",
        Kind.FILE,
    ),
    ErrorCode.FILE_REJECTED: ErrorInfo(
        "File could not be read",
        "Fix the file (the reason says what is wrong) and put it back in the feed's folder.",
        Kind.FILE,
    ),
    ErrorCode.NETSUITE_IMPORT_ERROR: ErrorInfo(
        "NetSuite could not take the export file",
        "HC_SC_ImportCustomer could not download, submit or move the export file (its error file's reason is in the "
        "message) and moved it to export/failed/. Fix the cause (a folder on the server, NetSuite's import map). The "
        "scheduled export does not send these customers again by itself: a cause not yet fixed would add a file to "
        "export/failed/ every run.",
        Kind.SETUP,
    ),
    ErrorCode.NETSUITE_FILE_FAILED: ErrorInfo(
        "Export file in NetSuite's failed/ folder",
        "NetSuite moved the export file to export/failed/ without importing it. Read its error file in "
        "export/error/archive/ and the job 'Add Customer-<file>' on NetSuite's CSV Import Job Status page (Setup > "
        "Import/Export > View CSV Import Status) and fix the cause. The scheduled export does not send these customers "
        "again by itself.",
        Kind.SETUP,
    ),
    ErrorCode.NETSUITE_ID_NOT_RETURNED: ErrorInfo(
        "NetSuite's ID never came back",
        "NetSuite's CSV import rejects rows without telling the portal. In NetSuite open Setup > Import/Export > View "
        "CSV Import Status, find the job 'Add Customer-<export file>' (the file is named in the message) and read "
        "the error on this customer's row in its response file. Correct the customer (or NetSuite's data); a "
        "customer NetSuite already holds under the same external ID is refused by the import (it only adds): link "
        "it instead.",
        Kind.DATA,
    ),
    ErrorCode.UNKNOWN_EXPORT_FILE: ErrorInfo(
        "NetSuite error for an unknown file",
        "NetSuite reported an error for a file the portal did not write: read the error file in the export feed's "
        "error/archive/ folder. No customer was marked.",
        Kind.FILE,
    ),
    ErrorCode.UNKNOWN_EXPORT_ROW: ErrorInfo(
        "NetSuite error for an unknown row",
        "NetSuite reported an error for a file or line the portal did not write: read the error file in the "
        "export feed's error/ folder.",
        Kind.FILE,
    ),
}


def guidance(code: str, *, can_resync: bool) -> str:
    """What to do about a code, for the console; RESYNC is named only to those who may press it."""
    info = GUIDANCE.get(ErrorCode.coerce(code)) if code else None
    if info is None:
        return ""
    text = info.fix
    if can_resync and info.kind in (Kind.DATA, Kind.SETUP):
        text += " Then press RESYNC."
    elif can_resync and info.kind is Kind.TRANSIENT:
        text += " RESYNC sends it now."
    return text
