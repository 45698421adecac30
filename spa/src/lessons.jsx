// A course's lessons: the list in the catalogue's order, and the open lesson. Each lesson arrives with a pre-signed
// URL that expires (`expiresAt`); the course is re-read every 30 s while the tab is visible and whenever it becomes
// visible again, which gives every lesson a fresh URL. A URL can still expire under a lesson that is open (a
// sleeping laptop, a long video): S3 then refuses it with 403, and the lesson asks for the course again
// (`renew`, no page reload) and carries on with its fresh URL, once; a second refusal is shown, with a way to retry.
import { useCallback, useEffect, useRef, useState } from "react";

import { fileNameOf, framedLesson } from "./lessonDocument.js";

const KIND_LABELS = { text: "Reading", video: "Video", file: "Download" };
const FETCH_TIMEOUT_MS = 15_000;
// A download whose URL expires sooner than this is renewed before the browser follows it.
const DOWNLOAD_MARGIN_MS = 5_000;

/**
 * @param {{lessons: {id: string, title: string, kind: string, url: string, expiresAt: number}[],
 *   renew: () => Promise<{lessons: object[]} | null>}} props
 */
export function Lessons({ lessons, renew }) {
  const [openId, setOpenId] = useState(lessons[0]?.id ?? null);
  if (lessons.length === 0) {
    return (
      <p className="lesson-empty" data-testid="no-lessons">
        No lessons yet: the first one will appear here.
      </p>
    );
  }
  const open = lessons.find((lesson) => lesson.id === openId) ?? lessons[0];
  return (
    <div className="lessons">
      <nav aria-labelledby="lessons-title">
        <h2 id="lessons-title" className="lessons-title">
          Lessons
        </h2>
        <ol className="lesson-list" aria-label="Lessons">
          {lessons.map((lesson, index) => (
            <li key={lesson.id}>
              <button
                type="button"
                className="lesson-item"
                aria-current={lesson.id === open.id ? "true" : undefined}
                onClick={() => setOpenId(lesson.id)}
              >
                <span className="lesson-number" aria-hidden="true">
                  {index + 1}
                </span>
                <span className="lesson-name">{lesson.title}</span>
                <span className="lesson-kind">{KIND_LABELS[lesson.kind]}</span>
              </button>
            </li>
          ))}
        </ol>
      </nav>
      {/* keyed by id: another lesson starts from a clean state (no half-read text, no old video) */}
      <LessonPane key={open.id} lesson={open} renew={renew} />
    </div>
  );
}

function LessonPane({ lesson, renew }) {
  const renewThis = useCallback(async () => {
    const fresh = await renew();
    return fresh?.lessons.find((candidate) => candidate.id === lesson.id) ?? null;
  }, [renew, lesson.id]);
  return (
    <section className="lesson" aria-labelledby="lesson-title" data-lesson-kind={lesson.kind}>
      <p className="eyebrow">{KIND_LABELS[lesson.kind]}</p>
      <h2 id="lesson-title" className="lesson-title">
        {lesson.title}
      </h2>
      {lesson.kind === "text" ? <TextLesson lesson={lesson} renew={renewThis} /> : null}
      {lesson.kind === "video" ? <VideoLesson lesson={lesson} renew={renewThis} /> : null}
      {lesson.kind === "file" ? <FileLesson lesson={lesson} renew={renewThis} /> : null}
    </section>
  );
}

/** Read once with fetch (the bucket's CORS rule allows the SPA's origin), then shown in a sandboxed frame. */
function TextLesson({ lesson, renew }) {
  const [state, setState] = useState({ status: "loading" });
  const [attempt, setAttempt] = useState(0);
  const first = useRef(lesson.url);

  useEffect(() => {
    let current = true;
    (async () => {
      let result = await readText(first.current);
      if (result.kind === "refused") {
        // Expired while the page was open (or refused): one fresh URL, then the answer stands.
        const fresh = await renew();
        if (!current) return;
        if (fresh) {
          first.current = fresh.url;
          result = await readText(fresh.url);
        }
      }
      if (!current) return;
      setState(result.kind === "ok" ? { status: "ready", document: framedLesson(result.text) } : { status: "failed" });
    })();
    return () => {
      current = false;
    };
  }, [attempt, renew]);

  if (state.status === "loading") return <p className="lesson-loading">Loading the lesson…</p>;
  if (state.status === "failed") {
    return (
      <LessonProblem onRetry={() => setAttempt((count) => count + 1)}>This lesson could not be loaded.</LessonProblem>
    );
  }
  return (
    <iframe
      className="lesson-frame"
      title={lesson.title}
      // No allow-scripts, no allow-same-origin: the creator's HTML is shown, never run, in an origin of its own.
      sandbox="allow-popups allow-popups-to-escape-sandbox"
      referrerPolicy="no-referrer"
      srcDoc={state.document}
    />
  );
}

async function readText(url) {
  let response;
  try {
    response = await fetch(url, {
      credentials: "omit",
      referrerPolicy: "no-referrer",
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch {
    return { kind: "unavailable" };
  }
  if (response.status === 403) return { kind: "refused" };
  if (!response.ok) return { kind: "unavailable" };
  try {
    return { kind: "ok", text: await response.text() };
  } catch {
    return { kind: "unavailable" };
  }
}

/** A <video> on the signed URL; when S3 refuses it (expired), a fresh URL resumes where the student was. */
function VideoLesson({ lesson, renew }) {
  const video = useRef(null);
  const [src, setSrc] = useState(lesson.url);
  const [failed, setFailed] = useState(false);
  // Set while a refused URL is being replaced: where to resume, and whether this URL is already a replacement.
  const resume = useRef(null);
  const replaced = useRef(false);

  const onError = async () => {
    const element = video.current;
    if (!element || resume.current) return;
    if (replaced.current) {
      setFailed(true);
      return;
    }
    resume.current = { time: element.currentTime, playing: !element.paused };
    const fresh = await renew();
    if (!fresh) {
      resume.current = null;
      setFailed(true);
      return;
    }
    replaced.current = true;
    setSrc(fresh.url);
  };

  const onLoadedMetadata = () => {
    const element = video.current;
    const at = resume.current;
    if (!element || !at) return;
    resume.current = null;
    element.currentTime = at.time;
    if (at.playing) element.play().catch(() => {});
  };

  const retry = () => {
    replaced.current = false;
    setFailed(false);
    onError();
  };

  return (
    <>
      <video
        ref={video}
        className="lesson-video"
        src={src}
        controls
        preload="metadata"
        playsInline
        onError={onError}
        onLoadedMetadata={onLoadedMetadata}
        // Playing again means this URL works: a later expiry may be renewed once more.
        onPlaying={() => {
          replaced.current = false;
        }}
      >
        Your browser cannot play this video.
      </video>
      {failed ? <LessonProblem onRetry={retry}>This video cannot be played right now.</LessonProblem> : null}
    </>
  );
}

/** A link S3 answers with `Content-Disposition: attachment`: the browser saves the file. */
function FileLesson({ lesson, renew }) {
  const [state, setState] = useState("idle");
  const name = fileNameOf(lesson.url);

  const onClick = async (event) => {
    if (lesson.expiresAt - Date.now() > DOWNLOAD_MARGIN_MS) return; // fresh: the browser follows the link
    event.preventDefault();
    setState("renewing");
    const fresh = await renew();
    if (!fresh) {
      setState("failed");
      return;
    }
    setState("idle");
    window.location.assign(fresh.url); // an attachment: the browser saves it and stays on this page
  };

  return (
    <div className="lesson-file">
      <p>
        <code>{name}</code>
      </p>
      <a className="button button-primary" href={lesson.url} download={name} onClick={onClick}>
        {state === "renewing" ? "Preparing…" : "Download"} <span className="visually-hidden">{lesson.title}</span>
      </a>
      {state === "failed" ? (
        <LessonProblem onRetry={() => setState("idle")}>The download could not be prepared.</LessonProblem>
      ) : null}
    </div>
  );
}

function LessonProblem({ children, onRetry }) {
  return (
    <div className="notice notice-error lesson-problem" role="alert">
      <p>{children} Check your connection and try again.</p>
      <button type="button" className="button" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}
