package engine

import (
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// regionWork is everything known about one region during a run.
type regionWork struct {
	region  string
	client  *ec2.Client
	targets []Target
}

// groupRegions groups the targets by region and gets one client per region.
func groupRegions(targets []Target, clients Clients) ([]*regionWork, error) {
	by := map[string]*regionWork{}
	var out []*regionWork
	for _, t := range targets {
		w := by[t.Region]
		if w == nil {
			c, err := clients(t.Region)
			if err != nil {
				return nil, err
			}
			w = &regionWork{region: t.Region, client: c}
			by[t.Region] = w
			out = append(out, w)
		}
		w.targets = append(w.targets, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].region < out[j].region })
	return out, nil
}
