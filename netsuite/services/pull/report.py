"""What a pull came to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PullReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_local: int = 0
    failed: int = 0
    pages: int = 0
    completed: bool = False

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.kept_local + self.failed

    def summary(self) -> str:
        text = (
            f"{self.rows} NetSuite customer(s) read: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.kept_local:
            text += f", {self.kept_local} kept with local changes not yet sent"
        if self.failed:
            text += f", {self.failed} failed (see the Failed Record Queue)"
        return text + "."
