"""The study app's shipped data: the library's columns, the yearly 学时 requirements, the policy row.

Loaded by a data migration (and again by the test set-up after a transactional test flushed
the tables); the admin edits them afterwards, existing rows are left as edited.
"""

from decimal import Decimal

COLUMNS = ["理论学习", "安全生产", "警示教育", "微党课"]
# domain.md, study hours: 32 学时 a year for members, 56 for 书记 and 支委.
REQUIREMENTS = {"member": Decimal("32"), "committee": Decimal("56")}


def load_defaults(apps) -> None:
    Column = apps.get_model("study", "Column")
    Requirement = apps.get_model("study", "StudyRequirement")
    Policy = apps.get_model("study", "StudyPolicy")
    for order, name in enumerate(COLUMNS):
        Column.objects.get_or_create(name=name, defaults={"order": order})
    for audience, hours in REQUIREMENTS.items():
        Requirement.objects.get_or_create(audience=audience, year=None, defaults={"hours": hours})
    if not Policy.objects.exists():
        Policy.objects.create()
