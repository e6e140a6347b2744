"""Code that runs inside the Rasa process: input/output channels (``channels``), the caching SQL
tracker store, and the run-time fixes of ``patches`` (with the launcher ``process``)."""
