"""`python -m certctl`, as a short-lived process: the cyclic garbage collector stays out of its start and its exit.

The imports (boto3, certlib: about 44,000 objects the collector tracks) and the AWS service models the clients load
live as long as the process. Collecting them while they are created and again at exit frees nothing, and cost
about 0.2 s at start-up and 0.3-0.45 s at exit (measured here under a load of 12; 0.05 s at exit with gc.freeze),
against a sandbox issuance of about 0.6 s (issue 16, goal 4). gc.freeze moves them out of the collector's sight:
the collector stays on for what the command itself creates, and objects are still finalized at exit as before.
"""

import gc
import sys

gc.disable()
from certctl.cli import main  # noqa: E402  (imported with the collector off: see above)

gc.freeze()
gc.enable()
status = main()
gc.freeze()
sys.exit(status)
