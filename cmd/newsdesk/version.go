package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/newsdesk/newsdesk"
)

func cmdVersion(ctx context.Context, e *env, args []string) error {
	fs, _ := e.flags("version")
	if err := parse(fs, args); err != nil {
		return err
	}
	rev := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	fmt.Fprintf(e.stdout, "newsdesk %s%s (%s %s/%s)\n", newsdesk.Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
