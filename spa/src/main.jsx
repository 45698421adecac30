import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Auth0Provider } from "@auth0/auth0-react";
// The SDK's token worker as a file of the build (assets/), not the Blob it makes by default: the hosted app's
// Content-Security-Policy then allows workers from its own origin only (worker-src 'self', never blob:).
import tokenWorkerUrl from "@auth0/auth0-spa-js/dist/auth0-spa-js.worker.production.js?url&no-inline";

import App from "./App.jsx";
import ErrorBoundary from "./ErrorBoundary.jsx";
import { ConfigProblem } from "./screens.jsx";
import { readConfig, SCOPE } from "./config.js";
import "./styles.css";

const config = readConfig();
const root = createRoot(document.getElementById("root"));

if (!config.ok) {
  root.render(<ConfigProblem missing={config.missing} />);
} else {
  root.render(
    <StrictMode>
      <Auth0Provider
        domain={config.domain}
        clientId={config.clientId}
        authorizationParams={{
          redirect_uri: window.location.origin,
          audience: config.audience,
          scope: SCOPE,
        }}
        // Refresh tokens (rotating: each use returns a new one) keep the student signed in without third-party
        // cookies, and give a short-lived access token its successor: that is when a refund takes effect.
        useRefreshTokens
        // "memory" (the default, said out loud): tokens never touch localStorage, and with useRefreshTokens the
        // SDK keeps the refresh token inside a Web Worker, out of reach of any script on the page. A reload
        // forgets them; the fallback below then asks the tenant once more, silently (prompt=none in a hidden
        // iframe, answered from the sign-in session cookie), so the student stays signed in.
        cacheLocation="memory"
        useRefreshTokensFallback
        workerUrl={tokenWorkerUrl}
      >
        {/* Inside the provider: a screen that fails to render is replaced, the sign-in (tokens in memory) stays. */}
        <ErrorBoundary>
          <App config={config} />
        </ErrorBoundary>
      </Auth0Provider>
    </StrictMode>,
  );
}
