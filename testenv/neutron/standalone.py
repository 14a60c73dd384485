# Runs a standalone Neutron for tests: writes a policy file opening every
# rule, creates the schema on SQLite from the models and stamps it at the
# migration heads (`neutron-db-manage upgrade heads` cannot run on SQLite:
# it alters constraints), then serves neutron-server in this process, so
# the interpreter and Neutron's imports load once.
#
# usage: standalone.py <neutron.conf> <database file> <policy file>
# Exits 3 when Neutron cannot be imported. testenv/internal/service runs
# it, with the thread that ends its process group (Neutron's forked workers
# included) once the Go test is gone.
import sys

conf, db, policy = sys.argv[1], sys.argv[2], sys.argv[3]

try:
    import neutron.cmd.eventlet  # noqa: F401  (eventlet's monkey patching first)
except ImportError as e:
    sys.stderr.write("cannot import neutron: %s\n" % e)
    sys.exit(3)

import json  # noqa: E402
import sqlite3  # noqa: E402

import sqlalchemy  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from neutron.conf import policies  # noqa: E402
from neutron.db.migration import cli as migration_cli  # noqa: E402
from neutron.db.migration.models import head  # noqa: E402

# The noauth context is admin, but binding:* and provider:* rules differ
# between releases: open every rule rather than reason about each.
with open(policy, "w") as f:
    json.dump({rule.name: "" for rule in policies.list_rules()}, f)

engine = sqlalchemy.create_engine("sqlite:///" + db)
head.get_metadata().create_all(engine)
engine.dispose()

# What `neutron-db-manage stamp heads` writes, without its command line.
alembic = migration_cli.alembic_config.Config(migration_cli.neutron_alembic_ini)
alembic.set_main_option("script_location", "neutron.db.migration:alembic_migrations")
migration_cli._set_version_locations(alembic)
heads = ScriptDirectory.from_config(alembic).get_heads()
c = sqlite3.connect(db)
c.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
c.executemany("INSERT INTO alembic_version (version_num) VALUES (?)", [(h,) for h in heads])
c.commit()
# WAL, or a second write in a row can fail with "database is locked".
c.execute("PRAGMA journal_mode=WAL")
c.close()

from neutron.cmd.eventlet.server import main  # noqa: E402

sys.argv = ["neutron-server", "--config-file", conf]
sys.exit(main())
