"""FinFlow's shared library, shipped as the common Lambda layer."""
