import os

from hypothesis import HealthCheck, settings

# Compiled kernels and Jacobians make examples slow to run: no per-example deadline.
settings.register_profile("dev", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
# CI: the same examples every run, so a red build can be reproduced.
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True,
                          print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
