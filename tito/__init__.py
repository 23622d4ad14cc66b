"""``tito``: the TinyTorch command line for learners and instructors."""
