/**
 * Auth0 post-login Action: every interactive sign-in asks the course service whether this identity belongs to a
 * buyer's one account, and switches the login to that account when the service linked it.
 *
 * Runs in Auth0 (Node 22), deployed by `ops tenant apply`; the sandbox runs this very file for local sign-ins.
 * No dependencies: Node's fetch and AbortSignal.timeout are enough.
 *
 * Secrets (Auth0 keeps them with the Action; never logged):
 *   POST_LOGIN_URL     the service's POST /auth0/post-login, https:// (http:// only for a loopback host)
 *   POST_LOGIN_SECRET  the shared secret the service compares in constant time (Bearer)
 *
 * What the login gets, as the ID token claim CLAIM (the example SPA reads it):
 *   {result: "linked", renew: true}     this identity joined the buyer's account; tokens are for that account
 *   {result: "granted", renew: true}    purchases held for this address were granted during this login
 *   {result: "unverified", connection}  the address is not verified: no courses through this sign-in
 *   {result: "unavailable"}             the service did not answer in time: the login completes without changes
 * "renew": the courses changed during this login, so this login's access token may not carry them yet (Auth0 may
 * compute permissions when the login starts): the app asks for a fresh token once.
 */

const CLAIM = "https://gumroad-auth0-gate/sign_in";
// Auth0 stops an Action after 20 s; the service answers well inside 5 s or the login goes on without it.
const DEADLINE_MS = 5000;
// Set by the service on the user that holds a buyer's purchases: nothing to link, no call to make.
const HOLDER_KEY = "purchase_holder";
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/;
const RESULTS = new Set(["none", "linked", "granted", "unverified"]);
// Logins at the token endpoint that are no one at a login page: a refresh-token exchange (it must stay cheap; the
// account was settled when its owner signed in) and the password grant of scripts (`POST /login`; the next sign-in
// in a browser settles the account). `event.transaction.protocol`, as Auth0 documents it.
const NOT_A_SIGN_IN = new Set(["oauth2-refresh-token", "oauth2-password", "oauth2-resource-owner"]);

exports.onExecutePostLogin = async (event, api) => {
  if (event.transaction && NOT_A_SIGN_IN.has(event.transaction.protocol)) return;
  if (isHolder(event.user)) return;

  const target = serviceUrl(event.secrets && event.secrets.POST_LOGIN_URL);
  const secret = event.secrets && event.secrets.POST_LOGIN_SECRET;
  if (!target || typeof secret !== "string" || secret.length === 0) {
    console.log("post-login: POST_LOGIN_URL (https://) and POST_LOGIN_SECRET must be set; the login goes on unchanged");
    api.idToken.setCustomClaim(CLAIM, { result: "unavailable" });
    return;
  }

  const answer = await askService(target, secret, event.user.user_id);
  if (answer === null) {
    api.idToken.setCustomClaim(CLAIM, { result: "unavailable" });
    return;
  }
  if (answer.result === "linked") {
    api.authentication.setPrimaryUser(answer.primary_user_id);
    api.idToken.setCustomClaim(CLAIM, { result: "linked", renew: true });
  } else if (answer.result === "granted") {
    api.idToken.setCustomClaim(CLAIM, { result: "granted", renew: true });
  } else if (answer.result === "unverified") {
    api.idToken.setCustomClaim(CLAIM, { result: "unverified", connection: connectionName(event) });
  }
};

function isHolder(user) {
  const holder = user && user.app_metadata && user.app_metadata[HOLDER_KEY];
  return typeof holder === "object" && holder !== null;
}

/** The service's URL, or null: https only, http for a loopback host (the sandbox), no credentials in it. */
function serviceUrl(value) {
  if (typeof value !== "string") return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.username || url.password) return null;
  if (url.protocol === "https:") return url.href;
  if (url.protocol === "http:" && LOOPBACK_HOST.test(url.hostname)) return url.href;
  return null;
}

/** POST the user id (nothing else: the service re-reads the user from Auth0); null when no usable answer came. */
async function askService(target, secret, userId) {
  let response;
  try {
    response = await fetch(target, {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: userId }),
      // A redirect could carry the secret elsewhere: the service never answers with one.
      redirect: "error",
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
  } catch (error) {
    console.log(`post-login: the service did not answer (${error && error.name ? error.name : "error"})`);
    return null;
  }
  if (response.status !== 200) {
    console.log(`post-login: the service answered ${response.status}`);
    return null;
  }
  let answer;
  try {
    answer = await response.json();
  } catch {
    console.log("post-login: the service's answer is not JSON");
    return null;
  }
  if (!isAnswer(answer, userId)) {
    console.log("post-login: the service's answer has an unexpected shape");
    return null;
  }
  return answer;
}

function isAnswer(answer, userId) {
  if (typeof answer !== "object" || answer === null || !RESULTS.has(answer.result)) return false;
  if (answer.result !== "linked") return true;
  const primary = answer.primary_user_id;
  return typeof primary === "string" && primary.length > 0 && primary !== userId;
}

function connectionName(event) {
  return event.connection && typeof event.connection.name === "string" ? event.connection.name : "unknown";
}
