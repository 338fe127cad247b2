from django.apps import AppConfig


class DataProcessingConfig(AppConfig):
    name = "data_processing"
    verbose_name = "Asynchronous jobs"
