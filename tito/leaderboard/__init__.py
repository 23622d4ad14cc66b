"""The Torch Olympics leaderboard server: ``tito olympics serve`` and ``tito olympics admin``.

An instructor runs one server for a class. Participants upload a packed submission with their
token; the server checks the archive, stores it durably and queues it; evaluation workers (other
processes) re-measure every submission with ``tinytorch.olympics.evaluate.evaluate`` in a fresh,
limited process, and only those measurements are ranked.

- ``store.py``: the database (SQLite file by default, PostgreSQL by URL), schema and migrations.
- ``archive.py``: checking an uploaded archive and writing artifacts atomically.
- ``app.py``: the FastAPI application (JSON API and HTML pages); ``pages.py`` renders the HTML.
- ``worker.py``: the evaluation worker; ``sandbox.py`` is what it runs for one submission.
- ``cli.py``: the ``serve`` and ``admin`` subcommands.

Needs the optional extra: ``pip install -e ".[olympics]"``. See docs/olympics-server.md.
"""
