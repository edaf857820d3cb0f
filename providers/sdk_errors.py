"""Translate the official SDKs' exceptions into `providers.errors`.

The openai, groq and anthropic SDKs share one generated exception layout (APIStatusError with a
status code, APITimeoutError, APIConnectionError), so one function serves all three.
"""

from __future__ import annotations

from types import ModuleType

from tierline.providers import errors


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def unusable(exc: BaseException, endpoint: str) -> errors.MalformedResponse:
    """Anything that went wrong reading a 200 answer (a body that is not the API's JSON, a
    field missing or of the wrong type) is that call's failure, never the caller's crash."""
    return errors.MalformedResponse(f"{endpoint}: unusable answer: {type(exc).__name__}: {exc}",
                                    endpoint=endpoint)


def translate(exc: Exception, sdk: ModuleType, endpoint: str) -> errors.ProviderError:
    """The fleet's error for an SDK exception (anything unknown counts as retryable)."""
    if isinstance(exc, sdk.APIResponseValidationError):
        return unusable(exc, endpoint)
    message = f"{endpoint}: {type(exc).__name__}: {exc}"
    # Timeout is a subclass of connection error in these SDKs: test it first.
    if isinstance(exc, sdk.APITimeoutError):
        return errors.ProviderTimeout(message, endpoint=endpoint)
    if isinstance(exc, sdk.APIConnectionError):
        return errors.ConnectionFailed(message, endpoint=endpoint)
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        if status == 429:
            return errors.RateLimited(message, endpoint=endpoint, retry_after=_retry_after(exc))
        if status >= 500:
            return errors.ServerError(message, endpoint=endpoint)
        if status in (401, 403):
            return errors.AuthenticationFailed(message, endpoint=endpoint)
        if status in (400, 413) and "context" in str(exc).lower():
            return errors.ContextTooLong(message, endpoint=endpoint)
        return errors.BadRequest(message, endpoint=endpoint)
    return errors.ServerError(message, endpoint=endpoint)
