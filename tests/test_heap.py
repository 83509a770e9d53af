"""A served process keeps its start-up heap out of the garbage collector's walks (app.heap)."""

import subprocess
import sys

# In a child process: frozen objects stay frozen for the life of the process.
CHECK = """
import gc
import app.main  # what a server imports
from app.heap import YOUNG_THRESHOLD, settle
assert gc.get_freeze_count() == 0
settle()
assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()
assert gc.get_count()[2] == 0
assert gc.get_threshold()[0] == YOUNG_THRESHOLD
"""


def test_settling_freezes_what_start_up_made_and_collects_young_objects_less_often():
    subprocess.run([sys.executable, "-c", CHECK], check=True, timeout=60)
