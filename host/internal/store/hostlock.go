package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
)

// ErrHostInUse: another live mogan-api holds the lock of this [DEFAULT]
// host on the same database.
var ErrHostInUse = errors.New("another mogan-api is running with this host")

// HostLock is held by the one live process of a replica ([DEFAULT] host)
// on a database, so that two processes never take each other's intents as
// their own: a PostgreSQL session advisory lock on the host name, on a
// connection of its own, or flock on a file beside the SQLite database.
// The operating system (or PostgreSQL, when the session ends) drops it
// when the process dies, so a restart after SIGKILL is never blocked.
type HostLock struct {
	host string
	log  hclog.Logger

	mu   sync.Mutex
	held bool
	// release undoes the lock (closes the connection or the file).
	release func() error
	stop    chan struct{}
	stopped chan struct{}
}

// Lock-taking waits: a process killed a moment ago may still hold its
// PostgreSQL session until the server notices.
const (
	lockRetryFor   = 10 * time.Second
	lockRetryEvery = 250 * time.Millisecond
	// lockCheckEvery is how often the PostgreSQL lock's connection is
	// checked (and, once lost, taken again).
	lockCheckEvery = 5 * time.Second
	// lockKeepAlive bounds how long a dead peer keeps a lock's TCP
	// connection open.
	lockKeepAlive = 10 * time.Second
)

// LockHost takes the lock of host on the database named by connection:
// ErrHostInUse (naming who holds it) when another live process has it.
// Close releases it.
func LockHost(ctx context.Context, connection, host string, logger hclog.Logger) (*HostLock, error) {
	cfg, err := parseConnection(connection)
	if err != nil {
		return nil, err
	}
	l := &HostLock{host: host, log: orNullLogger(logger).Named("hostlock"), stop: make(chan struct{}), stopped: make(chan struct{})}
	if cfg.engine == engineSQLite {
		release, err := flockBeside(cfg.sqlitePath, host)
		if err != nil {
			return nil, err
		}
		l.held, l.release = true, release
		close(l.stopped)
		return l, nil
	}
	conn, err := lockPostgres(ctx, cfg.pg, host, true)
	if err != nil {
		return nil, err
	}
	l.held, l.release = true, func() error { return conn.Close(context.Background()) }
	go l.keep(cfg.pg, conn)
	return l, nil
}

// Held reports whether the lock is held now. While a PostgreSQL lock's
// connection is lost it is not: the replica takes no intents until it has
// the lock again.
func (l *HostLock) Held() bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

// Close releases the lock.
func (l *HostLock) Close() error {
	if l == nil {
		return nil
	}
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.stopped
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = false
	if l.release == nil {
		return nil
	}
	err := l.release()
	l.release = nil
	return err
}

// keep checks the PostgreSQL lock's connection and, once it is lost,
// takes the lock again on a new one.
func (l *HostLock) keep(pg *pgx.ConnConfig, conn *pgx.Conn) {
	defer close(l.stopped)
	t := time.NewTicker(lockCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), lockCheckEvery)
		var err error
		if conn != nil {
			err = conn.Ping(ctx)
		}
		if conn == nil || err != nil {
			if l.Held() {
				l.log.Error("lost the connection that holds this replica's host lock; taking no intents until it is back",
					"host", l.host, "error", err)
			}
			l.setHeld(false, nil)
			if conn != nil {
				_ = conn.Close(ctx)
				conn = nil
			}
			if c, err := lockPostgres(ctx, pg, l.host, false); err == nil {
				conn = c
				l.setHeld(true, func() error { return c.Close(context.Background()) })
				l.log.Info("took this replica's host lock again", "host", l.host)
			} else {
				l.log.Warn("taking this replica's host lock again failed; retrying", "host", l.host, "error", err)
			}
		}
		cancel()
	}
}

func (l *HostLock) setHeld(held bool, release func() error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = held
	l.release = release
}

// lockKeys are the two int4 keys of a host's advisory lock: a fixed first
// key (so that mogan-api's locks are told from any other application's in
// pg_locks) and a hash of the host name.
func lockKeys(host string) (int32, int32) {
	sum := sha256.Sum256([]byte(host))
	return 0x6d6f6761, int32(binary.BigEndian.Uint32(sum[:4])) // "moga"
}

// lockPostgres opens a connection of its own (TCP keepalives on, named in
// pg_stat_activity) and takes host's session advisory lock on it, retrying
// a while when wait is set.
func lockPostgres(ctx context.Context, pg *pgx.ConnConfig, host string, wait bool) (*pgx.Conn, error) {
	cfg := pg.Copy()
	dialer := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: lockKeepAlive / 2, Interval: lockKeepAlive / 4, Count: 2}}
	cfg.DialFunc = dialer.DialContext
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "mogan-api host lock: " + truncate(host, 40)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("taking the host lock: %w", (enginePostgres).unavailable(err))
	}
	k1, k2 := lockKeys(host)
	deadline := time.Now().Add(lockRetryFor)
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, k1, k2).Scan(&got); err != nil {
			_ = conn.Close(ctx)
			return nil, fmt.Errorf("taking the host lock: %w", (enginePostgres).unavailable(err))
		}
		if got {
			return conn, nil
		}
		if !wait || time.Now().After(deadline) {
			holder := lockHolder(ctx, conn, k1, k2)
			_ = conn.Close(ctx)
			return nil, fmt.Errorf("%w (%s holds its lock on the database)", ErrHostInUse, holder)
		}
		select {
		case <-ctx.Done():
			_ = conn.Close(context.Background())
			return nil, ctx.Err()
		case <-time.After(lockRetryEvery):
		}
	}
}

// lockHolder says which client holds the advisory lock, as well as
// pg_stat_activity tells.
func lockHolder(ctx context.Context, conn *pgx.Conn, k1, k2 int32) string {
	var addr, started string
	err := conn.QueryRow(ctx, `SELECT COALESCE(host(a.client_addr), 'local') || ':' || COALESCE(a.client_port, 0),
		to_char(a.backend_start, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 2
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		LIMIT 1`, int64(uint32(k1)), int64(uint32(k2))).Scan(&addr, &started)
	if err != nil {
		return "another process"
	}
	return fmt.Sprintf("the process connected from %s since %s", addr, started)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
