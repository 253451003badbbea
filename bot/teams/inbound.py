"""`POST /api/messages`: Bot Framework activities into the same command router Slack uses.

Order matters: the bearer token is validated first (bot/teams/auth.py); a request that fails gets 401 and
nothing else happens (no database access, no connector call). Then a repeated activity id is dropped (Teams
retries; the SDK does not dedupe), the conversation reference is stored, and the activity is handled:

- message: `@Oneday action OCG-07 @Sam ... by Friday` in a channel or group chat, or plain `action ...` in the
  1:1 chat; the first word names the command (`/action` or `action`, as configured), `home` shows the Home card.
  The answer is sent through the Bot Connector. It is private to the person: in the 1:1 chat it is a reply there;
  from a channel or group chat it goes to their 1:1 chat and the channel only hears that it did (a channel
  carries nothing about a target, and Teams has no ephemeral messages).
- invoke `adaptiveCard/action` (Action.Execute): the verb is the button's action id (or `form:<callback>`), run
  through router.press / router.submit; the answer replaces the card in the invoke response (within Teams' 5
  seconds: commands are database work of milliseconds). Any verb, known or not, gets a card back: an unhandled
  Action.Execute would otherwise get an empty 200 and Teams would retry it.
- invoke `task/fetch` / `task/submit` (dialogs): a button whose answer is a private view or a form
  (cards.DIALOG_VERBS), or "Open the form" on a card carrying a sealed form (bot/teams/forms.py), opens a dialog;
  a form submitted in it runs router.submit like Slack's view submission, and errors keep the dialog open.
- conversationUpdate / installationUpdate: the reference is stored (install), nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from sqlalchemy import Engine

from bot.chat_state import SeenEvents
from bot.http import HttpRequest, HttpResponse, Route
from bot.port import DeliveryError
from bot.runner import Request, Runner
from bot.teams import cards, files, forms
from bot.teams.auth import InboundAuth, Unauthorized, refuse_unsafe_switch
from bot.teams.port import TeamsPort, build_port
from bot.teams.settings import TeamsSettings
from bot.teams.text import neutral
from commands.core import router
from commands.core.platforms import canonical
from commands.core.replies import Reply, Result
from commands.home import page as home

log = logging.getLogger("oneday.teams")

MESSAGES_PATH = "/api/messages"
CARD_TYPE = cards.CARD_CONTENT_TYPE
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ANSWERED_PRIVATELY = "I have answered you in your 1:1 chat with Oneday."
SIDE_SENDS = 4  # threads sending invoke answers to 1:1 chats after the invoke has been answered


def _json(status: int, data: Any) -> HttpResponse:
    return HttpResponse(status, json.dumps(data).encode(), {"Content-Type": "application/json"})


def invoke_card(card: dict[str, Any]) -> HttpResponse:
    return _json(200, {"statusCode": 200, "type": CARD_TYPE, "value": card})


def invoke_message(text: str) -> HttpResponse:
    return _json(200, {"statusCode": 200, "type": MESSAGE_TYPE, "value": text})


def tenant_of(activity: Mapping[str, Any]) -> str:
    conversation = activity.get("conversation") or {}
    channel_data = activity.get("channelData") or {}
    return canonical(str(conversation.get("tenantId") or (channel_data.get("tenant") or {}).get("id") or ""))


def is_personal(activity: Mapping[str, Any]) -> bool:
    return (activity.get("conversation") or {}).get("conversationType") in (None, "personal")


class TeamsInbound:
    def __init__(self, settings: TeamsSettings, *, engine: Engine, runner: Runner,
                 port: TeamsPort | None = None) -> None:
        import microsoft_teams.apps  # noqa: F401 - loads a .env, if any, as every SDK user would

        refuse_unsafe_switch()
        self.settings, self.runner = settings, runner
        self.port = port or build_port(settings, runner.factory, runner.clock)
        self.auth = InboundAuth(settings, self.port.connector.http)
        self.seen = SeenEvents(runner.factory, platform="teams", clock=runner.clock)
        self.refs = self.port.refs
        words = {name.lstrip("/").lower(): intent for intent, name in runner.names.items()}
        self.commands = {**{intent: intent for intent in runner.names}, **words}
        self.routes: Mapping[str, Route] = {MESSAGES_PATH: self.handle}
        # An invoke must be answered within Teams' 5 seconds; a 1:1 chat to create and a message to send are
        # up to two connector calls more, so they happen here, after the answer.
        self.side = ThreadPoolExecutor(max_workers=SIDE_SENDS, thread_name_prefix="oneday-teams-send")
        self._pending: set[Future[None]] = set()

    def start(self) -> None:
        try:
            self.auth.prefetch()
        except Exception as exc:  # the first request tries again
            log.warning("teams: signing keys not fetched at start-up: %s", type(exc).__name__)

    def stop(self) -> None:
        self.side.shutdown(wait=True)
        self.port.connector.http.close()

    # -- the route ---------------------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(405, b"method not allowed", {"Allow": "POST"})
        authorization = next(iter(request.headers.get("authorization") or []), None)
        if not authorization:
            return HttpResponse(401, b"unauthorized")
        try:
            activity = json.loads(request.body)
            if not isinstance(activity, dict):
                raise ValueError("not an object")
        except ValueError:
            return HttpResponse(400, b"body is not a JSON activity")
        try:
            self.auth.validate(authorization, activity.get("serviceUrl"), activity.get("channelId"))
        except Unauthorized as exc:
            log.warning("teams: refused", extra={"fields": {"status": 401, "reason": str(exc)}})
            return HttpResponse(401, b"unauthorized")
        tenant = tenant_of(activity)
        if self.settings.tenant_id and tenant != self.settings.tenant_id:
            log.warning("teams: activity from another tenant refused")
            return HttpResponse(403, b"tenant not allowed")
        kind = activity.get("type")
        event = self._event_id(activity) if activity.get("id") else None
        if event and not self.seen.claim(event):
            log.info("teams: duplicate activity dropped")
            return invoke_message("Already done.") if kind == "invoke" else HttpResponse(200)
        try:
            self._remember(activity, tenant)
            if kind == "message":
                self._message(activity, tenant)
                return HttpResponse(200)
            if kind == "invoke":
                return self._invoke(activity, tenant)
            return HttpResponse(200)  # conversationUpdate, installationUpdate, typing, ...: the reference is stored
        except Exception:
            if event:  # failed before any answer (e.g. the database went away): let Teams' retry through
                self.seen.release(event)
            raise

    @staticmethod
    def _event_id(activity: Mapping[str, Any]) -> str:
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        return "a:" + hashlib.sha256(f"{conversation}\n{activity.get('id')}".encode()).hexdigest()

    def _remember(self, activity: Mapping[str, Any], tenant: str) -> None:
        sender = activity.get("from") or {}
        aad = sender.get("aadObjectId")
        if not aad or not tenant:
            return
        personal = is_personal(activity)
        self.refs.remember(tenant=tenant, aad=str(aad), service_url=str(activity["serviceUrl"]),
                           bf_user_id=str(sender.get("id") or "") or None,
                           personal_conversation=str((activity.get("conversation") or {}).get("id") or "")
                           if personal else None)

    def _request(self, activity: Mapping[str, Any], tenant: str, intent: str, text: str) -> Request:
        aad = canonical(str((activity.get("from") or {}).get("aadObjectId") or ""))
        return Request(platform="teams", workspace=tenant, user=aad, intent=intent, text=text,
                       channel=str((activity.get("conversation") or {}).get("id") or "") or None)

    def _run(self, req: Request, action: Callable[[Any], Result] | None = None) -> Result:
        if not req.user:
            return Result(Reply(lines=("Oneday could not tell who you are: Teams sent no Entra object id.",)))
        return self.runner.run(req, self.port.email_of, action)

    # -- messages ----------------------------------------------------------------------------------------

    def parse(self, text: str) -> tuple[str, str]:
        """(intent, the rest) from `action OCG-07 ...` or `/action OCG-07 ...`; `home`; else help."""
        word, _, rest = text.partition(" ")
        key = word.lstrip("/").lower()
        if key == "home":
            return "home", rest
        if key in self.commands:
            return self.commands[key], rest
        return "oneday", "help" if not text or key in ("help", "?") else text

    def _message(self, activity: Mapping[str, Any], tenant: str) -> None:
        text = neutral(dict(activity), self.refs.aad_for)
        intent, rest = self.parse(text)
        req = self._request(activity, tenant, intent, rest)
        if intent == "home":
            result = self._run(req, lambda caller: Result(home.build(caller)))
        else:
            result = self._run(req)
        if result.form:  # a dialog opens only from a button: a card with "Open the form"
            out = cards.form_message(result.form, forms.seal(result.form, self.port.seal_key), result.reply)
        else:
            out = cards.message(result.modal or result.reply)
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        try:
            if is_personal(activity):
                self.port.connector.send(str(activity["serviceUrl"]), conversation, out,
                                         reply_to=str(activity.get("id") or "") or None)
            elif req.user:
                self.port.send(self.port.open_dm(req.user), out)
                self.port.connector.send(str(activity["serviceUrl"]), conversation,
                                         {"type": "message", "text": ANSWERED_PRIVATELY, "textFormat": "plain"},
                                         reply_to=str(activity.get("id") or "") or None)
        except DeliveryError as exc:
            log.warning("teams: answer not delivered: %s", exc)

    # -- Action.Execute --------------------------------------------------------------------------------

    def _file_consent(self, activity: Mapping[str, Any]) -> HttpResponse:
        """Accept on a file consent card: upload the file Oneday offered, then show it in the chat."""
        raw = activity.get("value")
        value: dict[str, Any] = raw if isinstance(raw, dict) else {}
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        if value.get("action") != "accept":
            return HttpResponse(200)
        found = files.opened(value.get("context"), self.port.seal_key)
        info = value.get("uploadInfo") if isinstance(value.get("uploadInfo"), dict) else None
        if found is None or info is None or not info.get("uploadUrl"):
            log.warning("teams: file consent with no file of ours or no upload URL")
            return HttpResponse(400, b"not a file Oneday offered")
        try:
            files.upload(self.port.connector.http, str(info["uploadUrl"]), found[1])
            self.port.connector.send(str(activity["serviceUrl"]), conversation,
                                     {"type": "message", "attachments": [files.info_card(info)]})
        except DeliveryError as exc:
            log.warning("teams: file not uploaded: %s", exc)
            return HttpResponse(502, b"upload failed")
        return HttpResponse(200)

    def _dialog(self, activity: Mapping[str, Any], tenant: str) -> HttpResponse:
        """task/fetch (a DIALOG_VERBS or "Open the form" button) or task/submit (a button or form inside the
        dialog): the answer is the dialog's next card, seen by the presser alone and kept in no chat's history. A
        form's submission with errors gets the same form back, as submitted, with the errors beside the fields."""
        raw = activity.get("value")
        value: dict[str, Any] = raw if isinstance(raw, dict) else {}
        data: dict[str, Any] = value.get("data") if isinstance(value.get("data"), dict) else {}  # type: ignore[assignment]
        verb = str(data.get("verb") or "")
        key = self.port.seal_key
        if verb == cards.OPEN_FORM:  # opening a form runs nothing: submitting it runs the command, every check
            form = forms.opened(data.get(cards.SEALED_FORM), key)
            if form is None:
                return self._continue(cards.render(Reply(lines=(
                    "This form is out of date or was not made by Oneday: run the command again.",)), in_dialog=True))
            return self._continue(cards.render_form(form, in_dialog=True, sealed=forms.seal(form, key)), form.title)
        req = self._request(activity, tenant, f"button:{verb}", "")
        values: dict[str, str] = {}
        if verb.startswith(cards.FORM_VERB_PREFIX):
            callback = verb[len(cards.FORM_VERB_PREFIX):]
            values = {str(k): str(v) for k, v in data.items()
                      if k not in ("verb", "msteams") and not str(k).startswith("__")}
            req.intent = f"form:{callback}"
            result = self._run(req, lambda caller: router.submit(callback, caller, values,
                                                                 str(data.get("__context") or "")))
        else:
            result = self._run(req, lambda caller: router.press(verb, caller, str(data.get("value") or "")))
        if result.field_errors:
            submitted = forms.opened(data.get(cards.SEALED_FORM), key)
            if submitted is not None:
                return self._continue(cards.render_form(submitted, result.field_errors, in_dialog=True,
                                                        sealed=forms.seal(submitted, key), values=values),
                                      submitted.title)
            card = cards.render(Reply(title="Please check the form", lines=tuple(
                f"{k}: {v}" for k, v in result.field_errors.items())), in_dialog=True)
        elif result.form:
            return self._continue(cards.render_form(result.form, in_dialog=True,
                                                    sealed=forms.seal(result.form, key)), result.form.title)
        else:
            card = cards.render(result.modal or result.reply, in_dialog=True)
        return self._continue(card)

    @staticmethod
    def _continue(card: dict[str, Any], title: str = "Oneday") -> HttpResponse:
        return _json(200, {"task": {"type": "continue", "value": {
            "title": cards.clip(title, 60), "width": "large", "height": "large", "card": cards.attachment(card)}}})

    def _invoke(self, activity: Mapping[str, Any], tenant: str) -> HttpResponse:
        if activity.get("name") == "fileConsent/invoke":
            return self._file_consent(activity)
        if activity.get("name") in ("task/fetch", "task/submit"):
            return self._dialog(activity, tenant)
        if activity.get("name") != "adaptiveCard/action":
            return _json(200, {"statusCode": 200, "type": MESSAGE_TYPE, "value": "Not handled."})
        value = activity.get("value") or {}
        act = value.get("action") if isinstance(value, dict) else None
        act = act if isinstance(act, dict) else {}
        verb = str(act.get("verb") or "")
        raw = act.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        req = self._request(activity, tenant, f"button:{verb}", "")
        if verb.startswith(cards.FORM_VERB_PREFIX):
            callback = verb[len(cards.FORM_VERB_PREFIX):]
            values = {str(k): str(v) for k, v in data.items() if not str(k).startswith("__")}
            context = str(data.get("__context") or "")
            req.intent = f"form:{callback}"
            result = self._run(req, lambda caller: router.submit(callback, caller, values, context))
        else:
            result = self._run(req, lambda caller: router.press(verb, caller, str(data.get("value") or "")))
        if result.field_errors:
            shown = Reply(title="Please check the form",
                          lines=tuple(f"{k}: {v}" for k, v in result.field_errors.items()) + result.reply.lines)
            card = cards.render(shown)
        elif result.form:  # a button not known to open a form did: the card now opens it in a dialog
            card = cards.open_form_card(result.form, forms.seal(result.form, self.port.seal_key), result.reply)
        else:
            card = cards.render(result.modal or result.reply)
        if is_personal(activity) or not req.user:
            return invoke_card(card)
        # pressed in a shared chat: the answer is the presser's alone, in their 1:1 chat
        future = self.side.submit(self._send_privately, req.user, {"type": "message", "textFormat": "plain",
                                                                   "text": cards.fallback(result.reply),
                                                                   "attachments": [cards.attachment(card)]})
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return invoke_message(ANSWERED_PRIVATELY)

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait for the answers still being sent to 1:1 chats (stop, and tests); True when none is left."""
        _, left = wait(list(self._pending), timeout=timeout)
        return not left

    def _send_privately(self, user: str, activity: dict[str, Any]) -> None:
        try:
            self.port.send(self.port.open_dm(user), activity)
        except DeliveryError as exc:
            log.warning("teams: answer not delivered: %s", exc)
        except Exception:
            log.exception("teams: answer not delivered")
