"""NetSuite's side of the file exchange in tests: HotWax's scripts in the sandbox, reaching the feeds' files the way
NetSuite does (over SFTP as the SFTP user, or a local folder standing for the server)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from netsuite_sandbox.hotwax import FileRoot, LocalFileRoot, ScriptRun, SftpFileRoot, csvimport, install, run_script
from netsuite_sandbox.store import Store

from .conftest import SftpServerInfo


class NetSuiteSide:
    """A NetSuite account with HotWax's scripts deployed, and its SFTP configuration pointing at the feeds' server."""

    def __init__(self, root: FileRoot, store: Store | None = None, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store or Store()
        self.root = root
        self.clock = clock or (lambda: datetime.now(UTC))
        install(self.store, now=self.clock())
        self.runs: list[ScriptRun] = []

    @classmethod
    def over_sftp(cls, server: SftpServerInfo, **kwargs) -> NetSuiteSide:
        root = SftpFileRoot(
            host=server.host,
            port=server.port,
            username=server.user,
            known_host_key=server.host_key_line,
            key_path=str(server.private_key_path),
            home=server.remote_home,
        )
        return cls(root, **kwargs)

    @classmethod
    def over_local_folder(cls, home: Path, **kwargs) -> NetSuiteSide:
        return cls(LocalFileRoot(home), **kwargs)

    def run(self, name: str) -> ScriptRun:
        run = run_script(name, self.store, self.root, clock=self.clock)
        self.runs.append(run)
        return run

    def historical(self) -> ScriptRun:
        """HC_SC_GenerateHistoricalCustomerCSV, then HC_SC_UploadHistoricalCustomerCSV."""
        self.run("HC_SC_GenerateHistoricalCustomerCSV")
        return self.run("HC_SC_UploadHistoricalCustomerCSV")

    def scheduled(self) -> tuple[ScriptRun, ScriptRun]:
        """What NetSuite's schedule does: take the export files, run the CSV import queue, write created IDs."""
        imported = self.run("HC_SC_ImportCustomer")
        csvimport.run_queue(self.store)
        return imported, self.run("HC_MR_ExportedCustomerCSV")

    def close(self) -> None:
        if isinstance(self.root, SftpFileRoot):
            self.root.close()
