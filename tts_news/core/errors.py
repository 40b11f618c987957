"""The project's errors, by who can put them right. Each carries a message a newsroom editor understands
and a `code` (a stable identifier, as the JSON API reports it); none knows about HTTP. The front ends
map them once, at the edge: the CLI to a one-line message and exit 1, the web app to a status
(`tts_news.web.errors`)."""


class NewsError(Exception):
    """Any failure the project reports in words rather than as a bug."""

    code = "error"


class UserError(NewsError):
    """Bad input or a missing resource the user can fix."""

    code = "bad_request"


class NotFound(UserError):
    code = "not_found"


class VoiceUnavailable(UserError):
    code = "voice_unavailable"


class TooLarge(UserError):
    code = "too_large"


class UnknownVoice(UserError):
    code = "unknown_voice"


class Unauthorized(UserError):
    code = "unauthorized"


class TooManyQueued(UserError):
    """This client already has as many jobs waiting as it may."""

    code = "too_many_queued"


class Unavailable(NewsError):
    """The service cannot take the work now (nobody's mistake): try again later."""

    code = "unavailable"


class Busy(Unavailable):
    """No worker could take the request in time."""

    code = "busy"


class QueueFull(Unavailable):
    code = "queue_full"


class InsufficientStorage(Unavailable):
    code = "insufficient_storage"


class ToolFailed(NewsError):
    """A program or model the pipeline runs (ffmpeg, espeak-ng, a voice) failed or is missing: the
    operator's to mend, not the user's."""

    code = "tool_failed"


class ShowIdentityLost(NewsError):
    """The feed's stored identity is unreadable: the operator must look, nobody may guess a new one."""

    code = "show_identity_lost"
