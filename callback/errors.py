"""The one error type services raise when a change cannot be made as asked."""


class ServiceError(Exception):
    """A refused change: `status` is the HTTP status saying why (404, 409, 422); `details` name fields."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
