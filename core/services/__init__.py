"""Business services: one module per job; callers (commands, tasks, views) stay thin."""
