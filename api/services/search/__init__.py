"""Search per locale: how text is read (``analysis``), indexed and queried."""
