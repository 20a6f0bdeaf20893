package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/store"
)

// Sources removed from feeds.yaml keep their items for
// storage.purge_removed_after (default 30 days) from the first time run or
// serve saw them missing, so that a source removed by mistake comes back
// with nothing lost; then run and serve purge them. `newsdesk purge` does
// it at once.

func cmdPurge(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("purge")
	dryRun := fs.Bool("dry-run", false, "list what would be purged, and purge nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, db, err := e.open(*config)
	if err != nil {
		return err
	}
	defer db.Close()
	ids := e.configuredIDs(cfg)
	var orphans []store.Orphan
	if *dryRun {
		orphans, err = db.Orphans(ids)
	} else {
		orphans, err = db.MarkOrphans(ids, time.Now())
	}
	if err != nil {
		return err
	}
	if len(orphans) == 0 {
		fmt.Fprintf(e.stdout, "nothing to purge: every source stored in %s is in %s\n", db.Path(), cfg.Path)
		return nil
	}
	for _, o := range orphans {
		if err := ctx.Err(); err != nil {
			return err
		}
		if *dryRun {
			fmt.Fprintf(e.stdout, "would purge %s: %s%s\n", o.SourceID, plural(o.Items, "item"), removedSince(o))
			continue
		}
		n, err := db.Purge(o.SourceID)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "purged %s: %s%s\n", o.SourceID, plural(n, "item"), removedSince(o))
	}
	return nil
}

// configuredIDs are the ids of the configured sources; inside serve, those
// of serve's own configuration, so that a client's stale copy of
// feeds.yaml cannot make serve purge a source it still fetches.
func (e *env) configuredIDs(cfg *config.Config) []string {
	if e.daemon != nil {
		cfg = e.daemon.config()
	}
	return cfg.SourceIDs()
}

// removedSince says when an orphan was first seen missing, as
// " (removed from feeds.yaml on DATE)"; empty when it was not yet.
func removedSince(o store.Orphan) string {
	if o.RemovedAt.IsZero() {
		return " (removed from feeds.yaml)"
	}
	return " (removed from feeds.yaml on " + o.RemovedAt.Local().Format("2006-01-02 15:04") + ")"
}

// purgeRemoved is run's and serve's housekeeping: it marks the sources
// feeds.yaml no longer lists and purges those removed longer than
// storage.purge_removed_after ago. A failure is logged: fetching and
// serving go on.
func purgeRemoved(cfg *config.Config, db store.Store, log *slog.Logger, now time.Time) {
	purged, _, err := db.PurgeExpired(cfg.SourceIDs(), now, cfg.PurgeRemovedAfter)
	for _, o := range purged {
		log.Info("purged a source removed from feeds.yaml", "source", o.SourceID, "items", o.Items,
			"removed", o.RemovedAt.Format(time.RFC3339), "purge_removed_after", cfg.PurgeRemovedAfter.String())
	}
	if err != nil {
		log.Error("could not purge the sources removed from feeds.yaml; they stay stored", "error", err)
	}
}

// purgeLoop runs purgeRemoved for serve at start, after each applied
// reload (poked through d.purge) and every hour, until ctx is done.
func (d *daemon) purgeLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		purgeRemoved(d.config(), d.db, d.log, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.purge:
		}
	}
}

// removedSources is serve's part of a reload: the grace period of the
// sources it removed starts now (before the reload counts as applied), and
// purgeLoop looks for expired ones.
func (d *daemon) removedSources(cfg *config.Config) {
	if _, err := d.db.MarkOrphans(cfg.SourceIDs(), time.Now()); err != nil {
		d.log.Error("could not mark the sources removed from feeds.yaml", "error", err)
	}
	select {
	case d.purge <- struct{}{}:
	default: // a purge is due already
	}
}
