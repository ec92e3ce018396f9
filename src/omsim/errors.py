"""The one error type a user can cause.

Everything a user can get wrong (a bad scenario, an unknown SKU, a negative
quantity, a missing file) raises :class:`OmsimError`. The CLI prints its
message and exits with status 2; it never shows a traceback for it.
"""
from __future__ import annotations


class OmsimError(Exception):
    """A problem with user input: the message names the file and the field.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file
        The file the problem is in, when there is one.
    errors
        Every individual problem, each already formatted as
        ``"<file>: <field path>: <what was expected>"``; ``message`` summarises
        them. Validators collect all problems so the user fixes them in one go.
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, errors: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.errors = list(errors) if errors else [message]

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message
