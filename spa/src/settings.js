// The SPA's five VITE_* settings and what makes one unusable: shared by the app (config.js, in the browser) and
// the build (vite.config.js, in Node), so that both judge a setting by the same rule.

export const NAMES = [
  "VITE_AUTH0_DOMAIN",
  "VITE_AUTH0_CLIENT_ID",
  "VITE_AUTH0_AUDIENCE",
  "VITE_API_BASE_URL",
  "VITE_PURCHASE_URL",
];

// `REPLACE...` is what the shipped examples hold; `<...>` is a documented command pasted without filling it in
// (the same rule as ops/placeholders.py).
const PLACEHOLDER = /REPLACE|^<[^<>]*>$/;

/**
 * What is wrong with each setting that cannot be built into an app a student uses: unset or blank, a placeholder,
 * or still the value `examples` (spa/.env.tenant.example) ships with.
 * @param {Record<string, string | undefined>} env the VITE_* variables as Vite resolved them
 * @param {Record<string, string>} [examples] the example file's values, by name
 * @returns {{name: string, problem: "missing" | "placeholder" | "example", value: string}[]}
 */
export function settingProblems(env, examples = {}) {
  return NAMES.flatMap((name) => {
    const value = String(env[name] ?? "").trim();
    if (!value) return [{ name, problem: "missing", value }];
    if (PLACEHOLDER.test(value)) return [{ name, problem: "placeholder", value }];
    if (examples[name] !== undefined && comparable(examples[name]) === comparable(value)) {
      return [{ name, problem: "example", value }];
    }
    return [];
  });
}

// The tenant is the same tenant with or without https:// (the SDK adds it), and a trailing slash changes nothing.
function comparable(value) {
  return value.trim().toLowerCase().replace(/^https:\/\//, "").replace(/\/+$/, "");
}

/**
 * Read a dotenv-style file's text (NAME=value lines; # comments) into an object.
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseEnvFile(text) {
  const values = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match && !line.trimStart().startsWith("#")) values[match[1]] = match[2];
  }
  return values;
}
