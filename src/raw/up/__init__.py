"""``raw up``: a whole system on one laptop, from its folder, with one command.

See :mod:`raw.up.supervisor` (the parts as child processes, their logs, their
stop) and :mod:`raw.up.local_env` (development secrets kept in ``.raw/local.env``).
"""
