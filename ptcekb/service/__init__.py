"""The HTTP service: a FastAPI app factory and one module per resource family."""
