from django.contrib import admin

from .models import SavedSearch, SavedSearchRun


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "kind", "every_seconds", "crontab", "run_after_import", "updated_at")
    list_filter = ("kind", "run_after_import")
    raw_id_fields = ("owner", "periodic_task")


@admin.register(SavedSearchRun)
class SavedSearchRunAdmin(admin.ModelAdmin):
    list_display = ("saved_search", "trigger", "created_at", "matched_count", "new_count")
    raw_id_fields = ("saved_search", "job")
