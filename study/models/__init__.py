"""Study (学习教育): the library of materials and 微党课, and each member's learning records.

Split by concern; each module's docstring says what it holds.
"""

from .library import Column, StudyItem, StudyMedia, StudyPolicy, StudyRequirement
from .records import LearningRecord

__all__ = ["Column", "LearningRecord", "StudyItem", "StudyMedia", "StudyPolicy", "StudyRequirement"]
