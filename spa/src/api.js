// The course service's private routes, called with the access token the SDK hands out.
// Every outcome becomes one of a few kinds the screens know how to show; nothing throws past here
// except the SDK's own errors from getToken (the session is over: the caller signs the student out).

/** @typedef {{slug: string, title: string}} Course */

/**
 * @typedef {(
 *   {kind: "ok", body: any} |
 *   {kind: "unauthorized"} |
 *   {kind: "forbidden"} |
 *   {kind: "not_found"} |
 *   {kind: "unavailable", detail: string}
 * )} ApiResult
 */

const TIMEOUT_MS = 10_000;

/**
 * GET a private route with a bearer token.
 * @param {string} baseUrl the service, without a trailing slash
 * @param {string} path e.g. "/courses"
 * @param {string} token the access token for the API's audience
 * @returns {Promise<ApiResult>}
 */
export async function getPrivate(baseUrl, path, token) {
  let response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    // A refused connection, a CORS refusal and a timeout all look the same to a page: no answer.
    return { kind: "unavailable", detail: error?.name === "TimeoutError" ? "timeout" : "network" };
  }
  if (response.status === 401) return { kind: "unauthorized" };
  if (response.status === 403) return { kind: "forbidden" };
  if (response.status === 404) return { kind: "not_found" };
  if (!response.ok) return { kind: "unavailable", detail: `HTTP ${response.status}` };
  try {
    return { kind: "ok", body: await response.json() };
  } catch {
    return { kind: "unavailable", detail: "unreadable answer" };
  }
}

/**
 * Call a route; on 401 (the token expired or was refused) ask the SDK for a fresh token once and retry.
 * @param {(options?: object) => Promise<string>} getToken the SDK's getAccessTokenSilently
 * @param {string} baseUrl
 * @param {string} path
 * @param {{fresh?: boolean}} [options] fresh: skip the SDK's cache (a new token carries current permissions)
 * @returns {Promise<ApiResult>}
 */
export async function callApi(getToken, baseUrl, path, { fresh = false } = {}) {
  const first = await getPrivate(baseUrl, path, await getToken(fresh ? { cacheMode: "off" } : undefined));
  if (first.kind !== "unauthorized") return first;
  return getPrivate(baseUrl, path, await getToken({ cacheMode: "off" }));
}
