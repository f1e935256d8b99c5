"""``python -m queue_worker``: the container's entry point (see :mod:`queue_worker.worker`)."""

from queue_worker.worker import main

main()
