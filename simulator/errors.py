"""The one exception handlers raise for bad input; the app turns it into `{"error": ...}`."""

from __future__ import annotations


class ApiError(Exception):
    """A client error (4xx) with the message the API puts in its `error` field."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
