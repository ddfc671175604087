"""HotWax's customer SuiteScripts and the NetSuite parts they use (N/sftp, the CSV import, the File Cabinet).

Built from the scripts' source in hotwax/netsuite-integration (src/FileCabinet/SuiteScripts/Customer,
src/Objects/Customer) and Oracle's module reference; see scripts.py for what each script does.
"""

from . import cabinet, csvimport
from .files import Entry, FileRoot, LocalFileRoot, SftpFileRoot, as_file_root
from .jsdate import date_to_string
from .nmodules import MAX_FILE_SIZE, SuiteScriptError
from .scripts import (
    EXPORT_DIR,
    HISTORICAL_DIR,
    IMPORT_DIR,
    LAST_RUNTIME,
    SCRIPTS,
    ScriptContext,
    ScriptRun,
    exported_customer_csv,
    generate_historical_customer_csv,
    import_customer,
    install,
    run_scheduled,
    run_script,
    upload_historical_customer_csv,
)

__all__ = [
    "EXPORT_DIR",
    "HISTORICAL_DIR",
    "IMPORT_DIR",
    "LAST_RUNTIME",
    "MAX_FILE_SIZE",
    "SCRIPTS",
    "Entry",
    "FileRoot",
    "LocalFileRoot",
    "ScriptContext",
    "ScriptRun",
    "SftpFileRoot",
    "SuiteScriptError",
    "as_file_root",
    "cabinet",
    "csvimport",
    "date_to_string",
    "exported_customer_csv",
    "generate_historical_customer_csv",
    "import_customer",
    "install",
    "run_scheduled",
    "run_script",
    "upload_historical_customer_csv",
]
