"""The trainer in its own process: the app's runs train there, at full speed.

`client` is the app's side (no Qt, no torch: a pool of warm processes, jobs, commands,
a stop that never waits more than `client.STOP_GRACE_S`); `child` the process's life;
`run` one run inside it (training, the run store, the rules, the boundary, the
weights); `protocol` the messages; `faults` failures made on purpose for tests.
"""
