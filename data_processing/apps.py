from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import import_string


class DataProcessingConfig(AppConfig):
    name = "data_processing"
    verbose_name = "Asynchronous jobs"

    def ready(self) -> None:
        """Fill the job-kind registry before any route, task or request reads it."""
        from contracts.signals import dataset_line_started

        from . import analysis_kinds, kinds  # noqa: F401 - declaring the built-in kinds registers them
        from .registry import register
        from .result_cache import results_forget_all

        # Dotted paths to further JobKindSpec declarations; only the test settings set it.
        for dotted_path in getattr(settings, "EXTRA_JOB_KINDS", ()):
            register(import_string(dotted_path))
        dataset_line_started.connect(results_forget_all, dispatch_uid="data_processing.results_forget_all")
