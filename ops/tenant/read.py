"""What the Auth0 tenant holds that concerns a stage, read through auth0-python into ``ops.tenant.model``'s data."""

from __future__ import annotations

from collections.abc import Sequence

from ops.tenant.auth0 import PAGE, Calls, missing_scope, text_of
from ops.tenant.model import (
    POST_LOGIN,
    Desired,
    Found,
    FoundAction,
    FoundApi,
    FoundBinding,
    FoundClient,
    FoundConnection,
    FoundGrant,
    FoundRole,
)

CLIENT_FIELDS = (
    "client_id,name,client_metadata,app_type,token_endpoint_auth_method,grant_types,callbacks,"
    "allowed_logout_urls,web_origins,oidc_conformant,is_first_party,jwt_configuration,refresh_token"
)
API_FIELDS = (
    "signing_alg",
    "enforce_policies",
    "token_dialect",
    "allow_offline_access",
    "skip_consent_for_verifiable_first_party_clients",
    "token_lifetime",
)


def read_tenant(calls: Calls, desired: Desired, *, secrets_of: Sequence[str] = ()) -> Found:
    """Everything that concerns the stage; the client secrets of the ``secrets_of`` purposes' applications."""
    api = _api(calls, desired.api.identifier)
    clients = _clients(calls)
    # The first application of each purpose that carries exactly its mark, as ``plan_client`` picks it.
    managed = {
        spec.purpose: ours[0]
        for spec in desired.clients
        if (ours := [client.client_id for client in clients if client.is_managed(desired.stage, spec.purpose)])
    }
    service = managed.get("service")
    action_name = desired.action.name if desired.action is not None else None
    return Found(
        api=api,
        roles=_roles(calls, desired),
        clients=clients,
        grants=_grants(calls, service) if service else (),
        connection=_connection(calls, desired.connection.name),
        action=_action(calls, action_name) if action_name else None,
        bindings=_bindings(calls) if action_name else (),
        client_secrets={
            managed[purpose]: secret
            for purpose in secrets_of
            if purpose in managed and (secret := _client_secret(calls, managed[purpose]))
        },
    )


def _api(calls: Calls, identifier: str) -> FoundApi | None:
    server = calls.read_or_none(
        "read:resource_servers", lambda o: calls.client.resource_servers.get(identifier, request_options=o)
    )
    if server is None:
        return None
    values = server.model_dump()
    return FoundApi(
        id=server.id or "",
        identifier=server.identifier or identifier,
        name=server.name or "",
        settings={key: values.get(key) for key in API_FIELDS},
        scopes=tuple((scope.value, scope.description or "") for scope in server.scopes or [] if scope.value),
    )


def _roles(calls: Calls, desired: Desired) -> tuple[FoundRole, ...]:
    ids = {spec.catalogue_role_id for spec in desired.roles}
    names = {spec.name for spec in desired.roles}
    roles = [
        role
        for role in calls.pages(
            "read:roles",
            lambda page, o: calls.client.roles.list(per_page=PAGE, page=page, include_totals=True, request_options=o),
        )
        if role.id in ids or role.name in names
    ]
    return tuple(
        FoundRole(
            id=role.id or "",
            name=role.name or "",
            description=role.description or "",
            permissions=_role_permissions(calls, role.id or ""),
        )
        for role in roles
    )


def _role_permissions(calls: Calls, role_id: str) -> tuple[tuple[str, str], ...]:
    items = calls.pages(
        "read:roles",
        lambda page, o: calls.client.roles.permissions.list(
            role_id, per_page=PAGE, page=page, include_totals=True, request_options=o
        ),
    )
    return tuple(
        (item.resource_server_identifier or "", item.permission_name or "") for item in items if item.permission_name
    )


def _clients(calls: Calls) -> tuple[FoundClient, ...]:
    items = calls.pages(
        "read:clients",
        lambda page, o: calls.client.clients.list(
            fields=CLIENT_FIELDS,
            include_fields=True,
            per_page=PAGE,
            page=page,
            include_totals=True,
            request_options=o,
        ),
    )
    found = []
    for client in items:
        values = client.model_dump(exclude_none=True)
        metadata = {key: str(value) for key, value in (client.client_metadata or {}).items() if value is not None}
        settings = {key: value for key, value in values.items() if key not in ("client_id", "name", "client_metadata")}
        found.append(FoundClient(client.client_id or "", client.name or "", settings, metadata))
    return tuple(found)


def _client_secret(calls: Calls, client_id: str) -> str | None:
    client = calls.read(
        "read:client_keys",
        lambda o: calls.client.clients.get(
            client_id, fields="client_id,client_secret", include_fields=True, request_options=o
        ),
    )
    if client.client_secret is None:  # Auth0 shows an application's secret only to a token with the scope
        raise missing_scope("read:client_keys", "Auth0 left client_secret out of the application it read")
    return text_of(client.client_secret)


def _grants(calls: Calls, client_id: str) -> tuple[FoundGrant, ...]:
    grants = calls.read(
        "read:client_grants",
        lambda o: list(calls.client.client_grants.list(client_id=client_id, take=PAGE, request_options=o)),
    )
    return tuple(
        FoundGrant(grant.id or "", grant.client_id or "", grant.audience or "", tuple(grant.scope or []))
        for grant in grants
    )


def _connection(calls: Calls, name: str) -> FoundConnection | None:
    pager = calls.read(
        "read:connections", lambda o: calls.client.connections.list(name=name, take=PAGE, request_options=o)
    )
    connection = next((item for item in pager.items or [] if item.name == name), None)
    if connection is None or not connection.id:
        return None
    if connection.options is None:  # Auth0 shows a connection's options only to a token with the scope
        raise missing_scope("read:connections_options", "Auth0 left options out of the connection it read")
    connection_id = connection.id
    enabled = calls.read(
        "read:connections",
        lambda o: [
            item.client_id for item in calls.client.connections.clients.get(connection_id, take=PAGE, request_options=o)
        ],
    )
    return FoundConnection(
        id=connection_id,
        name=name,
        strategy=connection.strategy or "",
        options=dict(connection.options),
        metadata={key: value for key, value in (connection.metadata or {}).items() if value is not None},
        enabled_clients=tuple(enabled),
    )


def _action(calls: Calls, name: str) -> FoundAction | None:
    pager = calls.read(
        "read:actions",
        lambda o: calls.client.actions.list(
            trigger_id=POST_LOGIN, action_name=name, per_page=PAGE, page=0, request_options=o
        ),
    )
    action = next((item for item in pager.items or [] if item.name == name), None)
    if action is None or not action.id:
        return None
    return FoundAction(
        id=action.id,
        name=name,
        code=action.code or "",
        runtime=action.runtime or "",
        secret_names=tuple(secret.name for secret in action.secrets or [] if secret.name),
        deployed=bool(action.all_changes_deployed) and action.status == "built",
    )


def _bindings(calls: Calls) -> tuple[FoundBinding, ...]:
    pager = calls.read(
        "read:actions",
        lambda o: calls.client.actions.triggers.bindings.list(POST_LOGIN, per_page=PAGE, page=0, request_options=o),
    )
    return tuple(
        FoundBinding(binding.action.id or "" if binding.action else "", binding.display_name or "")
        for binding in pager.items or []
    )
