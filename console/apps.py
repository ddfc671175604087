from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Operators' console"

    def ready(self) -> None:
        from jobs.registry import JobSpec, register_job

        from .alerts import DIGEST_JOB
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
                key=DIGEST_JOB,
                title="Email new failures",
                task="console.tasks.send_failure_digests",
                command="",
                description="Sends each operator who subscribed (Email alerts) a digest of the failures new since "
                "their last one, with links to the queue.",
                default_minutes=15,
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
