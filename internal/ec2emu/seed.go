package ec2emu

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Seed is everything a test can put into the emulator before it runs: the
// program's --seed file and the body of POST /_emu/seed. In JSON it is an
// object; a plain JSON array is accepted as {"images": [...]}, the original
// seed format.
type Seed struct {
	// Images are AMIs, as POST /_emu/images takes them.
	Images []SeedImage `json:"images,omitempty"`
	// Accounts: their names, status and enabled regions, and whether their
	// roles can be assumed (see SeedAccount).
	Accounts []SeedAccount `json:"accounts,omitempty"`
	// Organization: the organization whose members are Accounts; without
	// it Organizations answers AWSOrganizationsNotInUseException.
	Organization *SeedOrganization `json:"organization,omitempty"`
	// ImageBuilderImages are EC2 Image Builder image build versions whose
	// output AMIs are images of this seed or of the emulator.
	ImageBuilderImages []SeedBuilderImage `json:"image_builder_images,omitempty"`
}

// seedJSON is Seed with the images left raw, so that ParseSeedImages decodes
// a large array without regrowing it.
type seedJSON struct {
	Images             json.RawMessage    `json:"images,omitempty"`
	Accounts           []SeedAccount      `json:"accounts,omitempty"`
	Organization       *SeedOrganization  `json:"organization,omitempty"`
	ImageBuilderImages []SeedBuilderImage `json:"image_builder_images,omitempty"`
}

// ParseSeed decodes a seed: an object (see Seed) or a JSON array of images.
// Unknown fields are refused; errors name the entry.
func ParseSeed(b []byte) (Seed, error) {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		imgs, err := ParseSeedImages(t)
		return Seed{Images: imgs}, err
	}
	if len(t) == 0 || t[0] != '{' {
		return Seed{}, fmt.Errorf(`a seed is a JSON object {"images": [...]} or a JSON array of images`)
	}
	var raw seedJSON
	if err := ctlStrictUnmarshal(t, &raw); err != nil {
		return Seed{}, err
	}
	seed := Seed{Accounts: raw.Accounts, Organization: raw.Organization, ImageBuilderImages: raw.ImageBuilderImages}
	if len(raw.Images) > 0 && string(raw.Images) != "null" {
		imgs, err := ParseSeedImages(raw.Images)
		if err != nil {
			return Seed{}, err
		}
		seed.Images = imgs
	}
	return seed, nil
}

// ApplySeed adds a seed to the emulator, all or nothing: a seed with an
// error changes nothing.
func (s *Server) ApplySeed(seed Seed) error {
	s.mu.Lock()
	now := s.now()
	s.mu.Unlock()
	accounts, err := buildAccounts(seed.Accounts, now)
	if err != nil {
		return err
	}
	org, err := buildOrganization(seed.Organization, accounts)
	if err != nil {
		return err
	}
	known := func(id string) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.st.Images[id] != nil
	}
	builders, err := buildBuilderImages(seed.ImageBuilderImages, seed.Images, known, s.builderStepTaken, now)
	if err != nil {
		return err
	}
	ids, err := s.SeedImages(seed.Images)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.applyAccounts(accounts, org, now)
	s.applyBuilderImages(builders, seed.Images, ids)
	s.mu.Unlock()
	return nil
}
