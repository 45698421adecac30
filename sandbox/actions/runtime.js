// The sandbox's Actions runtime: a long-lived Node process that runs post-login Actions the way Auth0 does.
// stdin, one JSON per line: {"id", "code", "filename", "event", "timeout_ms"}.
// stdout, one JSON per line: {"id", "commands": [...], "logs": [...], "error": null|"..."}.
// The api object is the documented one (actions/post-login.test.js holds the Action to it); the checks mirror
// Auth0's runtime: setPrimaryUser once per transaction and a non-empty id, custom claims never a reserved name.
"use strict";

const { AsyncLocalStorage } = require("node:async_hooks");
const Module = require("node:module");
const path = require("node:path");
const readline = require("node:readline");

// Registered and Auth0-owned claims an Action may not set (the OIDC/JWT ones, and what Auth0 computes).
const RESERVED_CLAIMS = new Set([
  "acr", "amr", "at_hash", "aud", "auth_time", "azp", "c_hash", "exp", "gty", "iat", "iss", "jti", "nbf", "nonce",
  "org_id", "org_name", "permissions", "scope", "sid", "sub",
]);
const RESERVED_NAMESPACES = [/^https?:\/\/([^/]+\.)?auth0\.com(\/|$)/i, /^https?:\/\/([^/]+\.)?webtask\.(io|run)(\/|$)/i];

function assertSettableClaim(key) {
  if (typeof key !== "string" || key.length === 0) throw new Error("The custom claim name must be a non-empty string");
  if (RESERVED_CLAIMS.has(key) || RESERVED_NAMESPACES.some((pattern) => pattern.test(key))) {
    throw new Error(`Cannot set the custom claim "${key}": it is reserved`);
  }
}

function unsupported(name) {
  return () => {
    throw new Error(`${name} is not supported by the sandbox's Actions runtime`);
  };
}

function postLoginApi(commands) {
  let primaryUserSet = false;
  const api = {
    access: {
      deny(reason) {
        commands.push(["deny", String(reason)]);
        return api;
      },
    },
    accessToken: {
      setCustomClaim(key, value) {
        assertSettableClaim(key);
        commands.push(["access_claim", key, value]);
        return api;
      },
      addScope: unsupported("api.accessToken.addScope"),
      removeScope: unsupported("api.accessToken.removeScope"),
    },
    idToken: {
      setCustomClaim(key, value) {
        assertSettableClaim(key);
        commands.push(["id_claim", key, value]);
        return api;
      },
    },
    authentication: {
      setPrimaryUser(primaryUserId) {
        if (primaryUserSet) throw new Error("The primary user can only be altered once per transaction");
        if (typeof primaryUserId !== "string" || primaryUserId.length === 0) {
          throw new Error("The provided primary_user_id must be a non-empty string");
        }
        primaryUserSet = true;
        commands.push(["primary_user", primaryUserId]);
      },
      challengeWith: unsupported("api.authentication.challengeWith"),
      challengeWithAny: unsupported("api.authentication.challengeWithAny"),
      enrollWith: unsupported("api.authentication.enrollWith"),
      enrollWithAny: unsupported("api.authentication.enrollWithAny"),
      recordMethod: unsupported("api.authentication.recordMethod"),
    },
    user: {
      setAppMetadata(key, value) {
        commands.push(["app_metadata", key, value === undefined ? null : value]);
        return api;
      },
      setUserMetadata(key, value) {
        commands.push(["user_metadata", key, value === undefined ? null : value]);
        return api;
      },
    },
    multifactor: { enable: unsupported("api.multifactor.enable") },
    redirect: {
      sendUserTo: unsupported("api.redirect.sendUserTo"),
      encodeToken: unsupported("api.redirect.encodeToken"),
      validateToken: unsupported("api.redirect.validateToken"),
    },
    prompt: { render: unsupported("api.prompt.render") },
  };
  return api;
}

// Every console line goes to the execution it was written in (executions run side by side in this process).
const executions = new AsyncLocalStorage();
function keep(...parts) {
  const logs = executions.getStore();
  const line = parts.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join(" ");
  if (logs) logs.push(line);
}
console.log = keep;
console.info = keep;
console.warn = keep;
console.error = keep;

// A warm container keeps an Action's module between executions, as Auth0's does: compiled once per code.
const compiled = new Map();
function handlerOf(code, filename) {
  const key = `${filename}\n${code}`;
  if (!compiled.has(key)) {
    const action = new Module(filename, null);
    action.filename = filename;
    action.paths = Module._nodeModulePaths(path.dirname(filename));
    action._compile(code, filename);
    compiled.set(key, action.exports.onExecutePostLogin);
  }
  const handler = compiled.get(key);
  if (typeof handler !== "function") throw new Error("The Action does not export onExecutePostLogin");
  return handler;
}

async function execute(request) {
  const commands = [];
  const logs = [];
  let error = null;
  let timer;
  try {
    const handler = handlerOf(request.code, request.filename);
    const timedOut = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("Script execution time exceeded")), request.timeout_ms);
    });
    await executions.run(logs, () => Promise.race([handler(request.event, postLoginApi(commands)), timedOut]));
  } catch (failure) {
    error = failure && failure.message ? String(failure.message) : String(failure);
  } finally {
    clearTimeout(timer);
  }
  return { id: request.id, commands, logs, error };
}

// One request per line on stdin, one answer per line on stdout, in whatever order they finish.
const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    return;
  }
  execute(request).then((answer) => process.stdout.write(`${JSON.stringify(answer)}\n`));
});
// The sandbox closed the pipe (it stopped, or died): nothing more will come.
lines.on("close", () => process.exit(0));
