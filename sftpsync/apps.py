from django.apps import AppConfig


class SftpsyncConfig(AppConfig):
    name = "sftpsync"
    verbose_name = "SFTP file exchange"
