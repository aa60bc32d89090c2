"""Organisations, members, memberships with dates, posts with dates, and staff roles."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .validators import mask_id_number, normalize_id_number, validate_id_number, validate_phone


class User(AbstractUser):
    """A login. Linked to at most one party member through ``Member.user``."""

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def display_name(self) -> str:
        member = getattr(self, "member", None)
        if member is not None:
            return member.name
        return self.get_full_name() or self.username


class OrganizationQuerySet(models.QuerySet):
    def branches(self):
        return self.filter(kind=Organization.Kind.BRANCH)

    def groups(self):
        return self.filter(kind=Organization.Kind.GROUP)

    def active(self):
        return self.filter(is_active=True)

    def alive_during(self, first: dt.date, last: dt.date):
        """Units that existed on some day of [first, last]: active or dissolved after ``first``, founded by ``last``.

        An inactive unit without a dissolution date is left out, as before dissolution dates existed.
        """
        return self.filter(Q(is_active=True) | Q(dissolved_on__gt=first)).filter(
            Q(founded_on__isnull=True) | Q(founded_on__lte=last)
        )


class Organization(models.Model):
    """One node of the party tree: 党委 → optional 党总支 → 党支部 → 党小组.

    One table for every level keeps the tree uniform; ``kind`` says which level a
    row is and ``clean()`` keeps parents consistent (a group's parent is a branch).
    """

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("党委")
        GENERAL_BRANCH = "general_branch", _("党总支")
        BRANCH = "branch", _("党支部")
        GROUP = "group", _("党小组")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("层级"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级组织"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("有效"), default=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    # Exclusive, like Membership.ended_on: the first day the unit no longer exists.
    dissolved_on = models.DateField(
        _("撤销日期"), null=True, blank=True, help_text=_("撤销当日起不再存在；此前各期的召开要求照常计算")
    )
    # Meeting place coordinates are optional; the evidence checks use them when present.
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    objects = OrganizationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="%(app_label)s_%(class)s_unique_name_in_parent",
                violation_error_message=_("同一上级组织下已有同名组织。"),
            ),
        ]
        indexes = [models.Index(fields=["kind", "parent"], name="org_organization_kind_parent")]
        constraints += [
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True)
                | Q(founded_on__isnull=True)
                | Q(dissolved_on__gt=F("founded_on")),
                name="%(app_label)s_%(class)s_dissolved_after_founded",
                violation_error_message=_("撤销日期必须晚于成立日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def exists_throughout(self, first: dt.date, last: dt.date) -> bool:
        """Whether the unit existed on every day of [first, last]: the one rule of when a period is required of it.

        A period (month, quarter …) is required of a branch or group only when the unit existed for
        all of it: a group founded on 15 March owes nothing for March (its first whole month is
        April), one dissolved on 10 October owes nothing for October and after, and keeps what it
        missed before. No dates means always.
        """
        if self.founded_on is not None and self.founded_on > first:
            return False
        return self.dissolved_on is None or self.dissolved_on > last

    _allowed_parents = {
        Kind.COMMITTEE: {None},
        Kind.GENERAL_BRANCH: {Kind.COMMITTEE},
        Kind.BRANCH: {Kind.COMMITTEE, Kind.GENERAL_BRANCH},
        Kind.GROUP: {Kind.BRANCH},
    }

    def clean(self):
        from django.core.exceptions import ValidationError

        parent_kind = self.parent.kind if self.parent_id else None
        if parent_kind not in self._allowed_parents.get(self.kind, set()):
            raise ValidationError({"parent": _("该层级的上级组织不正确。")})

    @property
    def is_branch(self) -> bool:
        return self.kind == self.Kind.BRANCH


class MemberQuerySet(models.QuerySet):
    def in_good_standing(self):
        """Members still on the roll (在册 or 留党察看)."""
        return self.filter(status__in=Member.ON_ROLL_STATUSES)

    def with_status_history(self):
        """Prefetch the dated statuses that ``Member.status_on`` / ``can_vote_on`` read."""
        return self.prefetch_related("status_periods")

    def of_organization_on(self, organization, on: dt.date):
        """Members of ``organization`` (a branch or a group) on date ``on``: one query."""
        # One filter() call, so that every condition applies to the same membership row.
        return self.filter(
            Q(memberships__organization=organization)
            & Q(memberships__started_on__lte=on)
            & (Q(memberships__ended_on__isnull=True) | Q(memberships__ended_on__gt=on))
        ).distinct()


class Member(models.Model):
    """A party member (党员) of the mine, with or without a login."""

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Category(models.TextChoices):
        FULL = "full", _("正式党员")
        PROBATIONARY = "probationary", _("预备党员")

    class Status(models.TextChoices):
        ACTIVE = "active", _("在册")
        DISCIPLINARY_PROBATION = "disciplinary_probation", _("留党察看")
        TRANSFERRED_OUT = "transferred_out", _("转出")
        SUSPENDED = "suspended", _("停止党籍")
        EXPELLED = "expelled", _("出党")
        DECEASED = "deceased", _("去世")

    ON_ROLL_STATUSES = (Status.ACTIVE, Status.DISCIPLINARY_PROBATION)

    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    id_number = models.CharField(_("身份证号"), max_length=18, unique=True, validators=[validate_id_number])
    phone = models.CharField(_("手机号"), max_length=20, blank=True, validators=[validate_phone])
    category = models.CharField(_("党员类别"), max_length=20, choices=Category.choices, default=Category.FULL)
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    full_member_on = models.DateField(_("转正日期"), null=True, blank=True)
    status = models.CharField(_("党籍状态"), max_length=30, choices=Status.choices, default=Status.ACTIVE)
    user = models.OneToOneField(
        User, verbose_name=_("登录账号"), null=True, blank=True, on_delete=models.SET_NULL, related_name="member"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MemberQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category="full") | Q(full_member_on__isnull=True),
                name="%(app_label)s_%(class)s_probationary_has_no_full_date",
                violation_error_message=_("预备党员不能有转正日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # One spelling of each ID number, so that "…123x" and "…123X" cannot both be stored.
        self.id_number = normalize_id_number(self.id_number)
        super().save(*args, **kwargs)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def is_full_member_on(self, on: dt.date) -> bool:
        """正式党员 on date ``on`` (a probationary member never votes)."""
        if self.category != self.Category.FULL:
            return False
        return self.full_member_on is None or self.full_member_on <= on

    def status_on(self, on: dt.date) -> str:
        """The 党籍状态 on date ``on``, from the dated history (``status_periods``).

        A period covering ``on`` decides. Outside every period the member is 在册,
        except that a current status with no dated period at all (entered before the
        history existed, or by the roster import) is taken to hold on every date.
        Reads ``status_periods`` through the prefetch cache when present
        (``Member.objects.with_status_history()``), so a list of attendees costs one query.
        """
        periods = list(self.status_periods.all()) if self.pk else []
        for period in periods:
            if period.is_current_on(on):
                return period.status
        if self.status != self.Status.ACTIVE and not any(p.status == self.status for p in periods):
            return self.status
        return self.Status.ACTIVE

    def can_vote_on(self, on: dt.date) -> bool:
        """Vote right on ``on`` (the one home of it): a full member, 在册 on that date.

        预备党员 and members under 留党察看 neither vote nor elect nor are elected (党章),
        so the same predicate decides who may hold a post or stand for election.
        """
        return self.is_full_member_on(on) and self.status_on(on) == self.Status.ACTIVE

    def no_vote_reason_on(self, on: dt.date) -> str:
        """Why ``can_vote_on(on)`` is false, in the secretary's words ('' when it is true)."""
        if not self.is_full_member_on(on):
            return str(_("{name}在{date}是预备党员").format(name=self.name, date=on.isoformat()))
        status = self.status_on(on)
        if status != self.Status.ACTIVE:
            label = self.Status(status).label
            return str(
                _("{name}在{date}的党籍状态为{status}").format(name=self.name, date=on.isoformat(), status=label)
            )
        return ""


class MemberStatusPeriod(models.Model):
    """A dated 党籍状态 other than 在册 (e.g. 留党察看 from 1 March to 1 September).

    ``ended_on`` is exclusive, as in ``Membership``: a member under 留党察看 until
    1 September votes again at a meeting on 1 September. ``Member.status`` stays the
    current value; vote rights at a past meeting follow these periods (``Member.status_on``).
    """

    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="status_periods")
    status = models.CharField(_("党籍状态"), max_length=30, choices=Member.Status.choices)
    started_on = models.DateField(_("起始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True, help_text=_("不含当天；仍在期间内则留空"))
    note = models.CharField(_("依据"), max_length=200, blank=True, help_text=_("如处分决定文号"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党籍状态记录")
        verbose_name_plural = _("党籍状态记录")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=models.F("started_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束日期必须晚于起始日期。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="active"),
                name="%(app_label)s_%(class)s_not_active",
                violation_error_message=_("“在册”无须记录期间，只记录留党察看等其他状态。"),
            ),
        ]
        indexes = [models.Index(fields=["member", "started_on"], name="org_statusperiod_member_start")]

    def __str__(self) -> str:
        return f"{self.member} {self.get_status_display()} {self.started_on}"

    def is_current_on(self, on: dt.date) -> bool:
        return self.started_on <= on and (self.ended_on is None or self.ended_on > on)

    def clean(self):
        from django.core.exceptions import ValidationError

        if not self.member_id or not self.started_on:
            return
        others = MemberStatusPeriod.objects.filter(member_id=self.member_id).exclude(pk=self.pk)
        # Two periods overlap when each starts before the other ends.
        overlap = others.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=self.started_on))
        if self.ended_on is not None:
            overlap = overlap.filter(started_on__lt=self.ended_on)
        if overlap.exists():
            raise ValidationError(_("与该党员已有的党籍状态记录时间重叠。"))


class Membership(models.Model):
    """A member's belonging to a branch or a group between two dates.

    ``ended_on`` is exclusive: a member transferred on D belongs to the new branch
    from D and no longer to the old one, so no day counts them twice.
    """

    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="memberships"
    )
    started_on = models.DateField(_("起始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("组织关系")
        verbose_name_plural = _("组织关系")
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=models.F("started_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("结束日期必须晚于起始日期。"),
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "started_on", "ended_on"], name="org_membership_org_dates"),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.organization}"

    def is_current_on(self, on: dt.date) -> bool:
        return self.started_on <= on and (self.ended_on is None or self.ended_on > on)


class Post(models.Model):
    """A post (职务) held in a branch or group between two dates."""

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("书记")
        DEPUTY_SECRETARY = "deputy_secretary", _("副书记")
        ORGANIZATION = "organization", _("组织委员")
        PROPAGANDA = "propaganda", _("宣传委员")
        DISCIPLINE = "discipline", _("纪检委员")
        GROUP_LEADER = "group_leader", _("党小组长")

    # Roles that make a member part of the branch committee (支委).
    COMMITTEE_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION, Role.PROPAGANDA, Role.DISCIPLINE)

    member = models.ForeignKey(Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="posts")
    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="posts"
    )
    role = models.CharField(_("职务"), max_length=30, choices=Role.choices)
    started_on = models.DateField(_("任职日期"))
    ended_on = models.DateField(_("离任日期"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("职务")
        verbose_name_plural = _("职务")
        ordering = ["organization", "role", "-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=models.F("started_on")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message=_("离任日期必须晚于任职日期。"),
            ),
        ]
        indexes = [models.Index(fields=["organization", "role", "ended_on"], name="org_post_org_role")]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_role_display()} {self.member}"

    def clean(self):
        """A 预备党员 (or a member under 留党察看) is never elected: they cannot hold a post."""
        from django.core.exceptions import ValidationError

        # ``member`` rather than ``member_id``: in the member's admin page the post is an
        # inline, checked against the member being added (not saved yet) as well.
        member = getattr(self, "member", None) if self.member_id or "member" in self._state.fields_cache else None
        if member is None or not self.started_on:
            return
        if not member.can_vote_on(self.started_on):
            # Not tied to the member field: in the member's admin page that field is hidden.
            raise ValidationError(
                _("{reason}，没有被选举权，不能担任{role}。").format(
                    reason=member.no_vote_reason_on(self.started_on), role=self.get_role_display()
                ),
                code="not_eligible",
            )


class PostDuty(models.Model):
    """The written duties (支委分工) of one committee post of one branch, edited by its 书记."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("支部"), on_delete=models.CASCADE, related_name="post_duties"
    )
    role = models.CharField(_("职务"), max_length=30, choices=Post.Role.choices)
    duties = models.TextField(_("职责分工"), blank=True)
    updated_by = models.ForeignKey(
        User, verbose_name=_("修改人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("修改时间"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("支委分工")
        verbose_name_plural = _("支委分工")
        ordering = ["organization", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "role"],
                name="%(app_label)s_%(class)s_one_per_post",
                violation_error_message=_("该支部的这个职务已有分工。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_role_display()}"


class StaffRole(models.Model):
    """A role held at 党委 level by a login: supervision (督导), the committee, system administration."""

    class Role(models.TextChoices):
        WORK_DEPT = "work_dept", _("党委工作部")
        DISCIPLINE_DEPT = "discipline_dept", _("纪检部")
        COMMITTEE = "committee", _("党委委员")
        ADMIN = "admin", _("系统管理员")

    SUPERVISOR_ROLES = (Role.WORK_DEPT, Role.DISCIPLINE_DEPT)

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="staff_roles")
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("党委"),
        on_delete=models.PROTECT,
        related_name="staff_roles",
        limit_choices_to={"kind": Organization.Kind.COMMITTEE},
    )
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("党委角色")
        verbose_name_plural = _("党委角色")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"],
                name="%(app_label)s_%(class)s_unique_role",
                violation_error_message=_("该用户已有此角色。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()}"


class AuditEventQuerySet(models.QuerySet):
    """Rows are written once and never changed: no bulk update or delete either."""

    def update(self, **kwargs):
        raise TypeError("audit events cannot be changed")

    def delete(self):
        raise TypeError("audit events cannot be deleted")


class AuditEvent(models.Model):
    """A download of personal data or evidence: who, what, when and from where.

    Written by ``org.audit.record`` only; never edited or deleted (no admin add/change/delete,
    ``save`` refuses an existing row, the queryset refuses ``update``/``delete``). A login with
    events cannot be deleted (``PROTECT``): deactivate it instead.
    """

    class Action(models.TextChoices):
        ROSTER_EXPORT = "roster_export", _("导出党员名册（完整身份证号）")
        EVIDENCE_DOWNLOAD = "evidence_download", _("下载佐证材料")

    at = models.DateTimeField(_("时间"), db_index=True)
    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="audit_events")
    username = models.CharField(_("用户名"), max_length=150)
    action = models.CharField(_("操作"), max_length=30, choices=Action.choices)
    object_repr = models.CharField(_("对象"), max_length=200)
    object_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=200, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events cannot be deleted")
