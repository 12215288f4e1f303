"""``python -m replicasolve``: the command line (see :mod:`replicasolve.cli`)."""

from replicasolve.cli import main

raise SystemExit(main())
