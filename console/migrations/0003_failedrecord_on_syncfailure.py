"""The Failed Record Queue's proxy moves from the attempt log (SyncLog) to the failure lifecycle (SyncFailure)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0002_dashboard_snapshot"),
        ("customers", "0003_failure_lifecycle_readiness"),
    ]

    operations = [
        migrations.DeleteModel(name="FailedRecord"),
        migrations.CreateModel(
            name="FailedRecord",
            fields=[],
            options={
                "verbose_name": "failed record",
                "verbose_name_plural": "Failed Record Queue",
                "permissions": [("can_resync", "Can resync customers and failed records now")],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("customers.syncfailure",),
        ),
    ]
