"""Every way a provider call can fail, split by what the fleet should do about it.

    ProviderError
     ├── RetryableError          try again later, or on another endpoint
     │    ├── RateLimited        429; carries the server's Retry-After
     │    ├── ServerError        5xx, overloaded
     │    ├── ProviderTimeout    no answer within the endpoint's timeout
     │    ├── ConnectionFailed   could not reach the endpoint
     │    ├── UnexpectedFailure  the call raised something no adapter knows (a bug)
     │    ├── MalformedResponse  answered, but unusable: no choices, empty text, a body that
     │    │                      is not the API's JSON (an HTML page, cut short), fields missing
     │    ├── CircuitOpen        not called: its breaker is open after failures in a row
     │    └── Throttled          not called: the fleet's own rate limit for it is reached
     └── PermanentError          the same request will fail again here
          ├── BadRequest         4xx other than 429 (bad model id, malformed request)
          ├── AuthenticationFailed
          └── ContextTooLong     input plus expected output exceed the window
"""

from __future__ import annotations


class ProviderError(Exception):
    retryable = False

    def __init__(self, message: str, *, endpoint: str = "") -> None:
        super().__init__(message)
        self.endpoint = endpoint


class RetryableError(ProviderError):
    retryable = True


class RateLimited(RetryableError):
    def __init__(self, message: str, *, endpoint: str = "", retry_after: float | None = None):
        super().__init__(message, endpoint=endpoint)
        self.retry_after = retry_after


class ServerError(RetryableError):
    pass


class ProviderTimeout(RetryableError):
    pass


class ConnectionFailed(RetryableError):
    pass


class UnexpectedFailure(RetryableError):
    """The call raised an exception that is not a provider error: kept as that call's failure,
    with its type and message, so that one bad call never takes a batch down with it."""


class MalformedResponse(RetryableError):
    """The endpoint answered, and may have billed for it, but nothing in the answer is usable.
    Retryable: the same request usually gets a proper answer the next time."""


class CircuitOpen(RetryableError):
    """Raised by no SDK: the fleet passed the endpoint over (see `routing.breaker`)."""

    def __init__(self, message: str, *, endpoint: str = "", retry_after: float | None = None):
        super().__init__(message, endpoint=endpoint)
        self.retry_after = retry_after


class Throttled(RetryableError):
    """Raised by no SDK: the fleet's limiter (`routing.limiter`) kept the call from being made."""

    def __init__(self, message: str, *, endpoint: str = "", retry_after: float | None = None):
        super().__init__(message, endpoint=endpoint)
        self.retry_after = retry_after


class PermanentError(ProviderError):
    pass


class BadRequest(PermanentError):
    pass


class AuthenticationFailed(PermanentError):
    pass


class ContextTooLong(PermanentError):
    pass
