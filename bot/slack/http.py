"""bolt on Oneday's HTTP server (bot/http.py): the routes that hand Slack's requests to a bolt App."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import parse_qs

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.webhook import WebhookClient

from bot.http import NOT_FOUND, HttpRequest, HttpResponse, Route
from bot.slack.settings import ack_budget_from_env

EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH = "/slack/events", "/slack/install", "/slack/oauth_redirect"
ALL_PATHS = (EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH)
LATE_THREADS = 32

log = logging.getLogger("oneday.slack")


def bolt_route(app: App, *, ack_budget: float | None = None) -> Route:
    """POST: events, commands and interactions (bolt checks the signature). GET: the OAuth install pages,
    when the app has an OAuth flow (App.dispatch handles events only; the OAuth pages are the flow's).

    With `ack_budget`, a command, button or event still running after that many seconds is acknowledged
    (200, empty) and finishes on its own; a command's answer then goes to its response_url. None: the
    budget from ONEDAY_ACK_BUDGET_S, else ACK_BUDGET."""
    ack_budget = ack_budget if ack_budget is not None else ack_budget_from_env()
    pool = ThreadPoolExecutor(max_workers=LATE_THREADS, thread_name_prefix="oneday-slack") if ack_budget else None

    def dispatch(req: BoltRequest, body: str) -> BoltResponse:
        kind, response_url = _kind(body)
        if pool is None or kind is None:
            return app.dispatch(req)
        future = pool.submit(app.dispatch, req)
        try:
            return future.result(timeout=ack_budget)
        except FutureTimeout:
            log.warning("answer after the ack budget", extra={"fields": {"kind": kind, "budget_s": ack_budget}})
            future.add_done_callback(lambda done: _answer_late(done, kind, response_url))
            return BoltResponse(status=200, body="")

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
            resp = dispatch(req, req.raw_body)
        out_headers = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in resp.headers.items()}
        return HttpResponse(resp.status, (resp.body or "").encode("utf-8"), out_headers)

    return handle


def _kind(body: str) -> tuple[str | None, str | None]:
    """What a POST is, for the ack budget: ("command" | "block_actions" | "event", its response_url), or
    (None, None) for what must be answered in the acknowledgement itself (forms, the URL check, anything else)."""
    if body.startswith("{"):
        try:
            event = json.loads(body)
        except ValueError:
            return None, None
        return ("event", None) if isinstance(event, dict) and event.get("type") == "event_callback" else (None, None)
    form = parse_qs(body)
    if "command" in form:
        urls = form.get("response_url")
        return "command", urls[0] if urls else None
    try:
        payload = json.loads((form.get("payload") or ["{}"])[0])
    except ValueError:
        return None, None
    if isinstance(payload, dict) and payload.get("type") == "block_actions":
        return "block_actions", None  # its listener acks first and answers through respond() itself
    return None, None


def _answer_late(done: Future[BoltResponse], kind: str, response_url: str | None) -> None:
    """A command that outran the ack budget: its answer (the acknowledgement's body) to its response_url."""
    try:
        resp = done.result()
    except Exception:
        log.error("late request failed", exc_info=True, extra={"fields": {"kind": kind}})
        return
    if kind != "command" or resp.status != 200 or not resp.body or not response_url:
        return
    try:
        answer = json.loads(resp.body)
    except ValueError:
        answer = {"text": resp.body}
    answer.setdefault("response_type", "ephemeral")
    try:
        sent = WebhookClient(response_url, timeout=10).send_dict(answer)
    except Exception as exc:  # the network: logged, not raised into a worker thread
        log.warning("late answer not delivered: %s", type(exc).__name__, extra={"fields": {"kind": kind}})
        return
    if sent.status_code >= 300:
        log.warning("late answer refused", extra={"fields": {"kind": kind, "status": sent.status_code}})


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


def bolt_routes(app: App, paths: Iterable[str] = ALL_PATHS, *,
                ack_budget: float | None = None) -> dict[str, Route]:
    """The same bolt route on each path (by default /slack/events and the two OAuth pages)."""
    route = bolt_route(app, ack_budget=ack_budget)
    return dict.fromkeys(paths, route)
