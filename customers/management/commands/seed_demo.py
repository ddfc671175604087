"""Create demo data and an admin login for a first look at the portal."""

import secrets
import sys
import time

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.db.models.functions import Length, Substr
from tqdm import tqdm

from customers.demo import seed_customers
from customers.models import Customer, ExternalSystem

DEMO_SYSTEMS = (
    ("netsuite", "NetSuite (REST)", ExternalSystem.Transport.REST),
    ("netsuite-files", "NetSuite (SFTP files)", ExternalSystem.Transport.FILE),
)
LOGIN_FILE = "demo-login.txt"


class Command(BaseCommand):
    help = "Create demo customers (persons, B2B companies with sub-customers, some invalid) and an admin login."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=500, help="How many customers (default 500).")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when customers exist already (used by make run)."
        )

    def handle(self, *args, customers: int, batch_size: int, if_empty: bool, **options):
        if customers < 0 or batch_size < 1:
            raise CommandError("--customers must be 0 or more and --batch-size at least 1.")
        systems = [
            ExternalSystem.objects.get_or_create(code=code, defaults={"name": name, "transport": transport})[0]
            for code, name, transport in DEMO_SYSTEMS
        ]
        for app_config in apps.get_app_configs():
            # Connector apps set up their demo connections (sandbox URL, local SFTP folder) here.
            if hasattr(app_config, "demo_setup"):
                app_config.demo_setup(stdout=self.stdout)
        username, password = self._admin_login()

        existing = Customer.objects.count()
        if if_empty and existing:
            self.stdout.write(f"Demo data present already ({existing} customers); nothing added.")
        elif customers:
            start = self._next_number()
            began = time.monotonic()
            with tqdm(total=customers, unit="customer", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
                created = seed_customers(
                    total=customers, systems=systems, start=start, batch_size=batch_size, on_progress=bar.update
                )
            elapsed = time.monotonic() - began
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created {created} demo customers (C{start:07d} onwards) in {elapsed:.1f} s "
                    f"({created / max(elapsed, 1e-9):,.0f} per second)."
                )
            )
        self.stdout.write(f"Admin login: {username} / {password}")

    def _next_number(self) -> int:
        """Number new demo customers after the highest existing C0000000-style ID."""
        top = (
            Customer.objects.filter(customer_id__regex=r"^C[0-9]{7,}$")
            .annotate(n=Length("customer_id"))
            .filter(n=8)
            .aggregate(m=Max(Substr("customer_id", 2)))["m"]
        )
        return int(top) + 1 if top else 1

    def _admin_login(self) -> tuple[str, str]:
        """Create the demo admin once; its password lives in var/demo-login.txt (local demo only)."""
        path = settings.VAR_DIR / LOGIN_FILE
        user_model = get_user_model()
        if path.exists() and user_model.objects.filter(username="admin").exists():
            username, password = path.read_text().strip().split(":", 1)
            return username, password
        password = secrets.token_urlsafe(9)
        user, _ = user_model.objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        path.write_text(f"admin:{password}\n")
        path.chmod(0o600)
        return "admin", password
