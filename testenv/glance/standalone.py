# Runs a standalone Glance for tests, in two steps, each its own process:
#
#   standalone.py setup <glance-api.conf> <database file> <policy file>
#       writes a policy file opening every rule, creates the schema
#       (glance-manage db_sync) and puts the database in WAL mode;
#   standalone.py serve <glance-api.conf>
#       serves glance-api in this process (testenv/internal/service runs
#       it, with the thread that ends it once the Go test is gone).
#
# Two processes because glance-api must let eventlet patch the interpreter
# before anything else is imported, and both commands parse oslo.config's
# global CONF. Exits 3 when Glance cannot be imported.
import sys

mode, conf = sys.argv[1], sys.argv[2]


def not_installed(e):
    sys.stderr.write("cannot import glance: %s\n" % e)
    sys.exit(3)


if mode == "serve":
    try:
        from glance.cmd.api import main
    except ImportError as e:
        not_installed(e)
    sys.argv = ["glance-api", "--config-file", conf]
    sys.exit(main())

db, policy = sys.argv[3], sys.argv[4]
try:
    from glance import policies
    from glance.cmd.manage import main
except ImportError as e:
    not_installed(e)

import json  # noqa: E402
import sqlite3  # noqa: E402

# The noauth context is admin but has no roles, so rules such as
# publicize_image refuse it: open every rule rather than reason about each.
with open(policy, "w") as f:
    json.dump({rule.name: "" for rule in policies.list_rules()}, f)

sys.argv = ["glance-manage", "--config-file", conf, "db_sync"]
rc = main()
if rc:
    sys.exit(rc)
# WAL, or a second write in a row can fail with "database is locked".
c = sqlite3.connect(db)
c.execute("PRAGMA journal_mode=WAL")
c.close()
