"""Services of the SFTP file exchange: the ledger, the three file jobs, and sending customers by file."""

from .export import customers_export, export_refusal, file_refusal, file_sync_handler, invalid_customers_log
from .export_errors import export_errors_import, export_follow_up
from .folders import FolderCheck, feed_folders, folders_ensure
from .historical import historical_import
from .ledger import ImportSummary, RunContext, feed_import, feed_lock, feedfile_move
from .party_ident import party_ident_import
from .runs import (
    EXPORT_JOB,
    HISTORICAL_JOB,
    PARTY_IDENT_JOB,
    FeedNotFound,
    JobOutcome,
    feeds_for,
    run_export,
    run_inbound,
)

__all__ = [
    "EXPORT_JOB",
    "HISTORICAL_JOB",
    "PARTY_IDENT_JOB",
    "FeedNotFound",
    "FolderCheck",
    "ImportSummary",
    "JobOutcome",
    "RunContext",
    "customers_export",
    "export_errors_import",
    "export_follow_up",
    "export_refusal",
    "feed_folders",
    "feed_import",
    "feed_lock",
    "feedfile_move",
    "feeds_for",
    "file_refusal",
    "file_sync_handler",
    "folders_ensure",
    "historical_import",
    "invalid_customers_log",
    "party_ident_import",
    "run_export",
    "run_inbound",
]
