"""Online two-level clustering: articles → events → storylines, one article at a time."""

from storylines.cluster.online import Assignment, ClusterSettings, OnlineStoryClusterer

__all__ = ["Assignment", "ClusterSettings", "OnlineStoryClusterer"]
