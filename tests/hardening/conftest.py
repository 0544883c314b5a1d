# The tracing fixture of the core tests, shared rather than copied.
from tests.core.test_tracing import traced  # noqa: F401
