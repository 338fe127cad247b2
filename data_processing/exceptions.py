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


class JobCancelled(Exception):
    """Raised inside a running job when its record says it was cancelled: stop working."""
