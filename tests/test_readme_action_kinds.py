"""The README's list of action kinds is the service's: a client writes the kinds it may hand out
from it, and one it leaves out (the follow-up after the move's) is believed not to exist."""

import re
from pathlib import Path

from app.actions.models import ActionKind

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_lists_every_action_kind():
    listed = re.search(r"Kinds: (.+?)\. A `due_date`", README, re.DOTALL)
    assert listed is not None
    assert re.findall(r"`([a-z_]+)`", listed.group(1)) == [k.value for k in ActionKind]
