"""zstd dictionaries: trained from a cache's bodies, stored sealed in it, named by entries.

:mod:`~vaultcache.dictionaries.store` keeps them (see its docstring for the stored form),
:mod:`~vaultcache.dictionaries.training` trains them, :mod:`~vaultcache.dictionaries.pruning`
deletes those no entry can be read with any more. docs/stages.md explains their use.
"""

from vaultcache.dictionaries.pruning import PruneReport, prune
from vaultcache.dictionaries.store import (
    MAX_DICTIONARY_SIZE,
    DictionaryStore,
    dictionary_key,
    split_dictionary_key,
    with_dictionary,
)
from vaultcache.dictionaries.training import (
    DEFAULT_DICTIONARY_SIZE,
    DEFAULT_SAMPLES,
    TrainingReport,
    train,
)

__all__ = [
    "DEFAULT_DICTIONARY_SIZE",
    "DEFAULT_SAMPLES",
    "MAX_DICTIONARY_SIZE",
    "DictionaryStore",
    "PruneReport",
    "TrainingReport",
    "dictionary_key",
    "prune",
    "split_dictionary_key",
    "train",
    "with_dictionary",
]
