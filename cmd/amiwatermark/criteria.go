package main

import (
	"errors"
	"io/fs"
)

// criteriaUsage is the usage error of a --criteria file that
// watermark.ReadCriteriaFile refused: unreadable, too large, too deep, not
// one JSON value, or not valid criteria.
func criteriaUsage(file string, err error) error {
	var unreadable *fs.PathError
	if errors.As(err, &unreadable) {
		return usagef("--criteria: cannot read the criteria file: %v", err)
	}
	return usagef("--criteria %s: %v", file, err)
}
