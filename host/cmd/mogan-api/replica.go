package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/mogan-manage/mogan-manage/host/internal/config"
	"github.com/mogan-manage/mogan-manage/host/internal/store"
)

// replica is this process as one start of the replica [DEFAULT] host:
// the host lock it holds and the epoch of this start.
type replica struct {
	lock  *store.HostLock
	epoch int64
}

// held reports whether the host lock is held now (nil-safe for commands
// that take no intents).
func (r replica) held() bool { return r.lock.Held() }

// startReplica takes the host lock of [DEFAULT] host on the database —
// refusing, in one line, when another live mogan-api has the same host —
// and, unless readOnly (recover --dry-run changes nothing), records this
// start's epoch. Serve and recover take intents as this replica's, which
// is only safe while no other process is it.
func startReplica(ctx context.Context, cfg *config.Config, st store.Store, log hclog.Logger, readOnly bool) (replica, error) {
	lock, err := store.LockHost(ctx, cfg.Database.Connection, cfg.Host, log)
	if errors.Is(err, store.ErrHostInUse) {
		return replica{}, fmt.Errorf("[DEFAULT] host = %s: %w: every replica needs a [DEFAULT] host of its own "+
			"(two containers with one hostname share it by default) — set another host here, or stop the other mogan-api first",
			cfg.Host, err)
	}
	if err != nil {
		return replica{}, err
	}
	if readOnly {
		return replica{lock: lock}, nil
	}
	epoch, err := st.StartReplica(ctx, cfg.Host)
	if err != nil {
		return replica{}, errors.Join(err, lock.Close())
	}
	log.Debug("took this replica's host lock", "host", cfg.Host, "epoch", epoch)
	return replica{lock: lock, epoch: epoch}, nil
}
