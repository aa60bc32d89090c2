"""factory_boy factories and the named people of the permission tests."""

import datetime as dt
import itertools

import factory
from django.utils import timezone

from bulletin.models import Announcement
from org.models import Member, Membership, Organization, Post, StaffRole, User
from org.validators import id_number_check_char

_id_seq = itertools.count(1)


def make_id_number(born: dt.date = dt.date(1985, 6, 15), region: str = "370883") -> str:
    """A valid 18-character resident ID number, unique per call."""
    first17 = f"{region}{born:%Y%m%d}{next(_id_seq) % 1000:03d}"
    return first17 + id_number_check_char(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.cn")
    password = factory.django.Password("pw-for-tests-123")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"组织{n}")
    kind = Organization.Kind.COMMITTEE


class CommitteeFactory(OrganizationFactory):
    name = "测试煤矿党委"
    kind = Organization.Kind.COMMITTEE

    class Meta:
        model = Organization
        django_get_or_create = ("name", "kind")


class BranchFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"第{n}支部")
    kind = Organization.Kind.BRANCH
    parent = factory.SubFactory(CommitteeFactory)


class GroupFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"第{n}党小组")
    kind = Organization.Kind.GROUP
    parent = factory.SubFactory(BranchFactory)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    name = factory.Sequence(lambda n: f"党员{n}")
    gender = Member.Gender.MALE
    id_number = factory.LazyFunction(make_id_number)
    category = Member.Category.FULL
    joined_on = dt.date(2010, 7, 1)
    status = Member.Status.ACTIVE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(BranchFactory)
    started_on = dt.date(2020, 1, 1)


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(BranchFactory)
    role = Post.Role.SECRETARY
    started_on = dt.date(2020, 1, 1)


class AnnouncementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Announcement

    title = factory.Sequence(lambda n: f"公告{n}")
    body = "请各支部认真学习。"
    published_at = factory.LazyFunction(timezone.now)


def member_with_login(*, branch, username, group=None, role=None, category=Member.Category.FULL, name=None):
    """A member of ``branch`` (and ``group``) with a login and optionally a post in the branch."""
    user = UserFactory(username=username)
    member = MemberFactory(user=user, category=category, **({"name": name} if name else {}))
    MembershipFactory(member=member, organization=branch)
    if group is not None:
        MembershipFactory(member=member, organization=group)
    if role is not None:
        PostFactory(member=member, organization=group if role == Post.Role.GROUP_LEADER else branch, role=role)
    return user


def staff_user(*, username, role):
    user = UserFactory(username=username)
    StaffRole.objects.create(user=user, organization=CommitteeFactory(), role=role)
    return user


# --- Meetings -------------------------------------------------------------------------


def meeting_type(code):
    from meetings.models import MeetingType

    return MeetingType.objects.get(code=code)


class MeetingFactory(factory.django.DjangoModelFactory):
    """A planned meeting; pass ``types=["committee_meeting", ...]`` as codes."""

    class Meta:
        model = "meetings.Meeting"
        skip_postgeneration_save = True

    branch = factory.SubFactory(BranchFactory)
    topic = factory.Sequence(lambda n: f"学习贯彻安全生产会议精神（{n}）")
    planned_start = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=2))
    planned_end = factory.LazyAttribute(lambda o: o.planned_start + dt.timedelta(hours=1, minutes=30))
    place = "三楼党员活动室"

    @factory.post_generation
    def types(self, create, extracted, **kwargs):
        if create:
            self.types.set([meeting_type(code) for code in (extracted or ["general_meeting"])])


def approved_leave(meeting, member, *, reason="井下当班", decided_by=None):
    """An approved leave request made the day before ``meeting`` started: the only source of 请假."""
    from meetings.models import LeaveRequest

    asked = meeting.planned_start - dt.timedelta(days=1)
    return LeaveRequest.objects.create(
        meeting=meeting,
        member=member,
        reason=reason,
        status=LeaveRequest.Status.APPROVED,
        created_at=asked,
        decided_by=decided_by,
        decided_at=asked,
    )


# --- Study library ----------------------------------------------------------------------


def study_column(name="理论学习"):
    from study.models import Column

    return Column.objects.get_or_create(name=name)[0]


class StudyItemFactory(factory.django.DjangoModelFactory):
    """A published mine-wide article of the 党委; pass ``state``, ``audience``, ``organization``."""

    class Meta:
        model = "study.StudyItem"
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"学习《安全生产法》第{n}讲")
    kind = "article"
    column = factory.LazyFunction(study_column)
    body = "第一条 为了加强安全生产工作，防止和减少生产安全事故。"
    organization = factory.SubFactory(CommitteeFactory)
    audience = "mine"
    state = "published"
    credit_hours = 1
    created_by = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)
    published_at = factory.LazyAttribute(lambda o: o.created_at if o.state == "published" else None)

    @factory.post_generation
    def branches(self, create, extracted, **kwargs):
        if create and extracted:
            self.branches.set(extracted)
