"""Deterministic synthetic PhilGEPS contracts with the real data's names and skew.

`reference_data` loads the real entity names and weights (contracts/data), `vocabulary`
holds the words names and titles are built from, `sampling` draws rows chunk by chunk with
numpy, `titles` renders titles, `writing` stores rows (COPY on PostgreSQL) and `service`
ties them together.
"""

from .service import (
    DEFAULT_SEED,
    ContractsExist,
    ExistingContracts,
    GenerationSummary,
    contracts_generate,
)

__all__ = ["DEFAULT_SEED", "ContractsExist", "ExistingContracts", "GenerationSummary", "contracts_generate"]
