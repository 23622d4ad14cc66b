"""The course behind ``tito``: the manifest, exercise regions, the student edition, workspaces."""
