"""Errors that reach the user as one clear line, never as a traceback."""


class UserError(Exception):
    """A problem the user can fix (bad input, missing file, busy port...).

    ``exit_code`` follows the CLI contract: 2 for unreadable input, 1 otherwise; ``http_status`` is
    what the service answers (a 4xx).
    """

    def __init__(self, message: str, exit_code: int = 1, http_status: int = 400):
        super().__init__(message)
        self.exit_code = exit_code
        self.http_status = http_status

    def __reduce__(self):  # raised in worker processes: the status must survive pickling
        return UserError, (str(self), self.exit_code, self.http_status)
