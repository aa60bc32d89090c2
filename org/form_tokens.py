"""One-time form tokens: a second submit of the same create form makes nothing twice.

A create form carries a token issued with the page. The first submit spends it and
remembers what it created; a second submit of the same form (double click, back
button, refresh) finds it spent and is sent to what the first one created. The user
row is locked while a token is checked and spent, and the session is saved inside
that transaction, so that a second request of a double click waits for the first
and then sees the token spent.
"""

import uuid
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model

TOKENS_KEY = "meetings_form_tokens"
MAX_TOKENS = 30


def issue(request, purpose: str) -> str:
    token = uuid.uuid4().hex
    tokens = dict(request.session.get(TOKENS_KEY, {}))
    tokens[token] = {"purpose": purpose, "result": None}
    request.session[TOKENS_KEY] = dict(list(tokens.items())[-MAX_TOKENS:])
    return token


def claim(request, token: str, purpose: str) -> tuple[str, int | None]:
    """("fresh", None), ("spent", pk of what the first submit made) or ("unknown", None). Call inside atomic."""
    user_model = get_user_model()
    list(user_model.objects.select_for_update().filter(pk=request.user.pk).values_list("pk", flat=True))
    stored = {}
    if request.session.session_key:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=request.session.session_key)
        stored = store.load().get(TOKENS_KEY, {})
    # What another request of this session spent wins over this request's older copy.
    tokens = {**request.session.get(TOKENS_KEY, {}), **stored}
    request.session[TOKENS_KEY] = tokens
    entry = tokens.get(token)
    if not token or entry is None or entry.get("purpose") != purpose:
        return "unknown", None
    if entry.get("result") is not None:
        return "spent", entry["result"]
    return "fresh", None


def spend(request, token: str, result: int) -> None:
    tokens = dict(request.session.get(TOKENS_KEY, {}))
    tokens[token] = {**tokens.get(token, {}), "result": result}
    request.session[TOKENS_KEY] = tokens
    request.session.save()


STALE_FORM = "该表单已失效（可能打开时间过长或已在其他页面提交），请核对内容后再次提交。"
