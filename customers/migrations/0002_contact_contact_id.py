"""Contacts get a portal contact ID, NetSuite's external ID of the contact record.

Three steps, so that a database with contacts already in it upgrades: add the column empty, give every existing
contact its own ID (a callable default on AddField would give all rows the same value), then make it unique.
"""

from django.core.validators import RegexValidator
from django.db import migrations, models

import customers.models

ID_VALIDATOR = RegexValidator(
    "^[A-Za-z0-9_-]+$", "Use only letters, digits, '_' and '-' (NetSuite external ID rules)."
)


def contact_ids_fill(apps, schema_editor):
    Contact = apps.get_model("customers", "Contact")
    pending = Contact.objects.filter(contact_id__isnull=True).only("pk")
    batch = []
    for contact in pending.iterator(chunk_size=2000):
        contact.contact_id = customers.models.new_contact_id()
        batch.append(contact)
        if len(batch) == 2000:
            Contact.objects.bulk_update(batch, ["contact_id"])
            batch = []
    if batch:
        Contact.objects.bulk_update(batch, ["contact_id"])


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="contact_id",
            field=models.CharField(editable=False, max_length=40, null=True, verbose_name="contact ID"),
        ),
        migrations.RunPython(contact_ids_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="contact",
            name="contact_id",
            field=models.CharField(
                default=customers.models.new_contact_id,
                editable=False,
                help_text="The portal's contact ID; NetSuite stores it as the contact's external ID.",
                max_length=40,
                unique=True,
                validators=[ID_VALIDATOR],
                verbose_name="contact ID",
            ),
        ),
    ]
