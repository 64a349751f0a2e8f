"""Custom search attributes every Muhurta workflow may set.

They must be registered on the Temporal server before a workflow upserts them (an unregistered
one makes the workflow task retry forever): the embedded dev server registers them at start,
`muhurta migrate` registers them on an external server. They are not encrypted, so they carry
ids and statuses, never names or emails.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TENANT_ID = SearchAttributeKey.for_keyword("TenantId")
CLIENT_ID = SearchAttributeKey.for_keyword("ClientId")
CONSULTANT_ID = SearchAttributeKey.for_keyword("ConsultantId")
ENTITY_STATUS = SearchAttributeKey.for_keyword("EntityStatus")

# name -> type name, as `temporal server start-dev --search-attribute` and the operator API take it
SEARCH_ATTRIBUTES: dict[str, str] = {
    key.name: "Keyword" for key in (TENANT_ID, CLIENT_ID, CONSULTANT_ID, ENTITY_STATUS)
}
