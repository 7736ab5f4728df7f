import os

from hypothesis import HealthCheck, settings

# "ci": few examples and no deadline, so the suite stays within minutes on 2 cores.
settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
# "thorough": for a developer's run before a release (HYPOTHESIS_PROFILE=thorough); minutes, not seconds.
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
