"""django-import-export resources for operators' spreadsheets of customers."""

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from integration_portal.spreadsheet import SpreadsheetSafeExport

from .models import Customer
from .services import customer_refresh_validation


class CustomerResource(SpreadsheetSafeExport, resources.ModelResource):
    """Customers matched on their portal customer ID; a sheet updates the same customer, never duplicates it.

    A row creates a customer only for a user who may add customers, and changes one only for a user who may change
    them (the admin's import passes the user); exported text goes through the spreadsheet-safety rule.
    """

    parent = fields.Field(
        attribute="parent",
        column_name="parent",
        widget=widgets.ForeignKeyWidget(Customer, field="customer_id"),
    )

    class Meta:
        model = Customer
        import_id_fields = ("customer_id",)
        fields = (
            "customer_id",
            "party_type",
            "segment",
            "first_name",
            "last_name",
            "company_name",
            "email",
            "phone",
            "payment_term",
            "price_level",
            "sales_rep",
            "subsidiary",
            "parent",
            "is_active",
        )
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def after_init_instance(self, instance, new, row, **kwargs):
        super().after_init_instance(instance, new, row, **kwargs)
        user = kwargs.get("user")
        if user is None:  # a command or a test importing without a user: nobody to check
            return
        opts = Customer._meta
        action = "add" if new else "change"
        if not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            what = "create new customers" if new else "change existing customers"
            raise ValidationError(
                f"You may not {what}, so customer {row.get('customer_id') or '(no ID)'} was not imported. "
                "Remove the row, or ask an administrator to import it."
            )

    def after_save_instance(self, instance, row, **kwargs):
        if not kwargs.get("dry_run"):
            customer_refresh_validation(customer=instance)
