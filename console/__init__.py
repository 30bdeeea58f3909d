"""VIP Operations Console: the application (everything that is not drawing widgets)."""
