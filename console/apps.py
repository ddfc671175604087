from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Operators' console"

    def ready(self) -> None:
        from jobs.registry import JobSpec, register_job

        from .roles import roles_ensure_after_migrate
        from .selectors import COUNT_JOB, RESYNC_GROUP_JOB

        post_migrate.connect(roles_ensure_after_migrate, sender=self, dispatch_uid="console.roles_ensure")
        register_job(
            JobSpec(
                key=COUNT_JOB,
                title="Count the dashboard",
                task="console.tasks.count_dashboard",
                command=COUNT_JOB,
                description="Customers by sync status per connector and failures per day, for the dashboard.",
                default_minutes=1,
            )
        )
        register_job(
            JobSpec(
                key=RESYNC_GROUP_JOB,
                title="Resync a group of failed records",
                task="console.tasks.resync_failure_group",
                command="",
                description="Sends every open failure of one group of the Failed Record Queue again (RESYNC group).",
                scheduled=False,
                run_now=False,
            )
        )
