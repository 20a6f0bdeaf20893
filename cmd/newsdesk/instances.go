package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsdesk/newsdesk/config"
	"github.com/newsdesk/newsdesk/status"
	"github.com/newsdesk/newsdesk/store"
)

// What status says about the newsdesk instances sharing a store (a
// store.Cluster: PostgreSQL): which run, on which host, with which
// feeds.yaml, so that instances whose files differ are seen instead of
// silently fetching and purging by different lists.

// cluster is status's part about the instances.
type cluster struct {
	Instances []store.Instance `json:"instances"`
	Warnings  []string         `json:"warnings,omitempty"`
}

// clusterOf is what status says about db's instances; nil for a store
// that no instances share.
func clusterOf(ctx context.Context, db store.Store, cfg *config.Config) (*cluster, error) {
	c, ok := db.(store.Cluster)
	if !ok {
		return nil, nil
	}
	ins, err := c.Instances(ctx, instancesWithin)
	if err != nil {
		return nil, err
	}
	return &cluster{Instances: ins, Warnings: instanceWarnings(ins, cfg)}, nil
}

// instanceWarnings says when the instances run different feeds.yaml files,
// and when this one is not the file they run.
func instanceWarnings(ins []store.Instance, cfg *config.Config) []string {
	byHash := map[string][]string{}
	var hashes []string
	for _, in := range ins {
		if byHash[in.ConfigHash] == nil {
			hashes = append(hashes, in.ConfigHash)
		}
		byHash[in.ConfigHash] = append(byHash[in.ConfigHash], in.Command+" on "+in.Host)
	}
	var out []string
	if len(hashes) > 1 {
		parts := make([]string, len(hashes))
		for i, h := range hashes {
			parts[i] = fmt.Sprintf("%s (%s)", h, strings.Join(byHash[h], ", "))
		}
		out = append(out, fmt.Sprintf("instances run different feeds.yaml files: %s: give every instance the same feeds.yaml, or they fetch and purge by different lists of sources",
			strings.Join(parts, "; ")))
	}
	if len(hashes) > 0 && byHash[cfg.Hash] == nil {
		out = append(out, fmt.Sprintf("%s (config %s) is not the feeds.yaml any instance runs: this status lists its sources", cfg.Path, cfg.Hash))
	}
	return out
}

// writeInstances writes the instances as a table under the sources'.
func writeInstances(w io.Writer, c *cluster, now time.Time) error {
	if len(c.Instances) == 0 {
		_, err := fmt.Fprintf(w, "\nno newsdesk instance has used this store in the last %s\n", instancesWithin)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nINSTANCE\tHOST\tCOMMAND\tVERSION\tCONFIG\tSOURCES\tSTARTED\tLAST SEEN")
	for _, in := range c.Instances {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", in.ID, in.Host, in.Command, in.Version, in.ConfigHash, in.Sources, ago(now.Sub(in.Started)), ago(now.Sub(in.Seen)))
	}
	return tw.Flush()
}

// ago is d as "5s ago", "3m ago", "2h ago" or "4d ago".
func ago(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// writeStatusJSON is status -json of a store instances share: the
// sources' rows, the hub's subscribers and the instances, in one object.
func writeStatusJSON(w io.Writer, rep status.Report, c *cluster) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		status.Report
		*cluster
	}{rep, c})
}
