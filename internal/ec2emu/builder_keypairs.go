package ec2emu

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"time"
)

// Key pairs: CreateKeyPair, DescribeKeyPairs, DeleteKeyPair. The amazon-ebs
// builder creates a temporary key pair before launching and deletes it
// when it is done, even with communicator = "none".
//
// CreateKeyPair makes a real key, as EC2 does: RSA 2048 in PKCS#1 PEM
// ("BEGIN RSA PRIVATE KEY"), or ed25519, which EC2 returns in OpenSSH form
// and the emulator in PKCS#8 PEM ("BEGIN PRIVATE KEY"). Fingerprints follow
// EC2's rules for keys it creates: RSA, the SHA-1 of the PKCS#8 DER private
// key as colon-separated hex; ed25519, the unpadded base64 SHA-256 of the
// public key in SSH wire form. The private key is not kept.

func init() {
	register(map[string]handler{
		"CreateKeyPair":    createKeyPair,
		"DescribeKeyPairs": describeKeyPairs,
		"DeleteKeyPair":    deleteKeyPair,
	})
}

const maxKeyNameLen = 255

func errKeyNotFound(name string) *apiError {
	return errBad("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", truncateForMsg(name))
}

// keyByName finds a key pair of the caller by name. Callers hold s.mu.
func (s *Server) keyByName(rq *request, name string) *KeyPair {
	s.ensureEBSMaps()
	for _, k := range s.st.KeyPairs {
		if k.Owner == rq.account && k.Region == rq.region && k.Name == name {
			return k
		}
	}
	return nil
}

// sshString appends an SSH wire-format string.
func sshString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// sshMPInt appends an SSH wire-format mpint.
func sshMPInt(b []byte, n *big.Int) []byte {
	v := n.Bytes()
	if len(v) > 0 && v[0]&0x80 != 0 {
		v = append([]byte{0}, v...)
	}
	return sshString(b, v)
}

// newKeyMaterial makes a key of type kt ("rsa" or "ed25519") and returns
// the private key PEM, EC2's fingerprint and the OpenSSH public key.
func newKeyMaterial(kt string) (material, fingerprint, public string, err error) {
	switch kt {
	case "ed25519":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return "", "", "", err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return "", "", "", err
		}
		wire := sshString(sshString(nil, []byte("ssh-ed25519")), pub)
		sum := sha256.Sum256(wire)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			base64.RawStdEncoding.EncodeToString(sum[:]),
			"ssh-ed25519 " + base64.StdEncoding.EncodeToString(wire), nil
	default:
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", "", "", err
		}
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return "", "", "", err
		}
		sum := sha1.Sum(pkcs8)
		hx := hex.EncodeToString(sum[:])
		parts := make([]string, 0, len(sum))
		for i := 0; i < len(hx); i += 2 {
			parts = append(parts, hx[i:i+2])
		}
		wire := sshString(nil, []byte("ssh-rsa"))
		wire = sshMPInt(wire, big.NewInt(int64(key.E)))
		wire = sshMPInt(wire, key.N)
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
			strings.Join(parts, ":"),
			"ssh-rsa " + base64.StdEncoding.EncodeToString(wire), nil
	}
}

func createKeyPair(s *Server, rq *request, x *xmlOut) *apiError {
	name, aerr := rq.required("KeyName")
	if aerr != nil {
		return aerr
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	tags, aerr := rq.tagSpecs("key-pair")
	if aerr != nil {
		return aerr
	}
	if len(name) > maxKeyNameLen {
		return errInvalidValue("KeyName", truncateForMsg(name), "Key pair names are at most 255 ASCII characters.")
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] > 0x7e {
			return errInvalidValue("KeyName", truncateForMsg(name), "Key pair names are at most 255 ASCII characters.")
		}
	}
	kt := orDefault(rq.get("KeyType"), "rsa")
	if kt != "rsa" && kt != "ed25519" {
		return errInvalidValue("KeyType", truncateForMsg(kt), "Valid values are rsa and ed25519.")
	}
	switch f := orDefault(rq.get("KeyFormat"), "pem"); f {
	case "pem":
	case "ppk":
		return errBad("UnsupportedOperation", "The emulator hands out key material in pem format only; omit KeyFormat or use pem.")
	default:
		return errInvalidValue("KeyFormat", truncateForMsg(f), "Valid values are pem and ppk.")
	}
	if s.keyByName(rq, name) != nil {
		return errBad("InvalidKeyPair.Duplicate", "The keypair '%s' already exists.", name)
	}
	if dry {
		return errDryRun()
	}
	material, fp, pub, err := newKeyMaterial(kt)
	if err != nil {
		return &apiError{Status: 500, Code: "InternalError", Message: "generating the key failed: " + err.Error()}
	}
	k := &KeyPair{
		ID: newResID(s, "key-", s.st.KeyPairs), Region: rq.region, Owner: rq.account, Name: name, Type: kt,
		Fingerprint: fp, PublicKey: pub, CreateTime: rq.now.Truncate(time.Millisecond), Tags: tags,
	}
	s.st.KeyPairs[k.ID] = k
	x.elem("keyName", k.Name)
	x.elem("keyFingerprint", k.Fingerprint)
	x.elem("keyMaterial", material)
	x.elem("keyPairId", k.ID)
	writeTagSet(x, k.Tags)
	return nil
}

var keyFilterNames = map[string]bool{"key-name": true, "key-pair-id": true, "fingerprint": true, "key-type": true}

func describeKeyPairs(s *Server, rq *request, x *xmlOut) *apiError {
	names := rq.list("KeyName")
	ids, aerr := rq.idsParam("KeyPairId", "key-", "InvalidKeyPair.Malformed")
	if aerr != nil {
		return aerr
	}
	filters, aerr := parseResFilters(rq, keyFilterNames)
	if aerr != nil {
		return aerr
	}
	withPub, aerr := rq.boolParam("IncludePublicKey")
	if aerr != nil {
		return aerr
	}
	if dry, aerr := rq.boolParam("DryRun"); aerr != nil {
		return aerr
	} else if dry {
		return errDryRun()
	}
	s.ensureEBSMaps()
	var list []*KeyPair
	if len(names) > 0 || len(ids) > 0 {
		seen := map[string]bool{}
		for _, n := range names {
			k := s.keyByName(rq, n)
			if k == nil {
				return errKeyNotFound(n)
			}
			if !seen[k.ID] {
				seen[k.ID] = true
				list = append(list, k)
			}
		}
		for _, id := range ids {
			k := s.st.KeyPairs[id]
			if k == nil || k.Owner != rq.account || k.Region != rq.region {
				return errKeyNotFound(id)
			}
			if !seen[k.ID] {
				seen[k.ID] = true
				list = append(list, k)
			}
		}
	} else {
		for _, id := range sortedKeys(s.st.KeyPairs) {
			if k := s.st.KeyPairs[id]; k.Owner == rq.account && k.Region == rq.region {
				list = append(list, k)
			}
		}
	}
	x.open("keySet")
	for _, k := range list {
		attr := func(name string) []string {
			switch name {
			case "key-name":
				return one(k.Name)
			case "key-pair-id":
				return one(k.ID)
			case "fingerprint":
				return one(k.Fingerprint)
			case "key-type":
				return one(k.Type)
			}
			return nil
		}
		if !matchRes(filters, k.Tags, attr) {
			continue
		}
		x.open("item")
		x.elem("keyPairId", k.ID)
		x.elem("keyFingerprint", k.Fingerprint)
		x.elem("keyName", k.Name)
		x.elem("keyType", k.Type)
		x.elemTime("createTime", k.CreateTime, layoutCreationDate)
		if withPub {
			x.elem("publicKey", k.PublicKey)
		}
		writeTagSet(x, k.Tags)
		x.close("item")
	}
	x.close("keySet")
	return nil
}

// deleteKeyPair: by name, deleting a key pair that does not exist
// succeeds, as on EC2; an unknown KeyPairId is InvalidKeyPair.NotFound.
func deleteKeyPair(s *Server, rq *request, x *xmlOut) *apiError {
	name, id := rq.get("KeyName"), rq.get("KeyPairId")
	if name == "" && id == "" {
		return errMissing("KeyName")
	}
	dry, aerr := rq.boolParam("DryRun")
	if aerr != nil {
		return aerr
	}
	s.ensureEBSMaps()
	var k *KeyPair
	if id != "" {
		if !isResourceID(id, "key-") {
			return errBad("InvalidKeyPair.Malformed", "Invalid id: %q (expecting \"key-...\")", truncateForMsg(id))
		}
		k = s.st.KeyPairs[id]
		if k == nil || k.Owner != rq.account || k.Region != rq.region {
			return errKeyNotFound(id)
		}
	} else {
		k = s.keyByName(rq, name)
	}
	if dry {
		return errDryRun()
	}
	x.elemBool("return", true)
	if k != nil {
		delete(s.st.KeyPairs, k.ID)
		x.elem("keyPairId", k.ID)
	}
	return nil
}
