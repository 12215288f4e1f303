"""The pass/fail collector shared by the derivation scripts in ``derivations/``.

Every check runs and prints its line before the script decides; :meth:`Checks.finish`
prints the verdict and exits with status 1 if any check failed (the tests run the scripts
and look for ``all checks passed``).
"""

from __future__ import annotations

__all__ = ["Checks"]


class Checks:
    """Collects pass/fail lines so that every check runs and prints before exiting."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        print(f"  [{'ok' if ok else 'FAIL'}] {name}{': ' + detail if detail else ''}")
        if not ok:
            self.failed.append(name)

    def finish(self) -> None:
        """Print the verdict; ``SystemExit(1)`` if any check failed."""
        if self.failed:
            print(f"{len(self.failed)} check(s) FAILED: {', '.join(self.failed)}")
            raise SystemExit(1)
        print("all checks passed")
