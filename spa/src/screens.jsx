// Presentational pieces: every screen the student can see, without any fetching or SDK calls.

/** The bar on top of every screen: the product's name and, when signed in, who and how to leave. */
export function Header({ email, onSignOut }) {
  return (
    <header className="topbar">
      <a className="brand" href="#/">
        <span className="brand-mark" aria-hidden="true">◆</span> Course Library
      </a>
      {email ? (
        <div className="account">
          <span className="account-email" data-testid="signed-in-as">
            {email}
          </span>
          <button type="button" className="button button-quiet" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      ) : null}
    </header>
  );
}

export function Page({ children }) {
  return <main className="page">{children}</main>;
}

/** While the SDK talks to the tenant (first load, coming back from the login page). */
export function Splash({ text }) {
  return (
    <div className="splash" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {text}
    </div>
  );
}

/**
 * Signed out: three ways in, each with the address used at checkout. onSignIn(connection): undefined for the
 * tenant's login page (a password), "google-oauth2" or "email" (a code by e-mail; CONNECTIONS in config.js).
 * `problem` is why signing in went wrong, `note` what happened meanwhile (no fault: e.g. signed out in another tab).
 */
export function SignedOut({ onSignIn, problem, note }) {
  return (
    <section className="hero" aria-labelledby="signed-out-title">
      <h1 id="signed-out-title">Your courses, one sign-in away</h1>
      <p className="lead">Sign in with the e-mail address you used at checkout to open the courses you bought.</p>
      {problem ? (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      ) : null}
      {note && !problem ? (
        <p className="notice notice-info" role="status">
          {note}
        </p>
      ) : null}
      <div className="ways-in">
        <button type="button" className="button button-primary button-large" onClick={() => onSignIn(undefined)}>
          Sign in
        </button>
        <button type="button" className="button button-large" onClick={() => onSignIn("google-oauth2")}>
          Continue with Google
        </button>
        <button type="button" className="button button-large" onClick={() => onSignIn("email")}>
          Email me a code
        </button>
      </div>
      <p className="hint">
        New here? After your purchase we e-mailed you a link to choose a password. Or use Google, or a code sent to
        that address: every way opens the same courses, as long as the address is yours and verified.
      </p>
    </section>
  );
}

/** What the sign-in service said about this sign-in, when the student needs to know (nothing when all is well). */
export function SignInNotice({ result, email }) {
  if (result?.result === "unverified") {
    // Google's own word is missing; any other connection (a password account someone registered with this
    // address, not the one made at checkout) cannot prove the address at all. A code to the mailbox always can.
    const why =
      result.connection === "google-oauth2" ? (
        <>
          Google has not confirmed that <strong>{email}</strong> is your address
        </>
      ) : (
        <>
          This sign-in does not prove that <strong>{email}</strong> is your address
        </>
      );
    return (
      <div className="notice notice-warning" role="alert" data-testid="sign-in-notice">
        <h2 className="notice-title">Your courses cannot open with this sign-in</h2>
        <p>
          {why}, so the courses bought with it stay closed here. Sign out, then sign in with{" "}
          <strong>Email me a code</strong>: we send it to that address.
        </p>
      </div>
    );
  }
  if (result?.result === "unavailable") {
    return (
      <div className="notice notice-warning" role="status" data-testid="sign-in-notice">
        <h2 className="notice-title">We could not check your purchases just now</h2>
        <p>
          You are signed in, but courses bought with another way of signing in may be missing. Sign out and sign in
          again in a few minutes.
        </p>
      </div>
    );
  }
  return null;
}

/** The API did not answer (503, a network error, a timeout): say so and offer to try again. */
export function Unreachable({ what, onRetry, busy }) {
  return (
    <div className="notice notice-error" role="alert">
      <h2 className="notice-title">The course service is unreachable</h2>
      <p>
        We could not load {what} just now. Your purchases are safe; this is on our side. Try again in a moment.
      </p>
      <button type="button" className="button" onClick={onRetry} disabled={busy}>
        {busy ? "Trying…" : "Try again"}
      </button>
    </div>
  );
}

/** Courses the student could open earlier in this visit and no longer can. */
export function RemovedNotice({ courses, onDismiss }) {
  if (courses.length === 0) return null;
  const titles = courses.map((course) => course.title).join(", ");
  return (
    <div className="notice notice-warning" role="alert" data-testid="access-removed">
      <h2 className="notice-title">Access removed</h2>
      <p>
        You no longer have access to <strong>{titles}</strong>. This happens after a refund, a chargeback or the end
        of a membership. If that looks wrong, reply to your receipt e-mail.
      </p>
      <button type="button" className="button button-quiet" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

export function CourseList({ courses, onRefresh, refreshing, purchaseUrl }) {
  return (
    <section aria-labelledby="my-courses-title">
      <div className="section-head">
        <div>
          <h1 id="my-courses-title">My courses</h1>
          <p className="lead lead-left">Everything you bought, ready to open. New purchases show up here.</p>
        </div>
        <button type="button" className="button button-quiet" onClick={onRefresh} disabled={refreshing}>
          {refreshing ? "Checking…" : "Check for new purchases"}
        </button>
      </div>
      {courses.length === 0 ? (
        <div className="empty" data-testid="no-courses">
          <h2>No courses yet</h2>
          <p>Courses you buy show up here a few moments after checkout.</p>
          <a className="button button-primary" href={purchaseUrl} target="_blank" rel="noreferrer">
            Browse courses
          </a>
        </div>
      ) : (
        <ul className="course-grid" aria-label="Courses you can open">
          {courses.map((course) => (
            <li key={course.slug} className="course-card">
              <span className="course-badge" aria-hidden="true">
                {course.title.slice(0, 1)}
              </span>
              <div className="course-text">
                <h2 className="course-title">{course.title}</h2>
                <p className="course-meta">Full access</p>
              </div>
              <a className="button button-primary" href={`#/courses/${encodeURIComponent(course.slug)}`}>
                Open <span className="visually-hidden">{course.title}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function BackLink() {
  return (
    <a className="back" href="#/">
      ← My courses
    </a>
  );
}

/** An open course: its title, and its lessons (``children``: they fetch, so they live in lessons.jsx). */
export function CourseOpen({ course, children }) {
  return (
    <article className="course course-open" aria-labelledby="course-title">
      <BackLink />
      <p className="eyebrow">Course</p>
      <h1 id="course-title">{course.title}</h1>
      <p className="notice notice-ok" role="status">
        You have access to this course.
      </p>
      {children}
    </article>
  );
}

export function CourseLocked({ title, purchaseUrl }) {
  return (
    <article className="course" aria-labelledby="course-title">
      <BackLink />
      <p className="eyebrow">Course locked</p>
      <h1 id="course-title">{title}</h1>
      <div className="notice notice-warning" role="alert" data-testid="course-locked">
        <h2 className="notice-title">Access removed</h2>
        <p>
          This course is locked for your account: the purchase was refunded, charged back or the membership ended.
        </p>
      </div>
      <a className="button" href={purchaseUrl} target="_blank" rel="noreferrer">
        Buy it again
      </a>
    </article>
  );
}

/** A course the service does not know, or an address that names no course at all. */
export function CourseMissing({ name }) {
  return (
    <article className="course" aria-labelledby="course-title">
      <BackLink />
      <h1 id="course-title">No such course</h1>
      <p>
        There is no course called <code>{name}</code>. Check the link, or pick the course from your list.
      </p>
    </article>
  );
}

/** A screen failed to render (an answer it cannot show, a bug): say so plainly, never the error's text. */
export function SomethingWentWrong({ onBack }) {
  return (
    <>
      <Header email={null} />
      <Page>
        <section className="notice notice-error" role="alert" aria-labelledby="went-wrong-title">
          <h1 className="notice-title" id="went-wrong-title">
            Something went wrong on this page
          </h1>
          <p>
            This page hit a problem the app did not expect, so it could not be shown. Your purchases and your
            access are safe. Go back to your courses and try again; if it keeps happening, reply to your receipt
            e-mail.
          </p>
          <button type="button" className="button button-primary" onClick={onBack}>
            Back to my courses
          </button>
        </section>
      </Page>
    </>
  );
}

/** The build was made without its settings: tell the developer which ones, not the student a blank page. */
export function ConfigProblem({ missing }) {
  return (
    <main className="page">
      <section className="notice notice-error" role="alert">
        <h1 className="notice-title">This app is not configured</h1>
        <p>Set these in an env file (see .env.tenant.example) and build again:</p>
        <ul>
          {missing.map((name) => (
            <li key={name}>
              <code>{name}</code>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}
