package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk"
	"github.com/newsdesk/newsdesk/publisher"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs, config := e.flags("serve")
	listen := fs.String("listen", "", "listen on `ADDR` (host:port) instead of server.listen from the config")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, db, err := e.open(*config)
	if err != nil {
		return err
	}
	defer db.Close()
	if *listen != "" {
		cfg.Listen = *listen
	}
	log := e.logger(slog.LevelInfo)

	site := publisher.NewServer(db, publisherConfig(cfg), log)
	if err := site.Rebuild(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("%w (is another newsdesk serve running? choose another address with -listen or server.listen)", err)
	}
	srv := &http.Server{
		Handler:           site,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	sched := newScheduler(cfg, db, log)
	sched.OnCommit = func(st newsdesk.FetchState) {
		if err := site.Rebuild(); err != nil {
			log.Error("could not render sections", "source", st.SourceID, "error", err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	})
	wg.Go(func() {
		if err := sched.Run(ctx); err != nil {
			errc <- err
		}
	})
	log.Info("serving", "url", "http://"+ln.Addr().String()+"/", "base_url", cfg.BaseURL, "sources", len(cfg.Sources), "sections", len(cfg.Sections), "db", cfg.DBPath)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: finishing fetches in flight")
	case runErr = <-errc:
	}
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	wg.Wait() // the scheduler has committed what finished; db.Close runs after
	log.Info("stopped")
	return runErr
}
