import os

from hypothesis import HealthCheck, settings

# "ci": few examples and no deadline, so the suite stays within minutes on 2 cores.
settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
