from django.apps import AppConfig


class SavedSearchesConfig(AppConfig):
    name = "saved_searches"
    verbose_name = "Saved searches"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from contracts.signals import dataset_changed

        from . import openapi  # noqa: F401  (registers the OpenAPI extension of saved-search bodies)
        from .models import SavedSearch
        from .receivers import delete_beat_entry, queue_runs_after_import

        dataset_changed.connect(queue_runs_after_import, dispatch_uid="saved_searches.after_import")
        post_delete.connect(delete_beat_entry, sender=SavedSearch, dispatch_uid="saved_searches.beat_entry")
