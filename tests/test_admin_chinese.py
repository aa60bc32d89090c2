"""Every admin page the superuser opens is in Chinese: a crawl of the index, each app, each model's list,
add and change pages (one object of each), its history, and the password pages, failing on English text.

"English text" is two or more English words in a row in what the page shows (text, button labels,
placeholders, titles), outside the proper nouns and technical names listed below.
"""

import contextlib
import os
import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse

from org.models import Post
from supervision.models import Flag
from supervision.services import findings, review
from tests.conftest import client_for
from tests.factories import AnnouncementFactory, UserFactory, member_with_login

from .supervision.test_review_pages import add_evidence
from .supervision.test_review_services import START, T_RETURN, submitted_record

pytestmark = pytest.mark.django_db

# Names that stay as they are in a Chinese interface.
ALLOWED = [
    "Django",
    "Django administration",  # never shown: site_header is set; kept out of the way of the regex only
    "Excel",
    "Chart.js",
    "Celery",
    "TOTP",
    "SHA-256",
    "MinHash",
    "Jaccard",
    "MIME",
    "PDF",
    "GPS",
    "URL",
    "ID",
    "Webhook",
    "Markdown",
    "NIKON COOLPIX",
    "WeCom",
    "DingTalk",
    "Feishu",
]
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]+(?:[ \-][A-Za-z][A-Za-z'’]*)+")
# Single words that give away an untranslated name (simple-history's "historical 会议", "Can add …").
ENGLISH_WORDS = re.compile(r"\b(?:historical|Historical\w*|Can)\b")
SHOWN_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}


class _VisibleText(HTMLParser):
    """The text a user sees: text nodes outside <script>/<style>, and labels carried in attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        values = dict(attrs)
        for name in SHOWN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data)


def english_runs(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    found = []
    for part in parser.parts:
        for allowed in sorted(ALLOWED, key=len, reverse=True):
            part = part.replace(allowed, " ")
        found.extend(m.group(0) for m in ENGLISH_RUN.finditer(part))
        found.extend(m.group(0) for m in ENGLISH_WORDS.finditer(part))
    return found


def test_the_detector_finds_an_english_sentence_and_spares_the_allowed_names():
    assert english_runs("<p>After you've created a user</p>") == ["After you've created a user"]
    assert english_runs('<input type="submit" value="Save and continue">') == ["Save and continue"]
    assert english_runs("<p>导出 Excel 与 Chart.js 图表</p><script>var a = 'not shown here';</script>") == []
    assert english_runs("<option>三会一课 | historical 会议</option>") == ["historical"]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def one_of_everything(branch, secretary, member, supervisor, superuser):
    """At least one row of each model the admin shows, made the way the app makes them."""
    meeting = submitted_record(branch, secretary, member)
    flag = Flag.objects.create(
        meeting=meeting, kind=Flag.Kind.LATE_ENTRY, key="late", message="会后补录", created_at=START
    )
    review.review_return(meeting=meeting, comment="请补充", user=supervisor, now=T_RETURN)
    findings.finding_raise(
        branch=branch, category="records", severity="minor", description="记录不全", user=supervisor, now=T_RETURN
    )
    AnnouncementFactory()
    member_with_login(branch=branch, username="deputy", role=Post.Role.DEPUTY_SECRETARY)
    add_evidence(meeting, 1)
    Group.objects.create(name="督导组")
    AccessAttempt.objects.create(
        username="root",
        ip_address="10.0.0.1",
        user_agent="Mozilla/5.0",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=3,
    )
    AccessFailureLog.objects.create(
        username="root",
        ip_address="10.0.0.1",
        user_agent="Mozilla/5.0",
        http_accept="*/*",
        path_info="/accounts/login/",
    )
    _one_of_the_content_half(branch, secretary, member, superuser)
    return {"meeting": meeting, "flag": flag}


def _one_of_the_content_half(branch, secretary, member, superuser):
    """Rows of the tasks, study and practice admin screens, made with their models' own defaults."""
    import datetime as dt

    from meetings.models import Place
    from practice.models import PioneerPost
    from study.models import StudyParticipationRule
    from tasks.models import TaskPolicy
    from tasks.services import task_create
    from tests.factories import StudyItemFactory

    Place.objects.create(name="综采一队党员活动室", branch=branch, latitude="35.4", longitude="116.5")
    TaskPolicy.objects.get_or_create()
    StudyParticipationRule.objects.get_or_create()
    StudyItemFactory(created_by=superuser, organization=branch)
    PioneerPost.objects.create(
        branch=branch, member=member.member, name="综采工作面安全先锋岗", statement="安全第一", started_on=START.date()
    )
    task_create(
        organization=branch,
        owner=secretary.member,
        title="学习六月组织生活指南",
        due_at=START + dt.timedelta(days=30),
        now=START,
        assigned_by=superuser,
    )


def admin_urls() -> list[str]:
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    for app_label in sorted({m._meta.app_label for m in admin.site._registry}):
        urls.append(reverse("admin:app_list", args=[app_label]))
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label):
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        with contextlib.suppress(NoReverseMatch):
            urls.append(reverse("admin:{}_{}_add".format(*info)))
        obj = model_admin.get_queryset(_request_for_queryset()).order_by("pk").first()
        if obj is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            urls.append(reverse("admin:{}_{}_history".format(*info), args=[obj.pk]))
    return urls


def _request_for_queryset():
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = UserFactory.build(is_staff=True, is_superuser=True)
    return request


def test_every_admin_page_the_superuser_opens_is_in_chinese(client, superuser, one_of_everything):
    c = client_for(client, superuser)
    problems = {}
    opened = 0
    for url in admin_urls():
        response = c.get(url)
        if response.status_code in (302, 403):  # e.g. an add page the admin forbids: nothing to read
            continue
        assert response.status_code == 200, url
        opened += 1
        runs = english_runs(response.content.decode())
        if runs:
            problems[url] = sorted(set(runs))
    assert opened > 60
    if os.environ.get("ADMIN_CRAWL_DUMP"):  # a file to write every English run to, when adding translations
        every = sorted({run for runs in problems.values() for run in runs})
        with open(os.environ["ADMIN_CRAWL_DUMP"], "w", encoding="utf-8") as out:
            out.write("\n".join(every))
            out.write("\n\n")
            for url, runs in problems.items():
                out.write(f"{url}: {runs}\n")
    assert problems == {}


def test_models_without_a_row_are_few_and_listed(one_of_everything):
    """The crawl opens a change page for every model that has a row; these have none in the fixture."""
    request = _request_for_queryset()
    empty = sorted(
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not model_admin.get_queryset(request).exists()
    )
    print("models without a row:", empty)
    assert len(empty) < len(admin.site._registry) // 2


def test_default_permissions_carry_chinese_names_after_migrate(db):
    from django.contrib.auth.models import Permission

    assert Permission.objects.get(codename="add_meeting").name == "可以添加会议"
    assert Permission.objects.get(codename="view_historicalmeeting").name == "可以查看会议（历史记录）"
    assert Permission.objects.get(codename="delete_accesslog").name == "可以删除登录日志"
    assert not Permission.objects.filter(name__startswith="Can ").exists()
    # A permission of a model's own (not one of the four defaults) is left as written.
    from meetings.models import Meeting
    from org.chinese import chinese_permission_name

    assert chinese_permission_name("lock_meeting", Meeting) is None


def test_renaming_twice_changes_nothing_the_second_time(db):
    from org.chinese import rename_default_permissions

    assert rename_default_permissions() == 0


def test_every_entry_of_the_projects_catalogue_is_compiled_into_the_mo_file(settings):
    """The committed ``django.mo`` matches ``django.po``: each msgid translates to its msgstr at run time."""
    from django.utils import translation

    po = (settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', po, flags=re.MULTILINE)
    assert len(pairs) > 25
    with translation.override("zh-hans"):
        for msgid, msgstr in pairs:
            assert translation.gettext(msgid) == msgstr, msgid


def test_the_filter_horizontal_widgets_script_strings_are_chinese(client, superuser):
    """The permission and group pickers are built by SelectFilter2.js from the admin's JavaScript catalogue."""
    import json

    body = client_for(client, superuser).get(reverse("admin:jsi18n")).content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});", body, flags=re.DOTALL).group(1))
    for msgid in ("Available %s", "Choose all %s", "Remove all %s", "Choose selected %s", "(click to clear)"):
        assert re.search(r"[\u4e00-\u9fff]", catalog[msgid]), msgid
