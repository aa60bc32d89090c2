"""The published demo logins (``seed_demo`` creates them; ``check --deploy`` refuses them in production)."""

from .models import StaffRole

# For demonstrations only: every demo login shares it. Never load this data into production.
DEMO_PASSWORD = "sanhui-demo-2026"  # noqa: S105 - published on purpose, see above

STAFF_LOGINS = [
    ("admin", StaffRole.Role.ADMIN, "陈志刚"),
    ("supervisor", StaffRole.Role.WORK_DEPT, "刘建国"),
    ("jijian", StaffRole.Role.DISCIPLINE_DEPT, "孙丽华"),
    ("committee", StaffRole.Role.COMMITTEE, "郑国强"),
]

# The member logins seed_demo (bulletin) plans (shuji, shuji2, zuzhang, dangyuan, yubei); `check --deploy`
# (org/checks.py) fails while any demo login still accepts DEMO_PASSWORD.
DEMO_MEMBER_USERNAMES = ("shuji", "shuji2", "zuzhang", "dangyuan", "yubei")
