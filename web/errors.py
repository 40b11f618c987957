"""The one mapping of the project's errors to HTTP: each error class (or, for an error relayed by a worker,
its code) to a status, and the body every JSON error has. The domain's errors know nothing of HTTP; this
module is the edge. The few errors only the web can meet (a request that is not JSON, a write from another
site, a form whose token is stale) are defined here too, so that they get their statuses from the same table."""

from __future__ import annotations

from tts_news.core import errors
from tts_news.core.http import AddressNotAllowed, FetchError, FetchTooLarge, NotAnArticle


class BadJson(errors.UserError):
    code = "invalid_json"


class NotJson(errors.UserError):
    code = "unsupported_media_type"


class CrossSite(errors.UserError):
    """A write sent from a page on another site (the browser says so): refused whatever it carries."""

    code = "cross_site"


class FormExpired(errors.UserError):
    """A form post without this session's CSRF token, or with a stale or forged one. The code stays the
    generic bad_request that such a post has always answered with."""

    def __init__(self) -> None:
        super().__init__("فارم کی میعاد ختم ہو گئی؛ صفحہ دوبارہ کھول کر پھر بھیجیں۔ (the form's security token "
                         "is missing or stale: reload the page and send it again)")


STATUS_BY_CLASS: dict[type[Exception], int] = {
    errors.NewsError: 500,
    errors.UserError: 400,
    errors.NotFound: 404,
    errors.Unauthorized: 401,
    errors.VoiceUnavailable: 409,
    errors.TooLarge: 413,
    errors.TooManyQueued: 429,
    errors.Unavailable: 503,
    errors.InsufficientStorage: 507,
    errors.ToolFailed: 500,
    errors.ShowIdentityLost: 500,
    FetchError: 422,
    AddressNotAllowed: 400,
    NotAnArticle: 422,
    FetchTooLarge: 413,
    NotJson: 415,
    CrossSite: 403,
}
# Codes that name one class each: how an error a worker wrote down (by its code) gets its status back.
STATUS_BY_CODE = {cls.code: status for cls, status in STATUS_BY_CLASS.items()}


def status_of(err: errors.NewsError) -> int:
    """The status for an error: its nearest class in the table (a subclass inherits its parent's); a
    relayed error's, by its code."""
    if isinstance(err, Relayed):
        return status_of_code(err.code)
    return next(STATUS_BY_CLASS[cls] for cls in type(err).__mro__ if cls in STATUS_BY_CLASS)


def status_of_code(code: str | None, default: int = 400) -> int:
    return STATUS_BY_CODE.get(code or "", default)


def error_body(message: str, code: str) -> dict:
    """Every JSON error of the app (the OpenAI-compatible routes excepted, which answer in OpenAI's shape)."""
    return {"error": {"message": message, "code": code}}


class Relayed(errors.NewsError):
    """An error a worker met and wrote down (message and code) for the web process to answer with."""

    def __init__(self, message: str, code: str | None) -> None:
        super().__init__(message)
        self.code = code or errors.UserError.code
