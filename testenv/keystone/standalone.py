# Runs a standalone Keystone for tests: makes the schema, the fernet and
# credential keys and the bootstrap admin, then serves the public API on
# 127.0.0.1 with a threaded wsgiref server. One process, so the interpreter
# and Keystone's imports load once (about 3 s instead of 10).
#
# usage: OS_BOOTSTRAP_PASSWORD=<admin password> standalone.py <keystone.conf> <database file> <port>
# testenv/internal/service runs it, with the thread that ends it once the
# Go test is gone, and polls /v3 until it answers.
import os
import socketserver
import sqlite3
import sys
import wsgiref.simple_server

conf, db, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


class Server(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True


class Handler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("wsgiref: " + (fmt % args) + "\n")


url = "http://127.0.0.1:%d/v3" % port

from keystone.cmd import cli  # noqa: E402
from keystone.common import provider_api  # noqa: E402

owner = ["--keystone-user", "root", "--keystone-group", "root"]
steps = [
    ["db_sync"],
    ["fernet_setup"] + owner,
    ["credential_setup"] + owner,
    ["bootstrap", "--bootstrap-admin-url", url, "--bootstrap-public-url", url,
     "--bootstrap-internal-url", url, "--bootstrap-region-id", "RegionOne"],
]
for i, step in enumerate(steps):
    cli.main(argv=["keystone-manage", "--config-file", conf] + step)
    cli.CONF.reset()
    if i == 0:
        # WAL, or a second write in a row can fail with "database is locked".
        c = sqlite3.connect(db)
        c.execute("PRAGMA journal_mode=WAL")
        c.close()

# keystone-manage registered its sub-command option; the API must not see it.
cli.CONF.unregister_opt(cli.command_opt)
# bootstrap locked the provider registry; the API builds its own providers.
provider_api.ProviderAPIs._clear_registry_instances()
os.environ["OS_KEYSTONE_CONFIG_FILES"] = conf
sys.argv = [sys.argv[0]]
from keystone.server import wsgi  # noqa: E402

app = wsgi.initialize_public_application()
# Bind last: a listening socket that does not answer yet would hold the Go
# side's readiness probe until its timeout.
httpd = Server(("127.0.0.1", port), Handler)
httpd.set_app(app)
httpd.serve_forever()
