"""PhilGEPS awarded contracts, shaped for filtering and grouping at millions of rows.

Names that repeat (contractor, procuring entity, area, business category) live once in
their own small tables; a contract row holds four integer keys, so grouping by any of
them is an integer GROUP BY and a chip filter is an index look-up.
"""

from __future__ import annotations

from django.db import connection, models
from django.db.models.functions import MD5, Upper
from django.utils import timezone

from .signals import dataset_line_started_send


class NamedEntity(models.Model):
    """A name that many contracts share; chips match it case-insensitively.

    Names have no length limit: a real Area of Delivery can list dozens of provinces. A btree
    entry holds at most ~2,700 bytes, so uniqueness is enforced on md5(name) (exact look-ups
    go through it too: `entity_ids_for_names`), and on PostgreSQL the UPPER(name) index is a
    hash index (migration 0003), which has no such limit.
    """

    name = models.TextField()

    class Meta:
        abstract = True
        ordering = ["name"]
        constraints = [models.UniqueConstraint(MD5("name"), name="%(class)s_name_md5_key")]
        indexes = [
            # Chip filters match names case-insensitively: UPPER(name) IN (...).
            models.Index(Upper("name"), name="%(class)s_uname"),
        ]

    def __str__(self) -> str:
        return self.name


class Contractor(NamedEntity):
    class Meta(NamedEntity.Meta):
        pass


class Organization(NamedEntity):
    """A procuring entity (the government office that awarded the contract)."""

    class Meta(NamedEntity.Meta):
        pass


class Area(NamedEntity):
    """An area of delivery."""

    class Meta(NamedEntity.Meta):
        pass


class BusinessCategory(NamedEntity):
    class Meta(NamedEntity.Meta):
        verbose_name_plural = "business categories"


class Contract(models.Model):
    """One awarded line item (the award's reference number identifies it)."""

    # Text columns carry no length limit: a real row is never refused for a long value.
    reference_id = models.TextField()
    title = models.TextField()
    notice_title = models.TextField(blank=True, default="")
    contractor = models.ForeignKey(
        Contractor, on_delete=models.PROTECT, related_name="contracts", db_index=False
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="contracts", db_index=False
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="contracts", null=True, blank=True, db_index=False
    )
    business_category = models.ForeignKey(
        BusinessCategory,
        on_delete=models.PROTECT,
        related_name="contracts",
        null=True,
        blank=True,
        db_index=False,  # covered by the (business_category, award_date) index
    )
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    award_date = models.DateField()
    procurement_mode = models.TextField(blank=True, default="")
    classification = models.TextField(blank=True, default="")
    approved_budget = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    # Where the procuring entity itself sits (the export's Province and Region columns), which
    # is not where the contract is delivered: `area` holds only the Area of Delivery.
    organization_province = models.TextField(blank=True, default="")
    organization_region = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-award_date", "-id"]
        constraints = [
            # A constraint rather than unique=True: no second (pattern-ops) index to maintain on
            # every insert; nothing searches references by pattern.
            models.UniqueConstraint(fields=["reference_id"], name="contract_reference_id_key"),
        ]
        indexes = [
            # The default ordering (newest first) and date-range filters.
            models.Index(fields=["-award_date", "-id"], name="contract_date_desc"),
            # Each chip filter narrows by entity and, very often, by time as well.
            models.Index(fields=["contractor", "award_date"], name="contract_contractor_date"),
            models.Index(fields=["organization", "award_date"], name="contract_org_date"),
            models.Index(fields=["area", "award_date"], name="contract_area_date"),
            models.Index(fields=["business_category", "award_date"], name="contract_category_date"),
            models.Index(fields=["amount"], name="contract_amount"),
            # Keyword chips and autocomplete (UPPER(col) LIKE '%ROAD%') are served by trigram
            # indexes that exist on PostgreSQL only: see migration 0002_trigram_indexes.
        ]

    def __str__(self) -> str:
        return f"{self.reference_id}: {self.title[:60]}"


class DatasetVersion(models.Model):
    """A counter bumped by every import; part of every cache key, so cached results never
    outlive the data they were computed from."""

    version = models.PositiveBigIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    # When this row (this line of versions) began: a recreated or flushed database counts
    # versions from the start again, and its snapshots must not pass for older versions.
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"dataset v{self.version}"

    @classmethod
    def current(cls) -> int:
        # Read on every submit and chip request: plain SQL, because compiling the ORM query
        # cost more CPU than the rest of a submit's queries together (measured with py-spy).
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT version FROM {cls._meta.db_table} WHERE id = 1")
            row = cursor.fetchone()
        return row[0] if row else 1

    @classmethod
    def bump(cls) -> int:
        """A new version of the data; its columnar snapshot is built once this commits."""
        from .services import dataset_changed  # services imports the models

        if not cls.objects.filter(pk=1).update(version=models.F("version") + 1):
            _, created = cls.objects.get_or_create(pk=1, defaults={"version": 2})
            if created:
                dataset_line_started_send()
        dataset_changed()
        return cls.current()


class DroppedIndex(models.Model):
    """An index or foreign key a bulk load dropped and has not built again yet.

    Written in the transaction that drops it and deleted in the one that builds it again, so
    a load killed in between (SIGKILL, a lost machine) leaves here exactly what is missing;
    `contracts.indexes.repair_dropped_indexes` builds it at the next import or start-up.
    """

    class Kind(models.TextChoices):
        INDEX = "index"
        FOREIGN_KEY = "foreign_key"

    table = models.TextField()
    name = models.TextField()
    kind = models.TextField(choices=Kind.choices)
    definition = models.TextField()  # CREATE INDEX ..., or FOREIGN KEY ... REFERENCES ...

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "name"], name="droppedindex_table_name_key")]

    def __str__(self) -> str:
        return f"{self.table}.{self.name}"
