"""Practice (实践活动): 主题党日 activities and hazards, 技术攻关 projects, 先锋岗 and 责任区.

Split by concern; each module's docstring says what it holds.
"""

from .activities import Activity, ActivityKind, Hazard
from .posts import PioneerPost
from .projects import Project, ProjectEvent, ProjectEvidence, ProjectMember, ProjectMilestone, VerifyingDepartment

__all__ = [
    "Activity",
    "ActivityKind",
    "Hazard",
    "PioneerPost",
    "Project",
    "ProjectEvent",
    "ProjectEvidence",
    "ProjectMember",
    "ProjectMilestone",
    "VerifyingDepartment",
]
