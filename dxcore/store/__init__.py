"""The results store: SQLAlchemy models, the engine and migrations, the one writer, answer links."""
