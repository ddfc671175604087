"""A stand-alone NetSuite simulator for tests and the demo; product code never imports it.

Start one in-process with `NetSuiteSandbox().start()` (or the `netsuite_sandbox` pytest fixture), or as a
process with `python -m netsuite_sandbox serve`. See `app.py` for routes, `suiteql.py` for the SuiteQL
accepted, `governance.Faults` for the faults, `hotwax/` for HotWax's SuiteScripts and `demo.py` for the
demo credentials.
"""

from .demo import DEMO_CREDENTIALS, Credentials
from .governance import Faults
from .server import NetSuiteSandbox

__all__ = ["DEMO_CREDENTIALS", "Credentials", "Faults", "NetSuiteSandbox"]
