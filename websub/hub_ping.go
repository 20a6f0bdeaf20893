package websub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Ping tells external hubs (publish.websub_hubs) that topics changed:
// one POST of hub.mode=publish to each hub for each topic, with the topic
// as hub.url and as hub.topic, since hubs differ in which they read. The
// hubs are the operator's, so the request is not guarded. Each failure is
// logged with the hub's URL; the error joins them.
func (h *Hub) Ping(ctx context.Context, hubs, topics []string) error {
	h.init()
	c := h.PingClient
	if c == nil {
		c = &http.Client{Timeout: HubTimeout}
	}
	var errs []error
	for _, hub := range hubs {
		for _, topic := range topics {
			if err := ping(ctx, c, hub, topic); err != nil {
				h.Log.Warn("websub: ping hub", "hub", hub, "error", err)
				errs = append(errs, fmt.Errorf("ping hub %s: %w", hub, err))
			}
		}
	}
	return errors.Join(errs...)
}

func ping(ctx context.Context, c *http.Client, hub, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, HubTimeout)
	defer cancel()
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topic}, "hub.topic": {topic}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("http %d: %s", resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return nil
}
