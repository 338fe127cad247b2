"""The four named entities a contract points at, declared once.

A contractor, a procuring entity (organization), an area of delivery and a business category
are each a name shared by many contracts. Filters, selectors, autocomplete, the importer and
the generator all iterate over ``ENTITIES`` instead of spelling the four out again, so a
fifth entity (or a renamed key) is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Area, BusinessCategory, Contractor, NamedEntity, Organization


@dataclass(frozen=True)
class Entity:
    key: str  # singular, as in the API's entity_type and the Contract relation: "contractor"
    chip: str  # plural, as in the chip filters and autocomplete fields: "contractors"
    label: str  # what a person reads: "Contractor"
    model: type[NamedEntity]

    @property
    def column(self) -> str:
        """The Contract foreign-key column: ``contractor_id``."""
        return f"{self.key}_id"


ENTITIES: tuple[Entity, ...] = (
    Entity("contractor", "contractors", "Contractor", Contractor),
    Entity("area", "areas", "Area of delivery", Area),
    Entity("organization", "organizations", "Procuring entity", Organization),
    Entity("business_category", "business_categories", "Business category", BusinessCategory),
)

BY_KEY: dict[str, Entity] = {entity.key: entity for entity in ENTITIES}
BY_CHIP: dict[str, Entity] = {entity.chip: entity for entity in ENTITIES}
