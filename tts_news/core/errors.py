"""Errors a user can cause. Each carries a message a newsroom editor understands; the CLI and the web
app map them to a one-line message or an HTTP 4xx once, at the edge."""


class UserError(Exception):
    """Bad input or a missing resource the user can fix."""

    code = "bad_request"
    status = 400


class NotFound(UserError):
    code = "not_found"
    status = 404


class VoiceUnavailable(UserError):
    code = "voice_unavailable"
    status = 409


class TooLarge(UserError):
    code = "too_large"
    status = 413


class UnknownVoice(UserError):
    code = "unknown_voice"


class Busy(UserError):
    """No worker could take the request in time: try again later."""

    code = "busy"
    status = 503


class Unauthorized(UserError):
    code = "unauthorized"
    status = 401


class TooManyQueued(UserError):
    """This client already has as many jobs waiting as it may."""

    code = "too_many_queued"
    status = 429


class QueueFull(UserError):
    code = "queue_full"
    status = 503


class InsufficientStorage(UserError):
    code = "insufficient_storage"
    status = 507


class ShowIdentityLost(UserError):
    """The feed's stored identity is unreadable: the operator must look, nobody may guess a new one."""

    code = "show_identity_lost"
    status = 500
