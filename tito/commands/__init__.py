"""``tito`` command groups, one file each: workspace (init), module, milestones, system and
instructor (release, grade)."""
