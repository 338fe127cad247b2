"""The entity table as a CSV file of its job, for the download endpoint.

The lines come from the same selector as the synchronous streamed export, and are written
like the contract export's (a temporary file renamed into place when complete).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.filters import ContractFilters
from contracts.selectors.table_export import entity_export_count, entity_export_lines

from .exports import write_export


def export_entity_table(
    *,
    job_id: str,
    attempt: int,
    filters: ContractFilters,
    entity_type: str,
    ordering: str,
    on_progress: Callable[[int, int, str], None],
) -> dict[str, Any]:
    """Write job ``job_id``'s entity-table CSV; returns what the client reads."""
    return write_export(
        job_id=job_id,
        attempt=attempt,
        name=f"{entity_type}-table",
        lines=entity_export_lines(filters=filters, entity_type=entity_type, ordering=ordering),
        total=entity_export_count(filters=filters, entity_type=entity_type),
        on_progress=on_progress,
    )
