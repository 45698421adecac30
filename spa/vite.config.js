// The example SPA's build and dev server. `make run` starts `vite` on 127.0.0.1:3000: the origin the
// sandbox's SPA client and the local stage's CORS_ALLOW_ORIGIN allow (strictPort: never drift to 3001).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

import { parseEnvFile, settingProblems } from "./src/settings.js";

const EXAMPLE_FILE = ".env.tenant.example";
const SAID = {
  missing: () => "is not set",
  placeholder: (value) => `is a placeholder (${value})`,
  example: (value) => `is still the example value ${value} from ${EXAMPLE_FILE}`,
};

/**
 * `vite build` stops, naming each VITE_* setting that is unset, a placeholder or still the example's value: an app
 * built that way could only fail in a student's browser. The dev server (`make run`) is left alone: it shows the
 * "This app is not configured" screen instead.
 */
function refuseUnusableSettings() {
  return {
    name: "refuse-unusable-settings",
    apply: "build",
    configResolved(config) {
      const examples = parseEnvFile(readFileSync(fileURLToPath(new URL(EXAMPLE_FILE, import.meta.url)), "utf8"));
      const problems = settingProblems(config.env, examples);
      if (problems.length === 0) return;
      const listed = problems.map(({ name, problem, value }) => `${name} ${SAID[problem](value)}`).join("; ");
      const refused = new Error(
        `spa build refused: ${listed}. Set the real values in .env.production.local (copy ${EXAMPLE_FILE}) ` +
          "or in the environment; `ops spa publish` sets them from the stack.",
      );
      // Vite prints an error's stack: this one is the operator's to fix, so it says what and nothing else.
      refused.stack = `${refused.name}: ${refused.message}`;
      throw refused;
    },
  };
}

export default defineConfig({
  plugins: [refuseUnusableSettings(), react()],
  server: { host: "127.0.0.1", port: 3000, strictPort: true },
  preview: { host: "127.0.0.1", port: 3000, strictPort: true },
  build: { sourcemap: true },
});
