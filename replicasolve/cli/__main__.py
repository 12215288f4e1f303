"""``python -m replicasolve.cli``: the command line (as ``python -m replicasolve``)."""

from replicasolve.cli import main

raise SystemExit(main())
