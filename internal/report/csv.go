package report

import (
	"encoding/csv"
	"io"
)

// CSVColumns is the CSV header.
var CSVColumns = []string{"account", "region", "kind", "image_id", "instance_id", "owner_id", "owner_alias", "name", "status", "reason"}

// CSV writes one row per blocked image or instance (inspect: not allowed;
// verify: failed) of each finished scope, under a header row.
type CSV struct {
	W  io.Writer
	cw *csv.Writer
}

// Begin writes the header.
func (c *CSV) Begin(*Header) error {
	c.cw = csv.NewWriter(c.W)
	if err := c.cw.Write(CSVColumns); err != nil {
		return err
	}
	c.cw.Flush()
	return c.cw.Error()
}

// Scope writes the scope's blocked rows.
func (c *CSV) Scope(sc *Scope) error {
	if sc.Status != StatusOK || sc.Rows == nil {
		return nil
	}
	err := sc.Rows(func(r Row) error {
		if !r.Blocked {
			return nil
		}
		return c.cw.Write([]string{sc.Account, sc.Region, r.Kind, r.ImageID, r.InstanceID, r.OwnerID, r.OwnerAlias, r.Name, r.Status, r.Reason})
	})
	if err != nil {
		return err
	}
	c.cw.Flush()
	return c.cw.Error()
}

// End flushes.
func (c *CSV) End(*Summary) error {
	c.cw.Flush()
	return c.cw.Error()
}
