"""The headers the stack's CloudFront adds to every answer of the SPA (SpaResponseHeadersPolicy in
.chalice/deploy-resources.json), resolved for a local stack: the browser tests serve the SPA with them, so every
journey runs under the deployed Content-Security-Policy.

The template names the tenant, the API and the lessons' bucket with https://; the sandbox, `chalice local` and the
local S3 endpoint speak http on loopback. Those three origins, and nothing else, are put in place of the deployed
ones: every directive stays as deployed.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from tests.intrinsics import resolve

TEMPLATE = Path(__file__).resolve().parents[2] / ".chalice" / "deploy-resources.json"
_API_ID = "local-api"
_REGION = "eu-west-1"
_SUFFIX = "amazonaws.com"
DEPLOYED_API = f"https://{_API_ID}.execute-api.{_REGION}.{_SUFFIX}"
_CONTENT_HOST = f"local-content.s3.{_REGION}.{_SUFFIX}"


def spa_headers(*, tenant: str, api: str, content: str) -> dict[str, str]:
    """CloudFront's security headers for an SPA whose tenant, API and lessons' bucket are at the loopback origins
    given."""
    policy = json.loads(TEMPLATE.read_text(encoding="utf-8"))["Resources"]["SpaResponseHeadersPolicy"]
    tenant_host = urlsplit(tenant).netloc
    values = {
        "Auth0Domain": tenant_host,
        "RestAPI": _API_ID,
        "AWS::Region": _REGION,
        "AWS::URLSuffix": _SUFFIX,
        "ContentBucket.RegionalDomainName": _CONTENT_HOST,
    }
    security = resolve(policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"], values)
    hsts = security["StrictTransportSecurity"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    content_origin = f"{urlsplit(content).scheme}://{urlsplit(content).netloc}"
    csp = csp.replace(f"https://{tenant_host}", tenant).replace(DEPLOYED_API, api)
    csp = csp.replace(f"https://{_CONTENT_HOST}", content_origin)
    return {
        "Strict-Transport-Security": f"max-age={hsts['AccessControlMaxAgeSec']}"
        + ("; includeSubDomains" if hsts["IncludeSubdomains"] else "")
        + ("; preload" if hsts["Preload"] else ""),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        "Content-Security-Policy": csp,
    }
