"""A Lambda handler for the worker tests: answers its pid, or dies as a killed container does."""

import os
import signal


def handler(event, context):
    if event.get("die"):
        os.kill(os.getpid(), signal.SIGKILL)
    return {"pid": os.getpid()}
