"""django-import-export resources for operators' spreadsheets of customers."""

from import_export import fields, resources, widgets

from .models import Customer
from .services import customer_refresh_validation


class CustomerResource(resources.ModelResource):
    """Customers matched on their portal customer ID; a sheet updates the same customer, never duplicates it."""

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

    def after_save_instance(self, instance, row, **kwargs):
        if not kwargs.get("dry_run"):
            customer_refresh_validation(customer=instance)
