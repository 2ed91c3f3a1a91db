"""HTTP: the JSON API and the web UI (``make_app``)."""
