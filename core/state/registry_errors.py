"""What is wrong with a registry file: one error per bad line, all of them at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# How many errors the exception message lists; .errors always holds all of them.
_SHOWN = 50


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem, located by file and 1-based line (CSV header = line 1, YAML: the item)."""

    source: str
    line: int
    kind: str | None
    reason: str
    field: str | None = None
    value: Any = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}"
        what = f" {self.kind}" if self.kind else ""
        if self.field is None:
            return f"{where}:{what} {self.reason}"
        if self.value is None:
            return f"{where}:{what} {self.field}: {self.reason}"
        return f"{where}:{what} {self.field}={self.value!r}: {self.reason}"


class RegistryImportError(ValueError):
    """The registry file(s) had errors; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.source, e.line))
        lines = [str(error) for error in self.errors[:_SHOWN]]
        if len(self.errors) > _SHOWN:
            lines.append(f"... and {len(self.errors) - _SHOWN} more")
        super().__init__(
            f"{len(self.errors)} error(s) in the registry, nothing imported:\n" + "\n".join(lines)
        )

    @property
    def lines(self) -> list[int]:
        """The distinct line numbers with an error, in order."""
        return sorted({error.line for error in self.errors})
