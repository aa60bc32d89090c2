from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from .models import AuditEvent, Member, Membership, MemberStatusPeriod, Organization, Post, PostDuty, StaffRole, User


@admin.register(User)
class SanhuiUserAdmin(UserAdmin):
    list_display = ("username", "name", "is_active", "is_staff", "last_login")

    @admin.display(description="姓名")
    def name(self, obj):
        return obj.display_name


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization"]


class MemberStatusPeriodInline(admin.TabularInline):
    """The dated 党籍状态 (留党察看 …): vote rights at a past meeting follow it."""

    model = MemberStatusPeriod
    extra = 0
    fields = ("status", "started_on", "ended_on", "note")


class PostInline(admin.TabularInline):
    model = Post
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "parent", "sort_order", "is_active", "founded_on", "dissolved_on")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    list_select_related = ("parent",)
    autocomplete_fields = ["parent"]


@admin.register(Member)
class MemberAdmin(SimpleHistoryAdmin):
    list_display = ("name", "gender", "masked_id_number", "category", "status", "phone")
    list_filter = ("category", "status", "gender")
    search_fields = ("name", "id_number", "phone")
    inlines = [MembershipInline, MemberStatusPeriodInline, PostInline]
    raw_id_fields = ["user"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The current status follows the dated history once there is one.
        member = form.instance
        today = timezone.localdate()
        current = member.status_on(today)
        if member.status_periods.exists() and current != member.status:
            member.status = current
            member.save(update_fields=["status", "updated_at"])

    @admin.display(description="身份证号")
    def masked_id_number(self, obj):
        return obj.masked_id_number


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    list_display = ("organization", "role", "member", "started_on", "ended_on")
    list_filter = ("role",)
    search_fields = ("member__name", "organization__name")
    list_select_related = ("organization", "member")
    autocomplete_fields = ["organization", "member"]


@admin.register(StaffRole)
class StaffRoleAdmin(SimpleHistoryAdmin):
    list_display = ("user", "organization", "role")
    list_filter = ("role",)
    list_select_related = ("user", "organization")
    raw_id_fields = ["user"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read only: an audit log nobody can add to, change or delete from by hand."""

    list_display = ("at", "username", "action", "object_repr", "ip_address")
    list_filter = ("action",)
    search_fields = ("username", "object_repr", "ip_address")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# django-otp's own TOTP device admin is English throughout; the 系统管理员 needs only to see a
# login's devices and remove a lost phone's (the user enrols again on 两步验证).
admin.site.unregister(TOTPDevice)


class TOTPDeviceForm(forms.ModelForm):
    class Meta:
        model = TOTPDevice
        fields = ["name", "confirmed"]
        labels = {"name": "设备名称", "confirmed": "已启用"}
        help_texts = {"name": "便于识别的设备名称。", "confirmed": "验证过一次动态码后才启用；取消即停用该设备。"}


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    form = TOTPDeviceForm
    list_display = ["owner", "device_name", "enabled", "added", "last_used"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    search_help_text = "按用户名或姓名搜索"
    fields = ["owner", "name", "confirmed", "added", "last_used"]
    readonly_fields = ["owner", "added", "last_used"]

    @admin.display(description="用户", ordering="user__username")
    def owner(self, device):
        return device.user

    @admin.display(description="设备名称", ordering="name")
    def device_name(self, device):
        return device.name

    @admin.display(description="已启用", boolean=True, ordering="confirmed")
    def enabled(self, device):
        return device.confirmed

    @admin.display(description="添加时间", ordering="created_at")
    def added(self, device):
        return device.created_at

    @admin.display(description="最近使用时间", ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at

    def has_add_permission(self, request):
        return False  # enrolment happens on the 两步验证 page, where the user scans the code


@admin.register(PostDuty)
class PostDutyAdmin(SimpleHistoryAdmin):
    list_display = ("organization", "role", "updated_at")
    list_filter = ("role",)
    search_fields = ("organization__name", "duties")
