"""Online two-level clustering: articles → events → storylines, one article at a time."""

from storylines.cluster.online import Assignment, OnlineStoryClusterer
from storylines.settings import ClusterSettings

__all__ = ["Assignment", "ClusterSettings", "OnlineStoryClusterer"]
