"""Study (学习教育): the library of materials and 微党课, and each member's learning records.

Split by concern; each module's docstring says what it holds.
"""

from .assignments import Assignment, AssignmentTarget
from .groups import GroupPost, GroupPostPhoto
from .library import Column, StudyItem, StudyMedia, StudyPolicy, StudyRequirement
from .participation import StudyParticipationRule
from .quiz import Answer, Attempt, Choice, Question, Quiz
from .records import LearningRecord

__all__ = [
    "Answer",
    "Assignment",
    "AssignmentTarget",
    "Attempt",
    "Choice",
    "Column",
    "GroupPost",
    "GroupPostPhoto",
    "LearningRecord",
    "Question",
    "Quiz",
    "StudyItem",
    "StudyMedia",
    "StudyParticipationRule",
    "StudyPolicy",
    "StudyRequirement",
]
