"""GPU test suite (a package so its conftest does not shadow tests/conftest.py on import)."""
