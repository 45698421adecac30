"""The Management API's routes, every resource's, over one tenant."""

from __future__ import annotations

from collections.abc import MutableMapping

from sandbox.http.routing import Route
from sandbox.management.actions import ActionsApi
from sandbox.management.client_grants import ClientGrantsApi
from sandbox.management.clients import ClientsApi
from sandbox.management.connections import ConnectionsApi
from sandbox.management.identities import IdentitiesApi
from sandbox.management.jobs import JobsApi
from sandbox.management.resource_servers import ResourceServersApi
from sandbox.management.roles import RolesApi
from sandbox.management.users import UsersApi
from sandbox.tenant.client_grants import ClientGrants
from sandbox.tenant.clients import Client
from sandbox.tenant.site import Site
from sandbox.tenant.tenant import Tenant


def management_routes(
    *,
    tenant: Tenant,
    site: Site,
    grants: ClientGrants,
    clients: MutableMapping[str, Client],
    token_lifetime: int,
    api_token_lifetime: int,
    bare: bool,
) -> list[Route]:
    """``/api/v2``: ``bare`` serves only what was created through it (no API, connection or roles of its own)."""
    resource_servers = ResourceServersApi(
        tenant=tenant,
        site=site,
        grants=grants,
        token_lifetime=token_lifetime,
        api_token_lifetime=api_token_lifetime,
        bare=bare,
    )
    return [
        *UsersApi(tenant=tenant, site=site).routes(),
        *IdentitiesApi(tenant=tenant).routes(),
        *JobsApi(tenant=tenant, site=site).routes(),
        *ClientGrantsApi(
            site=site, grants=grants, changing=tenant.changing, clients=clients, api_exists=resource_servers.exists
        ).routes(),
        *resource_servers.routes(),
        *RolesApi(tenant=tenant, site=site, bare=bare).routes(),
        *ClientsApi(tenant=tenant, clients=clients).routes(),
        *ConnectionsApi(tenant=tenant, clients=clients).routes(),
        *ActionsApi(actions=tenant.actions).routes(),
    ]
