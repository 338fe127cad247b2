"""Domain errors of the job API; config.errors renders them in the one error shape."""

from config.errors import ApplicationError


class JobNotFound(ApplicationError):
    status_code = 404
    code = "job_not_found"


class JobAlreadyFinished(ApplicationError):
    status_code = 409
    code = "job_finished"


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"


class ExportFileGone(ApplicationError):
    status_code = 410
    code = "export_expired"


class ExportNotReady(ApplicationError):
    status_code = 409
    code = "export_not_ready"


class NoFileToDownload(ApplicationError):
    """The job's kind writes no file: there is nothing to download, ever."""

    status_code = 404
    code = "no_file"


# A result asked for by cache key that is not there to give. Each carries the job's
# ``task_id`` (and what else a client needs) in ``extra``; ``status`` names the outcome.
class ResultNotReady(ApplicationError):
    """Not an error: the job is still queued or running. Answered 202 with Retry-After."""

    status_code = 202
    code = "result_not_ready"
    status = "not_ready"


class JobFailed(ApplicationError):
    status_code = 409
    code = "job_failed"
    status = "failed"


class JobRevoked(ApplicationError):
    status_code = 409
    code = "job_revoked"
    status = "revoked"


class ResultExpired(ApplicationError):
    status_code = 410
    code = "result_expired"
    status = "expired"


class JobCancelled(Exception):
    """Raised inside a running job when its record says it was cancelled: stop working."""


class JobCannotFinish(Exception):
    """Raised inside a running job that cannot finish for a reason its owner should read
    (not a bug): the job fails with this message, at once."""


class NoSpaceForFile(JobCannotFinish):
    """The disk the job writes its file to is full."""


class TooManyActiveJobs(ApplicationError):
    status_code = 429
    code = "too_many_active_jobs"


class ExportStorageFull(ApplicationError):
    status_code = 409
    code = "export_storage_full"


class TooManySockets(ApplicationError):
    """Refuses a websocket handshake: the user already holds ``WEBSOCKET_MAX_PER_USER``."""

    status_code = 429
    code = "too_many_sockets"
