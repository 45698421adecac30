import { useCallback, useEffect, useRef, useState } from "react";
import { useAuth0 } from "@auth0/auth0-react";

import { callApi } from "./api.js";
import { SIGN_IN_CLAIM } from "./config.js";
import { readLessons } from "./lessonDocument.js";
import { Lessons } from "./lessons.jsx";
import { routeOf } from "./routes.js";
import {
  BackLink,
  CourseList,
  CourseLocked,
  CourseMissing,
  CourseOpen,
  Header,
  Page,
  RemovedNotice,
  SignedOut,
  SignInNotice,
  Splash,
  Unreachable,
} from "./screens.jsx";

// While the tab is visible the courses are re-read this often, besides every time the tab regains focus: a
// refund shows up without the student doing anything, once the access token they hold has been replaced.
const RECHECK_MS = 30_000;

// Every tab of the app on this browser hears a sign-out on this channel (BroadcastChannel: same origin only).
const SIGN_OUT_CHANNEL = "course-library:sign-out";

// SDK errors that mean "there is no usable sign-in any more": the student has to sign in again.
const SESSION_OVER = new Set([
  "login_required",
  "consent_required",
  "interaction_required",
  "missing_refresh_token",
  "invalid_grant",
]);

export default function App({ config }) {
  const { isLoading, isAuthenticated, error, user, loginWithRedirect, logout } = useAuth0();
  const [problem, setProblem] = useState(null);
  const [note, setNote] = useState(null);
  const tellOtherTabs = useSignOutInOtherTabs(isAuthenticated, logout, setNote);

  // connection: undefined (the tenant's login page: a password), "google-oauth2" or "email" (a code by e-mail).
  const signIn = (connection) => {
    setProblem(null);
    setNote(null);
    loginWithRedirect(connection ? { authorizationParams: { connection } } : undefined);
  };
  const signInResult = useSignInResult(isAuthenticated ? user : null);
  const signOut = () => {
    tellOtherTabs();
    logout({ logoutParams: { returnTo: window.location.origin } });
  };
  const endSession = useCallback(
    async (message) => {
      setProblem(message);
      await logout({ openUrl: false });
    },
    [logout],
  );

  let body;
  if (isLoading) {
    body = <Splash text="Loading…" />;
  } else if (!isAuthenticated) {
    body = <SignedOut onSignIn={signIn} problem={problem ?? describeSignInError(error)} note={note} />;
  } else {
    body = (
      <>
        <SignInNotice result={signInResult} email={user?.email ?? ""} />
        <Library config={config} onSessionOver={endSession} renewFirst={signInResult?.renew === true} />
      </>
    );
  }
  return (
    <>
      <Header email={isAuthenticated ? (user?.email ?? user?.name ?? "") : null} onSignOut={signOut} />
      <Page>{body}</Page>
    </>
  );
}

/**
 * Signing out in one tab signs the student out in every other tab of the app. The tenant's session is gone for all
 * of them already, but each tab keeps its own tokens in memory (and its refresh token in the SDK's worker), which
 * would keep opening courses there until they expire: each tab that hears the sign-out forgets them
 * (`logout({openUrl: false})` clears the SDK's cache and worker, without leaving the page) and shows the signed-out
 * screen. Returns what the signing-out tab calls to tell the others.
 */
function useSignOutInOtherTabs(isAuthenticated, logout, setNote) {
  const channel = useRef(null);
  const signedIn = useRef(isAuthenticated);
  useEffect(() => {
    signedIn.current = isAuthenticated;
  }, [isAuthenticated]);
  useEffect(() => {
    const opened = new BroadcastChannel(SIGN_OUT_CHANNEL);
    opened.onmessage = (event) => {
      // A tab still signing in (or already out) has nothing to forget: the tenant's session is gone for it too.
      if (event.data?.type !== "signed-out" || !signedIn.current) return;
      setNote("You signed out in another tab.");
      logout({ openUrl: false });
    };
    channel.current = opened;
    return () => {
      channel.current = null;
      opened.close();
    };
  }, [logout, setNote]);
  return useCallback(() => channel.current?.postMessage({ type: "signed-out" }), []);
}

/**
 * What the post-login Action said about this sign-in (SIGN_IN_CLAIM), kept for the whole visit: the ID token
 * that carries it is replaced at the first token renewal, and the student still needs to read why.
 */
function useSignInResult(user) {
  // Read while rendering, not in an effect: the first course request must already know whether to renew.
  const latched = useRef(null);
  const claim = user?.[SIGN_IN_CLAIM];
  if (user === null) latched.current = null;
  else if (claim && typeof claim === "object" && typeof claim.result === "string") latched.current = claim;
  return latched.current;
}

function describeSignInError(error) {
  if (!error) return null;
  // The tenant's own words (e.g. "access_denied: user is blocked"), never a token or a URL.
  return `Sign-in did not complete: ${error.message || "unknown error"}. Please try again.`;
}

/**
 * Signed in: the course list, or one course, following the URL's hash (#/ or #/courses/<slug>).
 * renewFirst: the courses changed during this sign-in (an account linked, purchases granted), and the access token
 * it gave may predate that: the first read asks for a fresh one.
 */
function Library({ config, onSessionOver, renewFirst }) {
  const call = useApi(config, onSessionOver, renewFirst);
  const route = useHashRoute();
  // Only a real slug is ever asked for: an address that is not one shows "No such course" without a request.
  const slug = route.kind === "course" ? route.slug : null;
  const list = useCourseList(call);
  const course = useCourse(slug, call, list.markLocked);

  const recheck = useCallback(() => {
    list.load();
    course.load();
  }, [list.load, course.load]);
  useWhenVisibleAgain(recheck);
  // Back on the list from a course: read it again (the course may have been locked meanwhile).
  const onList = route.kind === "list";
  useEffect(() => {
    if (onList) list.load();
  }, [onList, list.load]);

  if (route.kind === "not_a_course") return <CourseMissing name={route.shown} />;
  if (slug) {
    return (
      <CourseScreen
        slug={slug}
        state={course.state}
        retry={course.load}
        renew={course.load}
        list={list}
        config={config}
      />
    );
  }
  if (list.state.status === "loading") return <Splash text="Loading your courses…" />;
  if (list.state.status === "unavailable") {
    return (
      <section aria-labelledby="my-courses-title">
        <h1 id="my-courses-title">My courses</h1>
        <Unreachable what="your courses" onRetry={() => list.load()} busy={list.busy} />
      </section>
    );
  }
  return (
    <>
      <RemovedNotice courses={list.state.removed} onDismiss={list.dismissRemoved} />
      <CourseList
        courses={list.state.courses}
        onRefresh={() => list.load({ fresh: true })}
        refreshing={list.busy}
        purchaseUrl={config.purchaseUrl}
      />
    </>
  );
}

function CourseScreen({ slug, state, retry, renew, list, config }) {
  switch (state.status) {
    case "open":
      return (
        <CourseOpen course={state.course}>
          <Lessons lessons={state.course.lessons} renew={renew} />
        </CourseOpen>
      );
    case "locked":
      return <CourseLocked title={list.titleOf(slug)} purchaseUrl={config.purchaseUrl} />;
    case "not_found":
      return <CourseMissing name={slug} />;
    case "unavailable":
      return (
        <article className="course" aria-labelledby="course-title">
          <BackLink />
          <h1 id="course-title">{list.titleOf(slug)}</h1>
          <Unreachable what="this course" onRetry={retry} busy={false} />
        </article>
      );
    default:
      return <Splash text="Opening the course…" />;
  }
}

/**
 * The API caller: SDK token + fetch, with the SDK's "you are signed out" errors turned into a sign-out.
 * renewFirst: before the first call, one fresh token (cacheMode "off"), which every first call waits for.
 */
function useApi(config, onSessionOver, renewFirst) {
  const { getAccessTokenSilently } = useAuth0();
  const renewal = useRef(null);
  return useCallback(
    async (path, options) => {
      try {
        if (renewFirst) {
          renewal.current ??= getAccessTokenSilently({ cacheMode: "off" }).catch((error) => {
            renewal.current = null; // the next call tries again
            throw error;
          });
          await renewal.current;
        }
        return await callApi(getAccessTokenSilently, config.apiBaseUrl, path, options);
      } catch (error) {
        if (SESSION_OVER.has(error?.error)) {
          await onSessionOver("Your session has ended. Please sign in again.");
          return { kind: "session_over" };
        }
        // The tenant did not answer the token request (network, timeout, 5xx).
        return { kind: "unavailable", detail: "sign-in service" };
      }
    },
    [getAccessTokenSilently, config.apiBaseUrl, onSessionOver, renewFirst],
  );
}

/** GET /courses, and what disappeared from it since the student last looked. */
function useCourseList(call) {
  const [state, setState] = useState({ status: "loading", courses: [], removed: [] });
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  // Every course seen in this visit, so one that vanishes (a refund) can be named, not just dropped.
  const known = useRef(new Map());

  const load = useCallback(
    async ({ fresh = false } = {}) => {
      if (inFlight.current) return;
      inFlight.current = true;
      setBusy(true);
      try {
        const result = await call("/courses", { fresh });
        if (result.kind === "session_over") return;
        if (result.kind !== "ok") {
          setState((previous) => ({ ...previous, status: "unavailable" }));
          return;
        }
        const courses = readCourses(result.body);
        const listed = new Set(courses.map((course) => course.slug));
        const gone = [...known.current.values()].filter((course) => !listed.has(course.slug));
        gone.forEach((course) => known.current.delete(course.slug));
        courses.forEach((course) => known.current.set(course.slug, course));
        setState((previous) => ({
          status: "ready",
          courses,
          removed: mergeBySlug(previous.removed, gone).filter((course) => !listed.has(course.slug)),
        }));
      } finally {
        inFlight.current = false;
        setBusy(false);
      }
    },
    [call],
  );

  useEffect(() => {
    load();
  }, [load]);

  const markLocked = useCallback((slug) => {
    const course = known.current.get(slug);
    if (!course) return;
    known.current.delete(slug);
    setState((previous) => ({
      ...previous,
      courses: previous.courses.filter((listed) => listed.slug !== slug),
      removed: mergeBySlug(previous.removed, [course]),
    }));
  }, []);

  const dismissRemoved = useCallback(() => setState((previous) => ({ ...previous, removed: [] })), []);

  const titleOf = (slug) =>
    [...state.courses, ...state.removed].find((course) => course.slug === slug)?.title ?? slug;

  return { state, busy, load, markLocked, dismissRemoved, titleOf };
}

/**
 * GET /courses/{slug} for the course in the URL (nothing when the list is shown). ``load`` resolves to the course
 * it read (null when it could not): a lesson whose URL expired awaits it for a fresh one. Loads already on their
 * way are shared, so a lesson asking while the page re-reads the course waits for that answer.
 */
function useCourse(slug, call, markLocked) {
  const [state, setState] = useState({ status: "loading" });
  const inFlight = useRef(null);
  // The course on screen: an answer for one the student has left is not shown.
  const shown = useRef(slug);
  shown.current = slug;

  const load = useCallback(() => {
    if (!slug) return Promise.resolve(null);
    if (inFlight.current?.slug === slug) return inFlight.current.promise;
    const promise = (async () => {
      const result = await call(`/courses/${encodeURIComponent(slug)}`);
      if (result.kind === "session_over" || shown.current !== slug) return null;
      if (result.kind === "ok") {
        const course = readCourse(result.body);
        setState({ status: "open", course });
        return course;
      }
      if (result.kind === "forbidden") {
        // The lesson list goes with the course: a refund leaves "Access removed" and nothing to open.
        setState({ status: "locked" });
        markLocked(slug);
      } else if (result.kind === "not_found") setState({ status: "not_found" });
      else setState((previous) => (previous.status === "open" ? previous : { status: "unavailable" }));
      return null;
    })().finally(() => {
      if (inFlight.current?.promise === promise) inFlight.current = null;
    });
    inFlight.current = { slug, promise };
    return promise;
  }, [slug, call, markLocked]);

  useEffect(() => {
    setState({ status: "loading" });
    load();
  }, [load]);

  return { state, load };
}

function readCourse(body) {
  return { ...body, lessons: readLessons(body) };
}

function readCourses(body) {
  const courses = Array.isArray(body?.courses) ? body.courses : [];
  return courses.filter((course) => typeof course?.slug === "string" && typeof course?.title === "string");
}

function mergeBySlug(first, second) {
  const merged = new Map(first.map((course) => [course.slug, course]));
  second.forEach((course) => merged.set(course.slug, course));
  return [...merged.values()];
}

/** What the URL's hash asks for (see routes.js), following it as it changes. */
function useHashRoute() {
  const [route, setRoute] = useState(() => routeOf(window.location.hash));
  useEffect(() => {
    const onHashChange = () => setRoute(routeOf(window.location.hash));
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, []);
  return route;
}

/** Run ``callback`` when the tab regains focus or becomes visible, and every RECHECK_MS while visible. */
function useWhenVisibleAgain(callback) {
  useEffect(() => {
    const whenVisible = () => {
      if (document.visibilityState === "visible") callback();
    };
    window.addEventListener("focus", whenVisible);
    document.addEventListener("visibilitychange", whenVisible);
    const timer = window.setInterval(whenVisible, RECHECK_MS);
    return () => {
      window.removeEventListener("focus", whenVisible);
      document.removeEventListener("visibilitychange", whenVisible);
      window.clearInterval(timer);
    };
  }, [callback]);
}
