"""``tito`` command groups, one file each: workspace (init), module, system."""
