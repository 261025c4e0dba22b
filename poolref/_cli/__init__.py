"""The ``poolref`` command's parts; its entry point is :func:`poolref.__main__.main`.

* :mod:`.common`     exit statuses, :class:`~.common.UsageError` and the flag tables;
* :mod:`.parser`     the argument parser (flags from the Support fields and the rule catalogue);
* :mod:`.target`     ``TARGET`` (and ``--backward``) resolved into a Candidate with its flags;
* :mod:`.verify`     ``poolref verify TARGET``: the run in a worker process or in-process;
* :mod:`.selfcheck`  ``poolref verify`` without a target: poolref's own implementations;
* :mod:`.output`     progress lines, the target's description, the JSON/JUnit files.
"""
