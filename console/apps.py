from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Operators' console"

    def ready(self) -> None:
        from .roles import roles_ensure_after_migrate

        post_migrate.connect(roles_ensure_after_migrate, sender=self, dispatch_uid="console.roles_ensure")
