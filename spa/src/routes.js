// What the address's hash asks for. It comes from the address bar (a link in an e-mail, a typo, someone's
// experiment), so nothing in it is trusted: only a real course slug ever becomes part of an API request.

/**
 * @typedef {(
 *   {kind: "list"} |
 *   {kind: "course", slug: string} |
 *   {kind: "not_a_course", shown: string}
 * )} Route
 */

// The catalogue's slug rule (chalicelib/catalogue.py, _SLUG; tests/browser/test_course_addresses.py holds them
// equal): every course the service knows obeys it, and a string that does needs no escaping in a URL path.
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const COURSES = "#/courses/";
// Enough of a refused address to recognise it on the "No such course" screen.
const SHOWN_LENGTH = 80;

/**
 * `#/courses/<slug>` is one course, anything else under `#/courses/` is no course, every other hash is the list.
 * The segment is checked as it stands, before any decoding: a slug has nothing to decode, and decoding is what
 * throws on a malformed escape (`%E0%A4%A`) or turns `%2E%2E` into `..`.
 * @param {string} hash window.location.hash
 * @returns {Route}
 */
export function routeOf(hash) {
  if (!hash.startsWith(COURSES)) return { kind: "list" };
  const segment = hash.slice(COURSES.length);
  if (SLUG.test(segment)) return { kind: "course", slug: segment };
  return { kind: "not_a_course", shown: readable(segment) };
}

/** The refused segment as a person would type it, for display only (React escapes it; it is never requested). */
function readable(segment) {
  let text;
  try {
    text = decodeURIComponent(segment);
  } catch {
    text = segment;
  }
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}…` : text;
}
