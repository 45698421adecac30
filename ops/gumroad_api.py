"""Gumroad's API v2 for the operator commands: the client lives in chalicelib (the reconciliation uses it too)."""

from __future__ import annotations

from chalicelib.purchases.gumroad_api import API_BASE as API_BASE
from chalicelib.purchases.gumroad_api import MAX_PAGES as MAX_PAGES
from chalicelib.purchases.gumroad_api import RESOURCE_NAMES as RESOURCE_NAMES
from chalicelib.purchases.gumroad_api import TOKEN_VARIABLE as TOKEN_VARIABLE
from chalicelib.purchases.gumroad_api import GumroadApi as GumroadApi
from chalicelib.purchases.gumroad_api import GumroadApiError as GumroadApiError
from chalicelib.purchases.gumroad_api import ResourceSubscription as ResourceSubscription
from chalicelib.purchases.gumroad_api import access_token_from as access_token_from
from chalicelib.purchases.gumroad_api import mask_secrets as mask_secrets
