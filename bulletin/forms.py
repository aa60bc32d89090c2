"""Forms of the bulletin: validation and layout only."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Announcement
from .selectors import may_publish_mine_wide, publishable_branches


class AnnouncementForm(forms.Form):
    """An announcement's fields; the audience offered is what the user may publish to."""

    title = forms.CharField(label="标题", max_length=200)
    body = forms.CharField(label="正文", widget=forms.Textarea(attrs={"rows": 10}), help_text="纯文本，空行分段。")
    kind = forms.ChoiceField(label="类别", choices=Announcement.Kind.choices, initial=Announcement.Kind.NOTICE)
    organization = forms.ModelChoiceField(label="发布范围", queryset=None, required=False)
    published_at = forms.DateTimeField(
        label="发布时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="留空为立即发布；选择将来的时间则到时发布，之前只有发布人和管理者可见。",
    )
    pinned = forms.BooleanField(label="置顶", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        field.queryset = publishable_branches(user)
        if may_publish_mine_wide(user):
            field.empty_label = _("全矿")
        else:
            field.required = True
            field.empty_label = None

    @classmethod
    def initial_for(cls, announcement: Announcement) -> dict:
        return {
            "title": announcement.title,
            "body": announcement.body,
            "kind": announcement.kind,
            "organization": announcement.organization_id,
            "published_at": timezone.localtime(announcement.published_at),
            "pinned": announcement.pinned,
        }
