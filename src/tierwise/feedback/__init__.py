"""Satisfaction and feedback by value (``docs/feedback.md``).

* :mod:`.satisfaction`: CSAT, NPS and response rate per tier, segment, store and account
  manager, and their monthly trend, from the survey answers;
* :mod:`.complaints`: complaints and comments counted by category and tier, and the open
  complaints of key and major customers (they become ``open_complaint`` tasks);
* :mod:`.keywords`: simple keyword grouping of the comments (jieba for Chinese, words for
  English);
* :mod:`.tables`: all of them as the run's tables.
"""

from __future__ import annotations

from .complaints import classify, feedback_counts, open_complaints
from .keywords import comment_keywords, keyword_table
from .satisfaction import satisfaction_table, satisfaction_trend
from .tables import FEEDBACK_TABLES, feedback_rows, feedback_tables

__all__ = ["FEEDBACK_TABLES", "classify", "comment_keywords", "feedback_counts",
           "feedback_rows", "feedback_tables", "keyword_table", "open_complaints",
           "satisfaction_table", "satisfaction_trend"]
