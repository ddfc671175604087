from django.apps import AppConfig


class NetsuiteConfig(AppConfig):
    name = "netsuite"
    verbose_name = "NetSuite REST"
