// node --test actions/: the post-login Action against a real HTTP server on 127.0.0.1 standing in for the service,
// with Auth0's event (tests/fixtures/auth0/post_login_event.json, the documented shape) and an api object that
// records what the Action asks for, with the checks Auth0's runtime makes (setPrimaryUser: once, a non-empty id).

const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { describe, test } = require("node:test");

const { onExecutePostLogin } = require("./post-login.js");

const CLAIM = "https://gumroad-auth0-gate/sign_in";
const SECRET = "test-post-login-secret-0123456789";
const EVENT = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "tests", "fixtures", "auth0", "post_login_event.json"), "utf8"),
);

function eventWith({ secrets = {}, user = {}, transaction = {}, connection = {} } = {}) {
  const event = structuredClone(EVENT);
  event.secrets = secrets;
  Object.assign(event.user, user);
  Object.assign(event.transaction, transaction);
  Object.assign(event.connection, connection);
  return event;
}

/** The post-login api object, recording every command (only the parts the Action may use exist). */
function recordingApi() {
  const calls = { idClaims: {}, accessClaims: {}, primaryUser: null, denied: null };
  const api = {
    access: {
      deny(reason) {
        calls.denied = reason;
        return api;
      },
    },
    accessToken: {
      setCustomClaim(key, value) {
        calls.accessClaims[key] = value;
        return api;
      },
    },
    idToken: {
      setCustomClaim(key, value) {
        calls.idClaims[key] = value;
        return api;
      },
    },
    authentication: {
      setPrimaryUser(primaryUserId) {
        if (calls.primaryUser !== null) throw new Error("The primary user can only be altered once per transaction");
        if (typeof primaryUserId !== "string" || primaryUserId.length === 0) {
          throw new Error("The provided primary_user_id must be a non-empty string");
        }
        calls.primaryUser = primaryUserId;
      },
    },
  };
  return { api, calls };
}

/** The service, on an ephemeral loopback port: answers with `reply(request, body)` and keeps what it received. */
async function service(reply) {
  const received = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ method: request.method, url: request.url, headers: request.headers, body });
      reply(request, body, response);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/auth0/post-login`;
  return {
    url,
    received,
    secrets: { POST_LOGIN_URL: url, POST_LOGIN_SECRET: SECRET },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function answering(status, payload) {
  return (request, body, response) => {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(typeof payload === "string" ? payload : JSON.stringify(payload));
  };
}

async function run(event) {
  const { api, calls } = recordingApi();
  const logged = [];
  const original = console.log;
  console.log = (...parts) => logged.push(parts.join(" "));
  try {
    await onExecutePostLogin(event, api);
  } finally {
    console.log = original;
  }
  return { calls, logged };
}

// Independent of each other (each has its own server): run together, so the 5 s deadline is waited once.
describe("the post-login Action", { concurrency: true }, () => {
  test("an interactive sign-in posts only the user id, with the secret as a Bearer token", async () => {
    const stub = await service(answering(200, { result: "none" }));
    try {
      const { calls } = await run(eventWith({ secrets: stub.secrets }));

      assert.equal(stub.received.length, 1);
      const [request] = stub.received;
      assert.equal(request.method, "POST");
      assert.equal(request.url, "/auth0/post-login");
      assert.equal(request.headers.authorization, `Bearer ${SECRET}`);
      assert.match(request.headers["content-type"], /^application\/json/);
      assert.deepEqual(JSON.parse(request.body), { user_id: "google-oauth2|108234567890123456789" });
      assert.deepEqual(calls, { idClaims: {}, accessClaims: {}, primaryUser: null, denied: null });
    } finally {
      await stub.close();
    }
  });

  for (const protocol of ["oauth2-refresh-token", "oauth2-password"]) {
    test(`a token-endpoint login (${protocol}) calls nothing and changes nothing`, async () => {
      const answer = { result: "linked", primary_user_id: "auth0|6560a1f0c2e4b0a1b2c3d4e5" };
      const stub = await service(answering(200, answer));
      try {
        const event = eventWith({ secrets: stub.secrets, transaction: { protocol } });
        const { calls } = await run(event);

        assert.equal(stub.received.length, 0);
        assert.deepEqual(calls, { idClaims: {}, accessClaims: {}, primaryUser: null, denied: null });
      } finally {
        await stub.close();
      }
    });
  }

  test("the user holding the purchases signs in without a call", async () => {
    const stub = await service(answering(200, { result: "none" }));
    try {
      const holder = { app_metadata: { purchase_holder: { v: 1, created_by_service: true } } };
      const { calls } = await run(eventWith({ secrets: stub.secrets, user: holder }));

      assert.equal(stub.received.length, 0);
      assert.deepEqual(calls.idClaims, {});
    } finally {
      await stub.close();
    }
  });

  test("a linked identity switches the login to the primary user and asks the app to renew its token", async () => {
    const primary = "auth0|6560a1f0c2e4b0a1b2c3d4e5";
    const stub = await service(answering(200, { result: "linked", primary_user_id: primary }));
    try {
      const { calls } = await run(eventWith({ secrets: stub.secrets }));

      assert.equal(calls.primaryUser, primary);
      assert.deepEqual(calls.idClaims, { [CLAIM]: { result: "linked", renew: true } });
      assert.equal(calls.denied, null);
    } finally {
      await stub.close();
    }
  });

  test("purchases granted during the login ask the app to renew its token, with no switch", async () => {
    const stub = await service(answering(200, { result: "granted" }));
    try {
      const { calls } = await run(eventWith({ secrets: stub.secrets }));

      assert.equal(calls.primaryUser, null);
      assert.deepEqual(calls.idClaims, { [CLAIM]: { result: "granted", renew: true } });
    } finally {
      await stub.close();
    }
  });

  test("an unverified address completes the login with the reason and the connection, and links nothing", async () => {
    const stub = await service(answering(200, { result: "unverified" }));
    try {
      const { calls } = await run(eventWith({ secrets: stub.secrets, user: { email_verified: false } }));

      assert.equal(calls.primaryUser, null);
      assert.equal(calls.denied, null);
      assert.deepEqual(calls.idClaims, { [CLAIM]: { result: "unverified", connection: "google-oauth2" } });
    } finally {
      await stub.close();
    }
  });

  test("a service slower than 5 s is given up on in time, and the login completes", async () => {
    const stub = await service(() => {}); // never answers
    try {
      const started = Date.now();
      const { calls } = await run(eventWith({ secrets: stub.secrets }));
      const waited = Date.now() - started;

      assert.ok(waited >= 4900 && waited < 7000, `waited ${waited} ms`);
      assert.deepEqual(calls.idClaims, { [CLAIM]: { result: "unavailable" } });
      assert.equal(calls.denied, null);
    } finally {
      stub.received.length = 0;
      await stub.close().catch(() => {});
    }
  });

  for (const [name, status, payload] of [
    ["a 401 (a wrong secret)", 401, { error: "unauthorized", error_description: "..." }],
    ["a 503 (Auth0 unavailable behind the service)", 503, { error: "upstream_unavailable", error_description: "..." }],
    ["an answer that is not JSON", 200, "<html>gateway</html>"],
    ["an unknown result", 200, { result: "grant_everything" }],
    ["a switch to no one", 200, { result: "linked", primary_user_id: "" }],
    ["a switch to the same user", 200, { result: "linked", primary_user_id: "google-oauth2|108234567890123456789" }],
    ["a redirect", 302, {}],
  ]) {
    test(`${name} changes nothing and says the service was unavailable`, async () => {
      const stub = await service((request, body, response) => {
        const headers = { "Content-Type": "application/json" };
        if (status === 302) headers.Location = "http://127.0.0.1:9/elsewhere";
        response.writeHead(status, headers);
        response.end(typeof payload === "string" ? payload : JSON.stringify(payload));
      });
      try {
        const { calls } = await run(eventWith({ secrets: stub.secrets }));

        assert.equal(stub.received.length, 1);
        assert.equal(calls.primaryUser, null);
        assert.equal(calls.denied, null);
        assert.deepEqual(calls.idClaims, { [CLAIM]: { result: "unavailable" } });
      } finally {
        await stub.close();
      }
    });
  }

  test("a missing secret is never sent without one, and the login completes", async () => {
    const stub = await service(answering(200, { result: "none" }));
    try {
      const { calls } = await run(eventWith({ secrets: { POST_LOGIN_URL: stub.url } }));

      assert.equal(stub.received.length, 0);
      assert.deepEqual(calls.idClaims, { [CLAIM]: { result: "unavailable" } });
    } finally {
      await stub.close();
    }
  });
});

// These read console.log, which is global: they run one at a time, after the suite above.
describe("the post-login Action, watching its log", () => {
  test("a service that refuses the connection lets the login complete, with the reason and no secret in the log", async () => {
    const stub = await service(answering(200, { result: "none" }));
    const { secrets } = stub;
    await stub.close(); // nothing listens on that port any more
    const { calls, logged } = await run(eventWith({ secrets }));

    assert.equal(calls.denied, null);
    assert.equal(calls.primaryUser, null);
    assert.deepEqual(calls.idClaims, { [CLAIM]: { result: "unavailable" } });
    assert.ok(logged.length > 0);
    assert.ok(logged.every((line) => !line.includes(SECRET)));
  });

  for (const [name, url] of [
    ["plain http to a host that is not loopback", "http://192.0.2.1/auth0/post-login"],
    ["a URL carrying credentials", "https://user:pass@courses.example.com/auth0/post-login"],
    ["no URL at all", undefined],
    ["something that is not a URL", "courses.example.com/auth0/post-login"],
  ]) {
    test(`${name} is never called, and the login completes`, async () => {
      const started = Date.now();
      const { calls, logged } = await run(eventWith({ secrets: { POST_LOGIN_URL: url, POST_LOGIN_SECRET: SECRET } }));

      assert.ok(Date.now() - started < 1000, "the Action tried to reach it");
      assert.deepEqual(calls.idClaims, { [CLAIM]: { result: "unavailable" } });
      assert.ok(logged.some((line) => line.includes("POST_LOGIN_URL")));
      assert.ok(logged.every((line) => !line.includes(SECRET)));
    });
  }
});
