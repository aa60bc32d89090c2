"""The practice app's shipped data: 主题党日 activity kinds and the departments that verify 攻关 outcomes.

Loaded by data migrations (and again by the test set-up after a transactional test flushed
the tables); the admin edits them afterwards, existing rows are left as edited.
"""

# (name, links a study item, records hazards)
ACTIVITY_KINDS = [
    ("观看警示片/学习", True, False),
    ("隐患排查/讨论", False, True),
    ("参观教育基地", False, False),
    ("志愿服务", False, False),
    ("岗位实践", False, False),
]
DEPARTMENTS = ["生产技术科", "安监处", "财务部"]


def load_activity_kinds(apps) -> None:
    ActivityKind = apps.get_model("practice", "ActivityKind")
    for order, (name, links_study, records_hazards) in enumerate(ACTIVITY_KINDS):
        ActivityKind.objects.get_or_create(
            name=name, defaults={"order": order, "links_study": links_study, "records_hazards": records_hazards}
        )


def load_departments(apps) -> None:
    VerifyingDepartment = apps.get_model("practice", "VerifyingDepartment")
    for order, name in enumerate(DEPARTMENTS):
        VerifyingDepartment.objects.get_or_create(name=name, defaults={"order": order})
