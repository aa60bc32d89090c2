"""Admin screens of 学习任务, 学习交流群, 测验 and study in participation (registered by StudyConfig.ready)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Assignment, Choice, GroupPost, Question, Quiz, StudyParticipationRule


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1
    show_change_link = True


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ("item", "pass_percent")
    search_fields = ("item__title",)
    raw_id_fields = ("item",)
    inlines = [QuestionInline]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 3


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("text", "quiz", "kind", "order")
    list_select_related = ("quiz__item",)
    inlines = [ChoiceInline]


@admin.register(StudyParticipationRule)
class StudyParticipationRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "show_on_participation", "commendation_min_completed", "commendation_min_lessons")


@admin.register(Assignment)
class AssignmentAdmin(SimpleHistoryAdmin):
    list_display = ("item", "audience", "due_at", "created_by", "created_at")
    list_select_related = ("item", "created_by")
    readonly_fields = ("item", "audience", "branch", "due_at", "created_by", "created_at", "token")
    exclude = ("branches",)


@admin.register(GroupPost)
class GroupPostAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "branch", "author", "created_at", "hidden_at")
    list_select_related = ("branch", "author")
    list_filter = ("branch",)
    readonly_fields = (
        "branch",
        "author",
        "item",
        "text",
        "created_at",
        "hidden_at",
        "hidden_by",
        "hidden_reason",
        "token",
    )
