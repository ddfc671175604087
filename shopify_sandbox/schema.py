"""The Admin GraphQL API subset the portal uses, as a real schema (graphql-core): strict about fields and types.

Field names and shapes follow the 2025-10 reference on shopify.dev (objects Customer, Company, CompanyLocation,
CompanyContact, CompanyAddress, MailingAddress, BulkOperation, WebhookSubscription; queries shop, customers,
companies, node, currentBulkOperation, webhookSubscriptions; mutations bulkOperationRunQuery,
webhookSubscriptionCreate, webhookSubscriptionDelete). A query naming anything else is answered as Shopify does:
HTTP 200 with an ``errors`` list. Fields the portal does not use are left out.

Cost (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits, "Cost calculation"): scalars and enums 0, an
object 1, a connection 2 plus ``first`` times the cost of one node, a mutation 10; a query may cost at most 1,000.
The sandbox charges the requested cost and refunds nothing (assumption: Shopify refunds the difference to the
actual cost; the portal only reads ``throttleStatus``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    get_named_type,
    value_from_ast_untyped,
)

TOPICS = [
    "CUSTOMERS_CREATE",
    "CUSTOMERS_UPDATE",
    "CUSTOMERS_DELETE",
    "CUSTOMERS_ENABLE",
    "CUSTOMERS_DISABLE",
    "COMPANIES_CREATE",
    "COMPANIES_UPDATE",
    "COMPANIES_DELETE",
    "COMPANY_LOCATIONS_CREATE",
    "COMPANY_LOCATIONS_UPDATE",
    "COMPANY_LOCATIONS_DELETE",
    "COMPANY_CONTACTS_CREATE",
    "COMPANY_CONTACTS_UPDATE",
    "COMPANY_CONTACTS_DELETE",
    "COMPANY_CONTACT_ROLES_ASSIGN",
    "COMPANY_CONTACT_ROLES_REVOKE",
    "BULK_OPERATIONS_FINISH",
]

SDL = """
scalar DateTime
scalar UnsignedInt64
scalar URL

interface Node { id: ID! }

enum CustomerState { DECLINED DISABLED ENABLED INVITED }
enum BulkOperationStatus { CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }
enum BulkOperationType { MUTATION QUERY }
enum BulkOperationErrorCode { ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }
enum WebhookSubscriptionFormat { JSON XML }
enum WebhookSubscriptionTopic { __TOPICS__ }

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type Shop implements Node { id: ID! name: String! myshopifyDomain: String! email: String }

type MailingAddress implements Node {
  id: ID! address1: String address2: String city: String province: String provinceCode: String zip: String
  country: String countryCodeV2: String company: String firstName: String lastName: String phone: String name: String
}
type CustomerEmailAddress { emailAddress: String }
type CustomerPhoneNumber { phoneNumber: String! }
type Customer implements Node {
  id: ID! firstName: String lastName: String displayName: String! note: String state: CustomerState!
  defaultEmailAddress: CustomerEmailAddress defaultPhoneNumber: CustomerPhoneNumber
  createdAt: DateTime! updatedAt: DateTime! addresses(first: Int): [MailingAddress!]! defaultAddress: MailingAddress
}
type CustomerEdge { cursor: String! node: Customer! }
type CustomerConnection { edges: [CustomerEdge!]! nodes: [Customer!]! pageInfo: PageInfo! }

type CompanyAddress implements Node {
  id: ID! address1: String address2: String city: String province: String zoneCode: String zip: String
  countryCode: String! recipient: String phone: String firstName: String lastName: String companyName: String
}
type Company implements Node {
  id: ID! name: String! externalId: String note: String createdAt: DateTime! updatedAt: DateTime!
  customerSince: DateTime! mainContact: CompanyContact
  locations(first: Int, after: String): CompanyLocationConnection!
  contacts(first: Int, after: String): CompanyContactConnection!
}
type CompanyEdge { cursor: String! node: Company! }
type CompanyConnection { edges: [CompanyEdge!]! nodes: [Company!]! pageInfo: PageInfo! }
type CompanyLocation implements Node {
  id: ID! name: String! externalId: String phone: String createdAt: DateTime! updatedAt: DateTime! company: Company!
  billingAddress: CompanyAddress shippingAddress: CompanyAddress
}
type CompanyLocationEdge { cursor: String! node: CompanyLocation! }
type CompanyLocationConnection { edges: [CompanyLocationEdge!]! nodes: [CompanyLocation!]! pageInfo: PageInfo! }
type CompanyContact implements Node {
  id: ID! title: String locale: String isMainContact: Boolean! createdAt: DateTime! updatedAt: DateTime!
  company: Company! customer: Customer
}
type CompanyContactEdge { cursor: String! node: CompanyContact! }
type CompanyContactConnection { edges: [CompanyContactEdge!]! nodes: [CompanyContact!]! pageInfo: PageInfo! }

type BulkOperation implements Node {
  id: ID! status: BulkOperationStatus! type: BulkOperationType! errorCode: BulkOperationErrorCode
  createdAt: DateTime! completedAt: DateTime objectCount: UnsignedInt64! rootObjectCount: UnsignedInt64!
  fileSize: UnsignedInt64 url: URL partialDataUrl: URL query: String!
}
type BulkOperationUserError { code: String field: [String!] message: String! }
type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }

type UserError { field: [String!] message: String! }
input WebhookSubscriptionInput { uri: String format: WebhookSubscriptionFormat includeFields: [String!] filter: String }
type WebhookSubscription implements Node {
  id: ID! topic: WebhookSubscriptionTopic! uri: String! format: WebhookSubscriptionFormat! createdAt: DateTime!
  updatedAt: DateTime!
}
type WebhookSubscriptionEdge { cursor: String! node: WebhookSubscription! }
type WebhookSubscriptionConnection {
  edges: [WebhookSubscriptionEdge!]! nodes: [WebhookSubscription!]! pageInfo: PageInfo!
}
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }

type Query {
  shop: Shop!
  customers(first: Int, after: String, query: String, reverse: Boolean): CustomerConnection!
  customer(id: ID!): Customer
  companies(first: Int, after: String, query: String): CompanyConnection!
  company(id: ID!): Company
  node(id: ID!): Node
  currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
  webhookSubscriptions(first: Int, after: String): WebhookSubscriptionConnection!
}
type Mutation {
  bulkOperationRunQuery(query: String!, groupObjects: Boolean): BulkOperationRunQueryPayload
  webhookSubscriptionCreate(
    topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!
  ): WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
}
""".replace("__TOPICS__", " ".join(TOPICS))

MAX_QUERY_COST = 1000
MUTATION_COST = 10
MAX_PAGE = 250


def gid(type_name: str, number: Any) -> str:
    return f"gid://shopify/{type_name}/{number}"


def gid_parts(value: str) -> tuple[str, int | None]:
    match = re.fullmatch(r"gid://shopify/(\w+)/(\d+)(\?.*)?", value or "")
    return (match.group(1), int(match.group(2))) if match else ("", None)


def iso_z(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


# ---- search syntax ------------------------------------------------------------------------------

_TERM = re.compile(r"(\w+):(>=|<=|>|<)?'?([^'\s]+)'?")


def search_filter(query: str | None) -> Callable[[dict], bool]:
    """Shopify's search syntax, the part the portal uses: ``updated_at:>='2024-01-01T00:00:00Z'`` (and created_at),
    terms joined by spaces or AND. Anything else is refused (a sandbox limit, said in the error)."""
    if not query or not query.strip():
        return lambda obj: True
    tests = []
    for term in re.split(r"\s+(?:AND\s+)?", query.strip()):
        match = _TERM.fullmatch(term)
        if not match or match.group(1) not in ("updated_at", "created_at"):
            raise GraphQLError(f"The sandbox supports only updated_at and created_at in search queries, not {term!r}.")
        name, op, raw = match.groups()
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise GraphQLError(f"Invalid date in search query: {raw!r}.") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        key = "updatedAt" if name == "updated_at" else "createdAt"
        compare = {">=": "__ge__", "<=": "__le__", ">": "__gt__", "<": "__lt__", None: "__eq__"}[op]
        tests.append(lambda obj, key=key, compare=compare, when=when: getattr(obj[key], compare)(when))
    return lambda obj: all(test(obj) for test in tests)


# ---- connections --------------------------------------------------------------------------------


def connection(items: list[dict], info, *, first: int | None, after: str | None, bulk_ok: bool = True) -> dict:
    """Page ``items`` (ordered by ID) by ``first``/``after``; in a bulk query every item is returned."""
    bulk = info.context.get("bulk", False)
    if not bulk:
        if first is None:
            raise GraphQLError("you must provide one of first or last")
        if first > MAX_PAGE or first < 0:
            raise GraphQLError(f"The first argument must be between 0 and {MAX_PAGE}.")
        if after:
            items = [i for i in items if i["id"] > int(after)]
        page, more = items[:first], len(items) > first
    else:
        page, more = items, False
    return {
        "edges": [{"cursor": str(i["id"]), "node": i} for i in page],
        "nodes": page,
        "pageInfo": {
            "hasNextPage": more,
            "hasPreviousPage": bool(after),
            "startCursor": str(page[0]["id"]) if page else None,
            "endCursor": str(page[-1]["id"]) if page else None,
        },
    }


# ---- cost ---------------------------------------------------------------------------------------


def _argument(node: FieldNode, name: str, variables: dict) -> Any:
    for argument in node.arguments or ():
        if argument.name.value == name:
            return value_from_ast_untyped(argument.value, variables)
    return None


def _selection_cost(parent, selection_set, fragments: dict, variables: dict, schema: GraphQLSchema) -> int:
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__") or not hasattr(parent, "fields"):
                continue
            field = parent.fields.get(selection.name.value)
            if field is None:
                continue
            named = get_named_type(field.type)
            if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                continue
            if named.name.endswith("Connection"):
                first = _argument(selection, "first", variables) or 0
                node_type = named.fields["nodes"].type
                node_cost = 0
                for inner in selection.selection_set.selections:
                    if isinstance(inner, FieldNode) and inner.name.value == "nodes":
                        node_cost = max(
                            node_cost,
                            1
                            + _selection_cost(
                                get_named_type(node_type), inner.selection_set, fragments, variables, schema
                            ),
                        )
                    elif isinstance(inner, FieldNode) and inner.name.value == "edges":
                        for edge_field in inner.selection_set.selections:
                            if isinstance(edge_field, FieldNode) and edge_field.name.value == "node":
                                node_cost = max(
                                    node_cost,
                                    1
                                    + _selection_cost(
                                        get_named_type(node_type),
                                        edge_field.selection_set,
                                        fragments,
                                        variables,
                                        schema,
                                    ),
                                )
                total += 2 + int(first) * node_cost
            else:
                total += 1 + _selection_cost(named, selection.selection_set, fragments, variables, schema)
        elif isinstance(selection, InlineFragmentNode):
            target = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
            total += _selection_cost(target, selection.selection_set, fragments, variables, schema)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                target = schema.get_type(fragment.type_condition.name.value)
                total += _selection_cost(target, fragment.selection_set, fragments, variables, schema)
    return total


def requested_cost(schema: GraphQLSchema, document, operation_name: str | None, variables: dict) -> int:
    """The requested cost of the operation that will run."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next((o for o in operations if o.name and o.name.value == operation_name), operations[0])
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _selection_cost(schema.query_type, operation.selection_set, fragments, variables or {}, schema)


# ---- the schema with its resolvers --------------------------------------------------------------


def build(sandbox) -> GraphQLSchema:
    """Build the schema whose resolvers read ``sandbox.store`` and call ``sandbox`` for bulk operations and webhooks."""
    schema = build_schema(SDL)
    store = sandbox.store

    schema.get_type("DateTime").serialize = iso_z
    schema.get_type("UnsignedInt64").serialize = lambda v: str(int(v))
    schema.get_type("Node").resolve_type = lambda obj, info, abstract: obj["_type"]

    def resolve(type_name: str, **fields: Callable) -> None:
        type_ = schema.get_type(type_name)
        for name, fn in fields.items():
            type_.fields[name].resolve = fn

    def node_id(obj, info):
        value = obj["id"]
        return value if isinstance(value, str) else gid(info.parent_type.name, value)

    for type_name in (
        "Shop",
        "Customer",
        "Company",
        "CompanyLocation",
        "CompanyContact",
        "BulkOperation",
        "WebhookSubscription",
    ):
        resolve(type_name, id=node_id)
    resolve(
        "MailingAddress",
        id=lambda a, info: gid("MailingAddress", a["id"]) + "?model_name=CustomerAddress",
        name=lambda a, info: " ".join(p for p in (a.get("firstName"), a.get("lastName")) if p) or None,
    )
    resolve(
        "CompanyAddress",
        id=lambda a, info: gid("CompanyAddress", a["id"]),
        zoneCode=lambda a, info: a.get("provinceCode"),
        countryCode=lambda a, info: a.get("countryCodeV2") or "US",
    )

    def roots(kind: str, query: str | None) -> list[dict]:
        keep = search_filter(query)
        return [o for o in store.snapshot(kind) if keep(o)]

    def bulk_or(kind: str):
        def resolver(root, info, first=None, after=None, query=None, reverse=False):
            items = info.context["bulk_slice"] if info.context.get("bulk") else roots(kind, query)
            if reverse and not info.context.get("bulk"):
                items = list(reversed(items))
            return connection(items, info, first=first, after=after)

        return resolver

    def by_id(kind: str, type_name: str):
        def resolver(root, info, id):
            found_type, number = gid_parts(id)
            return getattr(store, kind).get(number) if found_type == type_name else None

        return resolver

    def node(root, info, id):
        type_name, number = gid_parts(id)
        if type_name == "BulkOperation":
            op = sandbox.bulk.get(id)
            return {**op, "_type": "BulkOperation"} if op else None
        kinds = {
            "Customer": "customers",
            "Company": "companies",
            "CompanyLocation": "locations",
            "CompanyContact": "contacts",
        }
        obj = getattr(store, kinds[type_name]).get(number) if type_name in kinds else None
        return {**obj, "_type": type_name} if obj else None

    resolve(
        "Query",
        shop=lambda root, info: {"id": 1, "name": sandbox.shop_name, "myshopifyDomain": sandbox.shop_domain},
        customers=bulk_or("customers"),
        companies=bulk_or("companies"),
        customer=by_id("customers", "Customer"),
        company=by_id("companies", "Company"),
        node=node,
        currentBulkOperation=lambda root, info, type="QUERY": sandbox.bulk.current(),
        webhookSubscriptions=lambda root, info, first=None, after=None: connection(
            sandbox.webhooks.subscriptions(), info, first=first, after=after
        ),
    )
    resolve(
        "Customer",
        displayName=lambda c, info: (
            " ".join(p for p in (c.get("firstName"), c.get("lastName")) if p) or c.get("email") or ""
        ),
        defaultEmailAddress=lambda c, info: {"emailAddress": c["email"]} if c.get("email") else None,
        defaultPhoneNumber=lambda c, info: {"phoneNumber": c["phone"]} if c.get("phone") else None,
        addresses=lambda c, info, first=None: c["addresses"][:first] if first else c["addresses"],
        defaultAddress=lambda c, info: next((a for a in c["addresses"] if a["id"] == c.get("defaultAddressId")), None),
    )
    resolve(
        "Company",
        mainContact=lambda co, info: store.contacts.get(co.get("mainContactId")),
        locations=lambda co, info, first=None, after=None: connection(
            sorted(store.company_locations(co["id"]), key=lambda o: o["id"]), info, first=first, after=after
        ),
        contacts=lambda co, info, first=None, after=None: connection(
            sorted(store.company_contacts(co["id"]), key=lambda o: o["id"]), info, first=first, after=after
        ),
    )
    resolve("CompanyLocation", company=lambda loc, info: store.companies.get(loc["companyId"]))
    resolve(
        "CompanyContact",
        company=lambda ct, info: store.companies.get(ct["companyId"]),
        customer=lambda ct, info: store.customers.get(ct["customerId"]),
    )

    def run_bulk(root, info, query, groupObjects=False):
        return sandbox.bulk.start(query)

    def subscribe(root, info, topic, webhookSubscription):
        return sandbox.webhooks.subscribe(topic, webhookSubscription)

    resolve(
        "Mutation",
        bulkOperationRunQuery=run_bulk,
        webhookSubscriptionCreate=subscribe,
        webhookSubscriptionDelete=lambda root, info, id: sandbox.webhooks.unsubscribe(id),
    )
    return schema
