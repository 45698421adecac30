"""`ops spa publish`: the students' SPA built with the stack's settings and published behind the stack's CloudFront."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ops.errors import NotConfigured
from ops.spa_build import SpaSetting

if TYPE_CHECKING:
    from ops.settings import Settings, SpaHosting

PUBLISH_DOC = """Build spa/ with the deployed stack's settings and publish it where the stack hosts it (SpaUrl).

The build gets the tenant (Auth0Domain), the SPA application's client id (the SpaClientId parameter, or
--client-id), the API identifier (Auth0Audience), the API's URL (EndpointURL) and where a student without
courses can buy one (the SpaPurchaseUrl parameter, or --purchase-url). Any of them unset, a placeholder
(REPLACE...) or still spa/.env.tenant.example's value stops it before anything is built (exit 2), and so does a
stack whose CorsAllowOrigin does not allow SpaUrl (the API would refuse every call the SPA makes).

It runs `npm ci` in spa/ when the lock file changed, then `vite build`, and shows what it would upload and
remove. With --apply it uploads the build to the stack's bucket (hashed assets cached for a year, index.html
revalidated on every visit), removes what the previous publish uploaded and this build no longer has (nothing
else in the bucket), asks CloudFront to fetch index.html again, and prints the SPA's URL.
"""


def add_spa(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    spa = commands.add_parser("spa", help="the students' single-page app the stack hosts (its SpaUrl output)")
    spa_commands = spa.add_subparsers(dest="spa_command", required=True)
    publish = spa_commands.add_parser(
        "publish",
        help="build the SPA with the stack's settings and upload it behind its CloudFront (default: dry run)",
        description=PUBLISH_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    publish.add_argument(
        "--client-id", help="the Auth0 SPA application's client id (default: the stack's SpaClientId parameter)"
    )
    publish.add_argument(
        "--purchase-url",
        help="where a student without courses can buy one (default: the stack's SpaPurchaseUrl parameter)",
    )
    publish.add_argument(
        "--apply", action="store_true", help="upload, remove the previous build's files, invalidate (default: dry run)"
    )
    publish.set_defaults(run=run_publish)


def run_publish(args: argparse.Namespace, settings: Settings) -> int:
    from ops import aws, spa_build, spa_upload

    hosting = settings.spa_hosting()
    values = spa_build.refuse_unusable(spa_settings(settings, client_id=args.client_id, purchase_url=args.purchase_url))
    require_cors(settings, hosting)
    s3, cloudfront = aws.s3(), aws.cloudfront()
    environment = settings.child_environment(values)
    if spa_build.install_packages(environment):
        print("spa: installed the SPA's npm packages (npm ci)")
    with tempfile.TemporaryDirectory(prefix="spa-publish-") as folder:
        out = Path(folder) / "dist"
        spa_build.build(out, environment)
        print("spa: built with " + ", ".join(f"{name}={value}" for name, value in values.items()))
        chosen = spa_upload.plan(spa_upload.built_files(out), spa_upload.published_before(s3, hosting.bucket))
        if not args.apply:
            print("\n".join(chosen.describe(hosting.bucket, done=False)))
            print(f"dry run: nothing uploaded; add --apply to publish {hosting.url}")
            return 0
        invalidation = spa_upload.publish(
            chosen, s3=s3, cloudfront=cloudfront, bucket=hosting.bucket, distribution_id=hosting.distribution_id
        )
    print("\n".join(chosen.describe(hosting.bucket, done=True)))
    paths = ", ".join(spa_upload.INVALIDATED)
    print(f"spa: invalidated {paths} on CloudFront distribution {hosting.distribution_id} ({invalidation})")
    print(f"published: {hosting.url}")
    return 0


def spa_settings(settings: Settings, *, client_id: str | None, purchase_url: str | None) -> list[SpaSetting]:
    """The five VITE_* settings from the stack (an option wins where there is one), each with where it comes from."""
    return [
        SpaSetting("VITE_AUTH0_DOMAIN", settings.auth0_base_url(), "the stack's Auth0Domain parameter"),
        SpaSetting(
            "VITE_AUTH0_CLIENT_ID",
            client_id or settings.spa_client_id(),
            "--client-id, or the stack's SpaClientId parameter",
        ),
        SpaSetting("VITE_AUTH0_AUDIENCE", settings.api_audience(), "the stack's Auth0Audience parameter"),
        SpaSetting("VITE_API_BASE_URL", settings.api_url(), "the stack's EndpointURL output"),
        SpaSetting(
            "VITE_PURCHASE_URL",
            purchase_url or settings.spa_purchase_url(),
            "--purchase-url, or the stack's SpaPurchaseUrl parameter",
        ),
    ]


def require_cors(settings: Settings, hosting: SpaHosting) -> None:
    """The API must answer the SPA's origin; the stack's template cannot say so itself (the SPA's CSP names the API,
    so the API cannot name the SPA's distribution without a circular dependency): CorsAllowOrigin does."""
    policy = settings.cors_policy()
    if policy.allow_origin(hosting.url) is None:
        given = ",".join(policy.allowed_origins) or "empty"
        raise NotConfigured(
            f"CorsAllowOrigin ({given}) does not allow the SPA's origin {hosting.url}: the API would refuse every call "
            f"the published SPA makes; deploy the stack again with --parameter-overrides CorsAllowOrigin={hosting.url}"
        )
