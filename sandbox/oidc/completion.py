"""The end of every browser login: the post-login Actions run, then the session opens and the code goes back.

Whatever the way in (the login page, Google, a passwordless code, a live session), the Actions run
before the code is issued: a denial or a failure goes back to the application as ``access_denied`` (no
session opens), and ``setPrimaryUser`` makes the session and the code the primary user's.
"""

from __future__ import annotations

from dataclasses import replace

from sandbox.actions.post_login import BROWSER, LoginContext, LoginOutcome, LoginRefused, PostLoginTrigger
from sandbox.defaults import SESSION_MAX_SECONDS
from sandbox.http.wire import Request, Response
from sandbox.oidc.pages import error_page
from sandbox.oidc.redirects import deliver
from sandbox.oidc.session_cookie import session_cookie, set_cookie
from sandbox.tenant.sign_ins import Authorization, Session, SignInRejected, new_sid
from sandbox.tenant.tenant import Tenant
from sandbox.tenant.users import UserRecord


class LoginCompletion:
    def __init__(self, *, tenant: Tenant, trigger: PostLoginTrigger) -> None:
        self._tenant = tenant
        self._store = tenant.sign_ins
        self._trigger = trigger

    def signed_in(self, request: Request, transaction: str, user: UserRecord, *, connection: str) -> Response:
        """A person proved who they are on a sign-in page of ``transaction``: finish the login (once)."""
        try:
            authorization = self._store.finish(transaction)
        except SignInRejected as rejected:  # the same page was submitted twice at once
            return error_page(400, "Sign-in expired", str(rejected))
        sid = new_sid()
        outcome = self._post_login(request, authorization, user, connection=connection, sid=sid)
        if isinstance(outcome, Response):
            return outcome
        self._store.close_session(session_cookie(request))
        cookie, session = self._store.open_session(outcome.user_id, connection=connection, sid=sid)
        response = self._send_code(authorization, session, outcome)
        response.headers["Set-Cookie"] = set_cookie(cookie, SESSION_MAX_SECONDS)
        return response

    def resumed(self, request: Request, authorization: Authorization, session: Session) -> Response:
        """``/authorize`` found a live session: the login needs no page, the Actions still run."""
        user = self._tenant.account(session.user_id)
        outcome = self._post_login(request, authorization, user, connection=session.connection, sid=session.sid)
        if isinstance(outcome, Response):
            return outcome
        if outcome.user_id != session.user_id:
            self._store.switch_user(session.sid, outcome.user_id)
            session = replace(session, user_id=outcome.user_id)
        return self._send_code(authorization, session, outcome)

    def _post_login(
        self, request: Request, authorization: Authorization, user: UserRecord, *, connection: str, sid: str
    ) -> LoginOutcome | Response:
        context = LoginContext(
            user=user,
            connection=connection,
            client_id=authorization.client_id,
            protocol=BROWSER,
            scope=authorization.scope,
            audience=authorization.audience,
            request=request,
            authorization=authorization,
            session_id=sid,
        )
        try:
            return self._trigger.run(context)
        except LoginRefused as refused:
            return deliver(
                authorization.redirect_uri,
                authorization.response_mode,
                {"error": refused.error, "error_description": refused.description},
                authorization.state,
            )

    def _send_code(self, authorization: Authorization, session: Session, outcome: LoginOutcome) -> Response:
        code = self._store.issue_code(
            authorization,
            session,
            permissions=outcome.permissions,
            id_claims=outcome.id_claims,
            access_claims=outcome.access_claims,
        )
        return deliver(authorization.redirect_uri, authorization.response_mode, {"code": code}, authorization.state)
