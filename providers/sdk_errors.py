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


def _timed_out(exc: BaseException) -> bool:
    """Whether an SDK timeout error is a timeout. The aiohttp transport (httpx_aiohttp) maps
    every aiohttp connection error to httpx's ConnectTimeout, so a refused connection, or a kept
    connection the server had closed, reached the SDK as a timeout; such a call never reached the
    provider. aiohttp's own timeouts are TimeoutErrors."""
    link: BaseException | None = exc
    while link is not None:
        if type(link).__module__.startswith("aiohttp") and not isinstance(link, TimeoutError):
            return False
        link = link.__cause__
    return True


def _root_cause(exc: BaseException) -> str:
    """The first exception in `exc`'s chain, named: the SDKs' own messages ("Connection error.",
    "Request timed out.") do not say what happened."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def translate(exc: Exception, sdk: ModuleType, endpoint: str) -> errors.ProviderError:
    """The fleet's error for an SDK exception (anything unknown counts as retryable)."""
    if isinstance(exc, sdk.APIResponseValidationError):
        return unusable(exc, endpoint)
    message = f"{endpoint}: {type(exc).__name__}: {exc}"
    # Timeout is a subclass of connection error in these SDKs: test it first.
    if isinstance(exc, sdk.APITimeoutError) and _timed_out(exc):
        return errors.ProviderTimeout(message, endpoint=endpoint)
    if isinstance(exc, sdk.APIConnectionError):
        return errors.ConnectionFailed(f"{endpoint}: connection failed: {_root_cause(exc)}",
                                       endpoint=endpoint)
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
