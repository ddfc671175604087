"""NetSuite reference mappings become rows per external system, one model for the REST and the file connectors.

The REST connection's ``mappings`` JSON ({"kind": {"local value": "internal ID"}}) is copied into
ReferenceMapping rows, then dropped; reversing rebuilds the JSON from the rows.
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

KINDS = ("subsidiaries", "lead_sources", "payment_terms", "price_levels", "sales_reps")


def json_to_rows(apps, schema_editor):
    connections = apps.get_model("netsuite", "NetSuiteConnection")
    mapping = apps.get_model("netsuite", "ReferenceMapping")
    rows = []
    for connection in connections.objects.all():
        seen = set()
        for kind, values in (connection.mappings or {}).items():
            if kind not in KINDS or not isinstance(values, dict):
                continue
            for local, internal_id in values.items():
                local, internal_id = str(local).strip()[:200], str(internal_id).strip()
                key = (kind, " ".join(local.split()).casefold())
                if not local or not internal_id or key in seen:
                    continue
                seen.add(key)
                rows.append(
                    mapping(
                        external_system_id=connection.external_system_id,
                        kind=kind,
                        local_value=local,
                        internal_id=internal_id[:20],
                    )
                )
    mapping.objects.bulk_create(rows)


def rows_to_json(apps, schema_editor):
    connections = apps.get_model("netsuite", "NetSuiteConnection")
    mapping = apps.get_model("netsuite", "ReferenceMapping")
    for connection in connections.objects.all():
        data = {}
        for row in mapping.objects.filter(external_system_id=connection.external_system_id):
            data.setdefault(row.kind, {})[row.local_value] = row.internal_id
        connection.mappings = data
        connection.save(update_fields=["mappings"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_drop_redundant_indexes"),
        ("netsuite", "0003_api_token_connection_expiry"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReferenceMapping",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("subsidiaries", "Subsidiary"),
                            ("lead_sources", "Lead source (accountSource)"),
                            ("payment_terms", "Payment term"),
                            ("price_levels", "Price level (catalog)"),
                            ("sales_reps", "Sales rep"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "local_value",
                    models.CharField(
                        help_text="As the portal holds it, e.g. Parent Company (case and spacing are ignored).",
                        max_length=200,
                    ),
                ),
                (
                    "internal_id",
                    models.CharField(
                        max_length=20,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^-?[0-9]+$", "Enter NetSuite's internal ID, a number such as 1 or -5."
                            )
                        ],
                        verbose_name="NetSuite internal ID",
                    ),
                ),
                (
                    "external_system",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reference_mappings",
                        to="customers.externalsystem",
                    ),
                ),
            ],
            options={
                "verbose_name": "NetSuite reference mapping",
                "ordering": ["external_system", "kind", "local_value"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("external_system", "kind", "local_value"), name="reference_mapping_once"
                    )
                ],
            },
        ),
        migrations.RunPython(json_to_rows, rows_to_json),
        migrations.RemoveField(model_name="netsuiteconnection", name="mappings"),
    ]
