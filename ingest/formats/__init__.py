"""One parser per file format, each turning raw bytes or text into `Content` (blocks plus metadata)."""

__all__: list[str] = []
