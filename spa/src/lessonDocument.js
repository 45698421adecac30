// A text lesson is HTML from the creator's bucket. It is shown in an iframe with the `sandbox` attribute and without
// `allow-scripts` or `allow-same-origin`: no script in it runs, and it gets an opaque origin of its own, so it can
// never read the SPA's page, its storage or its tokens, whatever the HTML says. What remains to do is make its links
// open in a new tab instead of inside the frame.

/** Kinds of lesson the page knows how to show; anything else from the API is left out. */
export const LESSON_KINDS = new Set(["text", "video", "file"]);

/**
 * The lessons of a course answer that the page can show, in the API's order: each with a string id and title, a
 * known kind, an http(s) URL and an expiry time. A malformed entry is dropped, never shown half-way.
 * @param {any} body the JSON of GET /courses/{slug}
 * @returns {{id: string, title: string, kind: string, url: string, expiresAt: number}[]}
 */
export function readLessons(body) {
  const lessons = Array.isArray(body?.lessons) ? body.lessons : [];
  return lessons.flatMap((lesson) => {
    const expiresAt = Date.parse(lesson?.expires_at);
    if (
      typeof lesson?.id !== "string" ||
      typeof lesson?.title !== "string" ||
      !LESSON_KINDS.has(lesson?.kind) ||
      !isWebAddress(lesson?.url) ||
      Number.isNaN(expiresAt)
    ) {
      return [];
    }
    return [{ id: lesson.id, title: lesson.title, kind: lesson.kind, url: lesson.url, expiresAt }];
  });
}

function isWebAddress(value) {
  if (typeof value !== "string") return false;
  try {
    // Never a javascript: or data: address in an href or src, whatever the answer holds.
    return ["https:", "http:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * The document an iframe's srcdoc shows for a text lesson: the creator's HTML, parsed (DOMParser runs no script),
 * with `<base target="_blank">` so that its links open in a new tab rather than inside the frame.
 * @param {string} html
 * @returns {string}
 */
export function framedLesson(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  parsed.querySelectorAll("base").forEach((element) => element.remove());
  const base = parsed.createElement("base");
  base.setAttribute("target", "_blank");
  parsed.head.prepend(base);
  return `<!doctype html>\n${parsed.documentElement.outerHTML}`;
}

/** The file name a download is saved under: the last part of the URL's path, as S3 was asked to name it. */
export function fileNameOf(url) {
  try {
    const path = new URL(url).pathname;
    return decodeURIComponent(path.slice(path.lastIndexOf("/") + 1)) || "download";
  } catch {
    return "download";
  }
}
