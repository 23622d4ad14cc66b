"""``RemovableHandle``: what registering a hook returns, so the hook can be taken off again.

A module keeps its hooks in ordered dictionaries keyed by a handle id (``_forward_hooks`` and
friends). The handle remembers the id and the dictionaries; ``handle.remove()`` deletes the
entry, and ``with handle:`` removes it when the block ends. Example::

    >>> import tinytorch as torch
    >>> layer = torch.nn.Linear(2, 2)
    >>> handle = layer.register_forward_hook(lambda module, args, output: print("ran"))
    >>> _ = layer(torch.zeros(1, 2))
    ran
    >>> handle.remove()
    >>> _ = layer(torch.zeros(1, 2))
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from typing import Any

_next_id = itertools.count()


class RemovableHandle:
    """Removes one hook from the dictionaries it was registered in (``remove()``).

    The handle holds the dictionaries weakly, so it does not keep a deleted module alive.
    ``extra_dict`` names further dictionaries keyed by the same id (such as the
    ``with_kwargs`` flags of a hook), cleaned up together.
    """

    def __init__(
        self, hooks_dict: OrderedDict, *, extra_dict: OrderedDict | list[OrderedDict] | None = None
    ) -> None:
        self.id = next(_next_id)
        extras = [] if extra_dict is None else extra_dict
        extras = extras if isinstance(extras, list) else [extras]
        self._dict_refs = [weakref.ref(d) for d in (hooks_dict, *extras)]

    def remove(self) -> None:
        """Take the hook off; removing twice does nothing."""
        for dict_ref in self._dict_refs:
            hooks = dict_ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RemovableHandle id={self.id}>"
