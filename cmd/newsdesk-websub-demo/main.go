// Command newsdesk-websub-demo is the README's WebSub walk-through, on one
// machine: a news publisher whose feed advertises its own WebSub hub, and
// a feed reader that subscribes over WebSub to the newsdesk section made
// from that feed. With `newsdesk serve` running on the configuration the
// demo writes, each story the publisher publishes travels
//
//	publisher's hub --push--> newsdesk (ingest, render) --push--> reader
//
// and the reader prints how long after publication it arrived. newsdesk
// polls the source only once an hour, so every story the reader sees
// within seconds came by push.
//
//	go run ./cmd/newsdesk-websub-demo -dir /tmp/websub-demo
//	go run ./cmd/newsdesk serve -config /tmp/websub-demo/feeds.yaml   # another terminal
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", "websub-demo", "write feeds.yaml (and let newsdesk keep its database) in `DIR`")
	o := options{}
	flag.StringVar(&o.Publisher, "publisher", "127.0.0.1:8091", "the publisher (feed and hub) listens on `ADDR`")
	flag.StringVar(&o.Reader, "reader", "127.0.0.1:8092", "the reader's callback listens on `ADDR`")
	flag.StringVar(&o.Newsdesk, "newsdesk", "127.0.0.1:8090", "newsdesk serve listens on `ADDR` (written into feeds.yaml)")
	flag.DurationVar(&o.Every, "every", 10*time.Second, "publish a story every `DURATION`")
	flag.IntVar(&o.Stories, "stories", 0, "stop after `N` stories have reached the reader (0: run until interrupted)")
	flag.DurationVar(&o.Wait, "wait", 10*time.Minute, "give up when newsdesk has not subscribed within `DURATION`")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "newsdesk-websub-demo: unexpected arguments:", flag.Args())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo(ctx, *dir, o, os.Stdout); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "newsdesk-websub-demo:", err)
		os.Exit(1)
	}
}

// options are the demo's addresses and pace.
type options struct {
	Publisher, Reader, Newsdesk string
	Every                       time.Duration
	Stories                     int
	Wait                        time.Duration
}

// demo runs the walk-through: setup, then the stories.
func demo(ctx context.Context, dir string, o options, out io.Writer) error {
	s, err := setup(dir, o, out)
	if err != nil {
		return err
	}
	defer s.close()
	s.log.printf("wrote %s; now start newsdesk on it, in another terminal:\n\n    go run ./cmd/newsdesk serve -config %s\n", s.config, s.config)
	return s.run(ctx)
}

// session is a running demo: its publisher and reader, and the
// feeds.yaml it wrote for newsdesk.
type session struct {
	o      options
	config string
	log    *demoLog
	pub    *publisher
	rd     *reader
}

// setup starts the publisher and the reader and writes dir/feeds.yaml.
func setup(dir string, o options, out io.Writer) (*session, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	s := &session{o: o, config: filepath.Join(abs, "feeds.yaml"), log: newLog(out)}
	if s.pub, err = startPublisher(o.Publisher, s.log); err != nil {
		return nil, err
	}
	if s.rd, err = startReader(o.Reader, "http://"+o.Newsdesk+"/sections/"+demoSection+".atom", s.pub, s.log); err != nil {
		s.pub.close()
		return nil, err
	}
	if err := os.WriteFile(s.config, []byte(demoConfig(o.Newsdesk, s.pub.base)), 0o644); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) close() {
	s.rd.close()
	s.pub.close()
}

// run publishes a story every o.Every once newsdesk has subscribed at the
// publisher's hub and the reader at newsdesk's, until ctx ends or
// o.Stories stories have reached the reader.
func (s *session) run(ctx context.Context) error {
	wait, cancel := context.WithTimeout(ctx, s.o.Wait)
	defer cancel()
	if err := s.pub.subscribed(wait); err != nil {
		return fmt.Errorf("newsdesk did not subscribe at the publisher's hub within %s (is newsdesk serve running on %s?): %w", s.o.Wait, s.config, err)
	}
	if err := s.rd.subscribe(wait); err != nil {
		return fmt.Errorf("the reader could not subscribe at newsdesk's hub: %w", err)
	}
	tick := time.NewTicker(s.o.Every)
	defer tick.Stop()
	for n := 1; ; n++ {
		s.pub.publish(fmt.Sprintf("Story %d: published at %s", n, time.Now().Format("15:04:05")))
		if s.o.Stories > 0 && n >= s.o.Stories {
			return s.rd.received(ctx, s.o.Stories)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// demoSection is the section the reader subscribes to.
const demoSection = "wire-news"

// demoConfig is the feeds.yaml of the demo: one source, polled hourly,
// with websub on, and one section of it. websub_allow_private lets the
// hubs talk to callbacks on this machine, which a real deployment refuses.
func demoConfig(newsdesk, publisher string) string {
	return fmt.Sprintf(`# newsdesk's WebSub walk-through (cmd/newsdesk-websub-demo).
storage:
  path: newsdesk.db

server:
  listen: %[1]s
  base_url: http://%[1]s/
  websub_allow_private: true   # the demo's publisher and reader are on this machine

defaults:
  interval: 1h                 # polled hourly: what arrives sooner came by push
  websub: true                 # subscribe at a source's hub when its feed has one

sources:
  - id: wire
    title: Demo Wire
    url: %[2]s/feed.atom

sections:
  - id: %[3]s
    title: Wire News
    description: Every story of the demo wire, pushed to readers as it is published
    sources: [wire]
`, newsdesk, publisher, demoSection)
}
