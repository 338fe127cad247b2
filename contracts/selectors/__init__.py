"""Read-side query services of the contracts app (HackSoft "selectors").

The synchronous chip endpoints and the Celery tasks call these same functions, keyword-only,
and get plain JSON-ready data back (ISO dates, money as 2-place strings), fit for caching.
"""

from .analytics import contract_aggregates
from .entities import ENTITY_ORDERINGS, ENTITY_TYPES, entity_table
from .options import OPTION_FIELDS, filter_options
from .search import CONTRACT_ORDERINGS, contract_search

__all__ = [
    "CONTRACT_ORDERINGS",
    "ENTITY_ORDERINGS",
    "ENTITY_TYPES",
    "OPTION_FIELDS",
    "contract_aggregates",
    "contract_search",
    "entity_table",
    "filter_options",
]
