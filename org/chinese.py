"""The admin in Chinese where Django and the installed apps leave English that no ``.po`` can reach.

Most English is translated by the project's own catalogue (``locale/zh_Hans``). Three kinds of
text are not strings a catalogue can translate, and are handled here:

* permission names ("Can add 会议"), written in English into ``auth_permission.name`` by
  ``migrate``: renamed after every migrate from the model's (Chinese) name;
* django-simple-history's model names ("historical 会议"), built with ``format_lazy`` and no
  ``gettext``: the historical models' names are set in memory (their migrations are untouched,
  so no migration follows from this);
* django-axes' object names ("Access Log for root @ …"), plain f-strings in its ``__str__``;
* django-otp's TOTP device: its name is set here; its fields and admin are English strings of
  django-otp's own, so the project registers its own admin with Chinese labels (``org/admin.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.text import format_lazy

# The verbs of Django's four default permissions.
PERMISSION_VERBS = {"add": "可以添加", "change": "可以修改", "delete": "可以删除", "view": "可以查看"}


def name_historical_models(models) -> None:
    """“会议（历史记录）” instead of simple-history's “historical 会议”."""
    for model in models:
        original = getattr(model, "instance_type", None)
        if original is None:
            continue
        field_names = {f.name for f in model._meta.fields}
        if "m2m_history_id" in field_names:
            # The history of a many-to-many field ("meeting-meetingtype"): 会议的会议类型（历史记录）.
            ends = [
                f.related_model._meta.verbose_name for f in model._meta.fields if f.is_relation and f.name != "history"
            ]
            name = format_lazy("{}（历史记录）", "的".join(str(e) for e in ends))
        elif "history_id" in field_names:
            name = format_lazy("{}（历史记录）", original._meta.verbose_name)
        else:
            continue
        model._meta.verbose_name = model._meta.verbose_name_plural = name


def chinese_permission_name(codename: str, model) -> str | None:
    """The Chinese name of a default permission of ``model`` (None for a permission of its own)."""
    verb, _sep, rest = codename.partition("_")
    if verb not in PERMISSION_VERBS or rest != model._meta.model_name:
        return None
    return f"{PERMISSION_VERBS[verb]}{model._meta.verbose_name}"


def rename_default_permissions(*, app_config=None, using="default", **kwargs) -> int:
    """After migrate (per app, after auth has made its permissions): the default permissions' Chinese names.

    Returns how many were renamed; without ``app_config`` every app's.
    """
    from django.contrib.auth.models import Permission

    permissions = Permission.objects.using(using).select_related("content_type")
    if app_config is not None:
        permissions = permissions.filter(content_type__app_label=app_config.label)
    changed = []
    with translation.override(settings.LANGUAGE_CODE):
        for permission in permissions:
            model = permission.content_type.model_class()
            if model is None:
                continue
            name = chinese_permission_name(permission.codename, model)
            if name is not None and permission.name != str(name):
                permission.name = str(name)[:255]
                changed.append(permission)
    Permission.objects.using(using).bulk_update(changed, ["name"])
    return len(changed)


def _axes_names() -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    def access_log(self):
        return f"{self.username} 的登录记录（{self.attempt_time:%Y-%m-%d %H:%M}）"

    def access_attempt(self):
        return f"{self.username} 的登录失败记录（{self.attempt_time:%Y-%m-%d %H:%M}）"

    def access_failure(self):
        locked = "，已锁定" if self.locked_out else ""
        return f"{self.username} 登录失败（{self.attempt_time:%Y-%m-%d %H:%M}，{self.ip_address}{locked}）"

    AccessLog.__str__ = access_log
    AccessAttempt.__str__ = access_attempt
    AccessFailureLog.__str__ = access_failure


def _totp_names() -> None:
    # The model's name only: its fields' names are plain strings of django-otp's migrations, and
    # changing them in memory would make ``makemigrations`` write a migration into django-otp.
    # The project's own admin (org/admin.py) labels the fields instead.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice._meta.verbose_name = TOTPDevice._meta.verbose_name_plural = "TOTP 两步验证设备"


def install(app_models) -> None:
    """Called once from ``OrgConfig.ready``."""
    name_historical_models(app_models)
    _axes_names()
    _totp_names()
