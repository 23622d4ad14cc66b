"""The course behind ``tito``: the manifest, exercise regions, the student edition, workspaces,
lesson notebooks, the student release and grading."""
