from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from .registry import schedules_ensure_after_migrate

        post_migrate.connect(schedules_ensure_after_migrate, dispatch_uid="jobs.schedules_ensure")
