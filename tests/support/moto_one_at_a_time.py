"""moto_server answering one request at a time, as DynamoDB applies each write whole.

moto's own server is threaded and its backends take no lock: two conditional writes to one
item at once may both succeed there (two claims won, a member leaving twice), which DynamoDB
never lets happen. Served one at a time (werkzeug then answers HTTP/1.0 and closes each
connection, so no client holds the server), every request is atomic, as in DynamoDB; the
ledger's own races (a read, then a write) still race. The arguments are moto_server's.

It exits when its stdin closes: a test binary keeps its idle servers to the end (support/moto.rs)
and never stops them itself, so they end with it, however it ends.
"""

import os
import sys
import threading

import moto.server
from werkzeug.serving import run_simple


def one_at_a_time(*args, **kwargs):
    kwargs["threaded"] = False
    return run_simple(*args, **kwargs)


def exit_with_stdin():
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_with_stdin, daemon=True).start()
moto.server.run_simple = one_at_a_time
moto.server.main(sys.argv[1:])
