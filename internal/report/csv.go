package report

import (
	"encoding/csv"
	"io"
	"strings"
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
	if err := c.cw.Write(Record(CSVColumns...)); err != nil {
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
		return c.cw.Write(Record(sc.Account, sc.Region, r.Kind, r.ImageID, r.InstanceID, r.OwnerID, r.OwnerAlias, r.Name, r.Status, r.Reason))
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

// Cell neutralises a cell that a spreadsheet would run as a formula (CSV
// injection): AMI names and the like are chosen by whoever shares the
// image, so a cell that begins with =, +, -, @, a tab or a carriage return
// gets a leading single quote, which spreadsheets show as text.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Record is a CSV record of cells, each through Cell (a copy): every CSV
// record is written with it.
func Record(cells ...string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = Cell(c)
	}
	return out
}
