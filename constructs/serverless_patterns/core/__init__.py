"""Secure defaults and builders shared by every pattern: the only place a default lives.

Public building blocks, for resources beside the patterns (the reference stacks use them;
tests/test_core.py pins what each builds): ``functions.python_function``,
``functions.asset_code``, ``tables.table``, ``tables.grant``, ``queues.queue``,
``queues.dead_letter_queue``, ``topics.topic``, ``alarms.function_alarms``,
``alarms.dead_letter_queue_alarm``, ``alarms.operations_topic``,
``alarms.notify_every_alarm`` and ``compliance.justify``. Everything else in
``core`` serves the patterns and may change in any release.
"""
