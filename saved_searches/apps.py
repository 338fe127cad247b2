from django.apps import AppConfig


class SavedSearchesConfig(AppConfig):
    name = "saved_searches"
    verbose_name = "Saved searches"

    def ready(self) -> None:
        from contracts.signals import dataset_changed

        from .receivers import queue_runs_after_import

        dataset_changed.connect(queue_runs_after_import, dispatch_uid="saved_searches.after_import")
