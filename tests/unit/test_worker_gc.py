"""A worker hides what it built at start-up from the cyclic collector."""

import gc

from tierline.workers.celery_app import _long_lived


def test_what_exists_once_a_runtime_is_built_is_frozen_and_the_runtime_handed_on() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    built = {"runtime": [1, 2, 3]}
    try:
        assert _long_lived(built) is built
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
