// The SPA's settings come from Vite env files only (.env.development for `make run`, .env.production.local for a
// real tenant); variables set in the environment when Vite runs win over the files (the browser tests rely on it).

import { settingProblems } from "./settings.js";

/** The scopes the SPA asks for: an ID token with the profile, and offline_access for a refresh token. */
export const SCOPE = "openid profile email offline_access";

/**
 * The ID token claim the post-login Action (actions/post-login.js) sets when a sign-in changed something or could
 * not be checked: {result: "linked"|"granted"|"unverified"|"unavailable", renew?: true, connection?: string}.
 */
export const SIGN_IN_CLAIM = "https://gumroad-auth0-gate/sign_in";

/** The ways in the signed-out screen offers: Auth0 connection names, passed to /authorize as `connection`. */
export const CONNECTIONS = { password: undefined, google: "google-oauth2", emailCode: "email" };

/**
 * Read and check the settings once.
 * @returns {{ok: true, domain: string, clientId: string, audience: string, apiBaseUrl: string, purchaseUrl: string}
 *   | {ok: false, missing: string[]}}
 */
export function readConfig(env = import.meta.env) {
  // A placeholder is as good as nothing: listed with the unset ones (the build refuses both, vite.config.js).
  const missing = settingProblems(env).map((found) => found.name);
  if (missing.length > 0) {
    return { ok: false, missing };
  }
  return {
    ok: true,
    domain: env.VITE_AUTH0_DOMAIN.trim(),
    clientId: env.VITE_AUTH0_CLIENT_ID.trim(),
    audience: env.VITE_AUTH0_AUDIENCE.trim(),
    // Without a trailing slash, so `${apiBaseUrl}/courses` never doubles it.
    apiBaseUrl: env.VITE_API_BASE_URL.trim().replace(/\/+$/, ""),
    purchaseUrl: env.VITE_PURCHASE_URL.trim(),
  };
}
