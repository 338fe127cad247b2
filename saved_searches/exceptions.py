"""Domain errors of saved searches; config.errors renders them in the one error shape."""

from config.errors import ApplicationError


class SavedSearchNotFound(ApplicationError):
    status_code = 404
    code = "saved_search_not_found"


class SavedSearchLimitReached(ApplicationError):
    status_code = 409
    code = "saved_search_limit"


class SavedSearchNameTaken(ApplicationError):
    status_code = 409
    code = "saved_search_name_taken"
