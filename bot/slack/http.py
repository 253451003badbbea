"""bolt on Oneday's HTTP server (bot/http.py): the routes that hand Slack's requests to a bolt App."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slack_bolt import App, BoltRequest

from bot.http import NOT_FOUND, HttpRequest, HttpResponse, Route

EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH = "/slack/events", "/slack/install", "/slack/oauth_redirect"
ALL_PATHS = (EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH)


def bolt_route(app: App) -> Route:
    """POST: events, commands and interactions (bolt checks the signature). GET: the OAuth install pages,
    when the app has an OAuth flow (App.dispatch handles events only; the OAuth pages are the flow's)."""

    def handle(request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and (refused := malformed(request)):
            return HttpResponse(400, refused.encode(), {"Content-Type": "text/plain"})
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        req = BoltRequest(body=request.body.decode("utf-8"), query=request.query, headers=headers)
        flow = app.oauth_flow
        if request.method == "GET" and flow is not None and request.path == flow.install_path:
            resp = flow.handle_installation(req)
        elif request.method == "GET" and flow is not None and request.path == flow.redirect_uri_path:
            resp = flow.handle_callback(req)
        elif request.method == "GET":
            return NOT_FOUND
        else:
            resp = app.dispatch(req)
        out_headers = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in resp.headers.items()}
        return HttpResponse(resp.status, (resp.body or "").encode("utf-8"), out_headers)

    return handle


def malformed(request: HttpRequest) -> str | None:
    """Why a POST cannot be a Slack request at all, or None. bolt answers a missing or wrong signature with 401,
    but a timestamp that is not a number raises inside its check (a 500 and a traceback), and a body that is not
    UTF-8 cannot be handed to it."""
    for value in request.headers.get("x-slack-request-timestamp", []):
        if not (value.isascii() and value.isdigit() and len(value) <= 12):
            return "malformed X-Slack-Request-Timestamp"
    for value in request.headers.get("x-slack-signature", []):
        if not (value.isascii() and len(value) <= 128):
            return "malformed X-Slack-Signature"
    try:
        request.body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    return None


def bolt_routes(app: App, paths: Iterable[str] = ALL_PATHS) -> dict[str, Route]:
    """The same bolt route on each path (by default /slack/events and the two OAuth pages)."""
    route = bolt_route(app)
    return dict.fromkeys(paths, route)
