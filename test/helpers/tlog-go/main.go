// tlog-go: an independent check of seclab's ledger formats with Go's golang.org/x/mod/sumdb/tlog and
// golang.org/x/mod/sumdb/note (the packages behind Go's checksum database). Each subcommand reads one
// JSON request on stdin and prints one JSON answer on stdout; a check that fails is reported in the
// answer ("ok": false with Go's error), a request it cannot run exits 2 with the reason on stderr.
//
//	note-verify  {"notes":[{"note":…, "vkeys":[…]}]}          note.Open with verifiers for 0x01 (note's own),
//	                                                          0x02 ECDSA and 0x04 cosignatures (written here)
//	note-sign    {"text":…, "skeys":[…], "cosign":[{"skey":…, "time":t}]}  note.Sign (0x01 and 0x04 signers)
//	gen-key      {"name":…}                                   note.GenerateKey
//	tiles-verify {"dir":…, "vkeys":[…]}                       open <dir>/checkpoint, tlog.TreeHash over the
//	                                                          tiles (tlog.TileHashReader authenticates each),
//	                                                          tlog.RecordHash of every entry = its level-0 hash
//	prove        {"dir":…, "size":n, "root":b64, "records":[i…], "trees":[m…]}  tlog.ProveRecord / ProveTree
//	check        {"records":[{size,root,index,entry|leaf,proof}], "trees":[{size,root,oldSize,oldRoot,proof}]}
//
// Tiles are read in the c2sp.org/tlog-tiles layout (tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]),
// which is Go's Tile.Path() without the height element and with "entries" for Go's "data" level.
package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

func main() {
	if len(os.Args) != 2 {
		fail("usage: tlog-go note-verify|note-sign|gen-key|tiles-verify|prove|check < request.json")
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	var out any
	switch os.Args[1] {
	case "note-verify":
		out = noteVerify(in)
	case "note-sign":
		out = noteSign(in)
	case "gen-key":
		out = genKey(in)
	case "tiles-verify":
		out = tilesVerify(in)
	case "prove":
		out = prove(in)
	case "check":
		out = check(in)
	default:
		fail("unknown subcommand %q", os.Args[1])
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fail("writing the answer: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tlog-go: "+format+"\n", args...)
	os.Exit(2)
}

func decode(in []byte, v any) {
	if err := json.Unmarshal(in, v); err != nil {
		fail("bad request JSON: %v", err)
	}
}

// ---- verifiers for the three signature types ----

type typedVerifier struct {
	name   string
	hash   uint32
	typ    byte
	verify func(msg, sig []byte) bool
}

func (v *typedVerifier) Name() string                { return v.name }
func (v *typedVerifier) KeyHash() uint32             { return v.hash }
func (v *typedVerifier) Verify(msg, sig []byte) bool { return v.verify(msg, sig) }

func keyHash(name string, typ byte, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{typ})
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func cosignedMessage(t uint64, msg []byte) []byte {
	return append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
}

// newVerifier: 0x01 goes to note.NewVerifier unchanged; 0x02 (ECDSA, key ID = SHA-256(SPKI)[:4], ASN.1
// signature over SHA-256(text)) and 0x04 (c2sp.org/tlog-cosignature) are written from their specs.
func newVerifier(vkey string) (*typedVerifier, error) {
	name, rest, _ := strings.Cut(vkey, "+")
	hash16, key64, _ := strings.Cut(rest, "+")
	hash, err1 := strconv.ParseUint(hash16, 16, 32)
	key, err2 := base64.StdEncoding.DecodeString(key64)
	if len(hash16) != 8 || err1 != nil || err2 != nil || len(key) < 2 {
		return nil, fmt.Errorf("malformed vkey %q", vkey)
	}
	typ, pub := key[0], key[1:]
	switch typ {
	case 1:
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, err
		}
		return &typedVerifier{v.Name(), v.KeyHash(), typ, v.Verify}, nil
	case 2:
		id := sha256.Sum256(pub)
		if binary.BigEndian.Uint32(id[:4]) != uint32(hash) {
			return nil, fmt.Errorf("vkey %s: key ID is not SHA-256(SPKI)[:4]", name)
		}
		k, err := x509.ParsePKIXPublicKey(pub)
		if err != nil {
			return nil, err
		}
		ec, ok := k.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("vkey %s: not an ECDSA key", name)
		}
		return &typedVerifier{name, uint32(hash), typ, func(msg, sig []byte) bool {
			d := sha256.Sum256(msg)
			return ecdsa.VerifyASN1(ec, d[:], sig)
		}}, nil
	case 4:
		if len(pub) != ed25519.PublicKeySize || keyHash(name, 4, pub) != uint32(hash) {
			return nil, fmt.Errorf("vkey %s: bad cosignature key or key ID", name)
		}
		return &typedVerifier{name, uint32(hash), typ, func(msg, sig []byte) bool {
			if len(sig) != 8+ed25519.SignatureSize {
				return false
			}
			t := binary.BigEndian.Uint64(sig[:8])
			if t > math.MaxInt64 {
				return false
			}
			return ed25519.Verify(pub, cosignedMessage(t, msg), sig[8:])
		}}, nil
	}
	return nil, fmt.Errorf("vkey %s: unsupported type %d", name, typ)
}

type sigOut struct {
	Name      string  `json:"name"`
	KeyID     uint32  `json:"keyId"`
	Type      byte    `json:"type,omitempty"`
	Timestamp *uint64 `json:"timestamp,omitempty"`
}

type openResult struct {
	OK         bool     `json:"ok"`
	Error      string   `json:"error,omitempty"`
	Text       string   `json:"text,omitempty"`
	Sigs       []sigOut `json:"sigs,omitempty"`
	Unverified []sigOut `json:"unverified,omitempty"`
}

func openNote(msg string, vkeys []string) (*note.Note, openResult) {
	var list []note.Verifier
	types := map[string]byte{}
	for _, k := range vkeys {
		v, err := newVerifier(k)
		if err != nil {
			return nil, openResult{Error: err.Error()}
		}
		list = append(list, v)
		types[fmt.Sprintf("%s+%08x", v.name, v.hash)] = v.typ
	}
	n, err := note.Open([]byte(msg), note.VerifierList(list...))
	if err != nil {
		return nil, openResult{Error: err.Error()}
	}
	r := openResult{OK: true, Text: n.Text}
	for _, s := range n.Sigs {
		o := sigOut{Name: s.Name, KeyID: s.Hash, Type: types[fmt.Sprintf("%s+%08x", s.Name, s.Hash)]}
		if o.Type == 4 {
			raw, _ := base64.StdEncoding.DecodeString(s.Base64)
			t := binary.BigEndian.Uint64(raw[4:12])
			o.Timestamp = &t
		}
		r.Sigs = append(r.Sigs, o)
	}
	for _, s := range n.UnverifiedSigs {
		r.Unverified = append(r.Unverified, sigOut{Name: s.Name, KeyID: s.Hash})
	}
	return n, r
}

func noteVerify(in []byte) any {
	var req struct {
		Notes []struct {
			Note  string   `json:"note"`
			Vkeys []string `json:"vkeys"`
		} `json:"notes"`
	}
	decode(in, &req)
	var results []openResult
	for _, n := range req.Notes {
		_, r := openNote(n.Note, n.Vkeys)
		results = append(results, r)
	}
	return map[string]any{"results": results}
}

// ---- signing ----

type cosigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
	time uint64
}

func (c *cosigner) Name() string    { return c.name }
func (c *cosigner) KeyHash() uint32 { return c.hash }
func (c *cosigner) Sign(msg []byte) ([]byte, error) {
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], c.time)
	return append(t[:], ed25519.Sign(c.key, cosignedMessage(c.time, msg))...), nil
}

// newCosigner reads an Ed25519 skey (note.GenerateKey's format) and signs 0x04 cosignatures with it.
func newCosigner(skey string, t uint64) (*cosigner, error) {
	if _, err := note.NewSigner(skey); err != nil { // Go checks the skey's format and key ID
		return nil, err
	}
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 {
		return nil, fmt.Errorf("bad skey")
	}
	priv := ed25519.NewKeyFromSeed(raw[1:])
	pub := priv.Public().(ed25519.PublicKey)
	return &cosigner{parts[2], keyHash(parts[2], 4, pub), priv, t}, nil
}

func noteSign(in []byte) any {
	var req struct {
		Text   string   `json:"text"`
		Skeys  []string `json:"skeys"`
		Cosign []struct {
			Skey string `json:"skey"`
			Time uint64 `json:"time"`
		} `json:"cosign"`
	}
	decode(in, &req)
	var signers []note.Signer
	for _, k := range req.Skeys {
		s, err := note.NewSigner(k)
		if err != nil {
			return map[string]any{"ok": false, "error": err.Error()}
		}
		signers = append(signers, s)
	}
	for _, c := range req.Cosign {
		s, err := newCosigner(c.Skey, c.Time)
		if err != nil {
			return map[string]any{"ok": false, "error": err.Error()}
		}
		signers = append(signers, s)
	}
	msg, err := note.Sign(&note.Note{Text: req.Text}, signers...)
	if err != nil {
		return map[string]any{"ok": false, "error": err.Error()}
	}
	return map[string]any{"ok": true, "note": string(msg)}
}

func genKey(in []byte) any {
	var req struct {
		Name string `json:"name"`
	}
	decode(in, &req)
	skey, vkey, err := note.GenerateKey(rand.Reader, req.Name)
	if err != nil {
		return map[string]any{"ok": false, "error": err.Error()}
	}
	return map[string]any{"ok": true, "skey": skey, "vkey": vkey}
}

// ---- tiles ----

// c2spPath maps Go's tile path (tile/8/<L>/… with "data" for entries) to the c2sp.org/tlog-tiles path.
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
	if strings.HasPrefix(p, "data/") {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

// dirTiles is a tlog.TileReader over a directory in the c2sp layout. A partial tile of a smaller tree
// may since have been replaced by a wider one or the full tile (c2sp allows deleting partial tiles):
// then the first W hashes of the widest tile present are the same hashes, and are used.
type dirTiles struct {
	dir       string
	read      map[string]bool
	fallbacks int
}

func (d *dirTiles) Height() int { return tileHeight }

func (d *dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (d *dirTiles) readFile(t tlog.Tile) ([]byte, error) {
	p := c2spPath(t)
	b, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(p)))
	if err == nil {
		d.read[p] = true
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) || t.W == 1<<tileHeight {
		return nil, err
	}
	for w := 1 << tileHeight; w > t.W; w-- {
		wider := t
		wider.W = w
		q := c2spPath(wider)
		if b, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(q))); err == nil {
			d.read[q] = true
			d.fallbacks++
			return b, nil
		}
	}
	return nil, fmt.Errorf("tile %s: not found (nor any wider tile)", p)
}

func (d *dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := d.readFile(t)
		if err != nil {
			return nil, err
		}
		if len(b) < t.W*tlog.HashSize || (len(b)%tlog.HashSize) != 0 {
			return nil, fmt.Errorf("tile %s: %d bytes, want %d", c2spPath(t), len(b), t.W*tlog.HashSize)
		}
		out[i] = b[:t.W*tlog.HashSize]
	}
	return out, nil
}

// bundle splits an entry bundle (each entry a big-endian uint16 length and its bytes).
func bundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("truncated length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, fmt.Errorf("truncated entry")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, nil
}

func parseCheckpointText(text string) (origin string, tree tlog.Tree, err error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return "", tree, fmt.Errorf("checkpoint has %d lines", len(lines))
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return "", tree, fmt.Errorf("bad size line %q", lines[1])
	}
	h, err := tlog.ParseHash(lines[2])
	if err != nil {
		return "", tree, err
	}
	return lines[0], tlog.Tree{N: n, Hash: h}, nil
}

func tilesVerify(in []byte) any {
	var req struct {
		Dir   string   `json:"dir"`
		Vkeys []string `json:"vkeys"`
	}
	decode(in, &req)
	msg, err := os.ReadFile(filepath.Join(req.Dir, "checkpoint"))
	if err != nil {
		return map[string]any{"ok": false, "error": err.Error()}
	}
	_, opened := openNote(string(msg), req.Vkeys)
	if !opened.OK {
		return map[string]any{"ok": false, "stage": "checkpoint", "error": opened.Error}
	}
	origin, tree, err := parseCheckpointText(opened.Text)
	if err != nil {
		return map[string]any{"ok": false, "stage": "checkpoint", "error": err.Error()}
	}
	tr := &dirTiles{dir: req.Dir, read: map[string]bool{}}
	hr := tlog.TileHashReader(tree, tr)
	th, err := tlog.TreeHash(tree.N, hr)
	if err != nil {
		return map[string]any{"ok": false, "stage": "tree-hash", "error": err.Error()}
	}
	if th != tree.Hash {
		return map[string]any{"ok": false, "stage": "tree-hash", "error": fmt.Sprintf("tlog.TreeHash %s != checkpoint root %s", th, tree.Hash)}
	}
	entries, dataTiles := int64(0), 0
	for start := int64(0); start < tree.N; start += 1 << tileHeight {
		w := int(min(tree.N-start, 1<<tileHeight))
		dt := tlog.Tile{H: tileHeight, L: -1, N: start >> tileHeight, W: w}
		raw, err := tr.readFile(dt)
		if err != nil {
			return map[string]any{"ok": false, "stage": "entries", "error": err.Error()}
		}
		recs, err := bundle(raw)
		if err != nil || len(recs) < w {
			return map[string]any{"ok": false, "stage": "entries", "error": fmt.Sprintf("bundle %s: %v (%d entries, want %d)", c2spPath(dt), err, len(recs), w)}
		}
		dataTiles++
		idx := make([]int64, w)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		hashes, err := hr.ReadHashes(idx)
		if err != nil {
			return map[string]any{"ok": false, "stage": "entries", "error": err.Error()}
		}
		for i := 0; i < w; i++ {
			if tlog.RecordHash(recs[i]) != hashes[i] {
				return map[string]any{"ok": false, "stage": "entries", "index": start + int64(i), "error": fmt.Sprintf("entry %d: tlog.RecordHash differs from the level-0 tile hash", start+int64(i))}
			}
			entries++
		}
	}
	return map[string]any{
		"ok": true, "origin": origin, "size": tree.N, "root": base64.StdEncoding.EncodeToString(tree.Hash[:]), "sigs": opened.Sigs,
		"entries": entries, "dataTiles": dataTiles, "tilesRead": len(tr.read), "widerTileFallbacks": tr.fallbacks,
	}
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func b64s(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func prove(in []byte) any {
	var req struct {
		Dir     string  `json:"dir"`
		Size    int64   `json:"size"`
		Root    string  `json:"root"`
		Records []int64 `json:"records"`
		Trees   []int64 `json:"trees"`
	}
	decode(in, &req)
	root, err := tlog.ParseHash(req.Root)
	if err != nil {
		fail("bad root: %v", err)
	}
	tr := &dirTiles{dir: req.Dir, read: map[string]bool{}}
	hr := tlog.TileHashReader(tlog.Tree{N: req.Size, Hash: root}, tr)
	type proofOut struct {
		Proof []string `json:"proof,omitempty"`
		Error string   `json:"error,omitempty"`
	}
	var recs, trees []proofOut
	for _, i := range req.Records {
		p, err := tlog.ProveRecord(req.Size, i, hr)
		if err != nil {
			recs = append(recs, proofOut{Error: err.Error()})
		} else {
			recs = append(recs, proofOut{Proof: b64s(p)})
		}
	}
	for _, m := range req.Trees {
		p, err := tlog.ProveTree(req.Size, m, hr)
		if err != nil {
			trees = append(trees, proofOut{Error: err.Error()})
		} else {
			trees = append(trees, proofOut{Proof: b64s(p)})
		}
	}
	return map[string]any{"records": recs, "trees": trees, "tilesRead": len(tr.read), "widerTileFallbacks": tr.fallbacks}
}

func check(in []byte) any {
	var req struct {
		Records []struct {
			Size  int64    `json:"size"`
			Root  string   `json:"root"`
			Index int64    `json:"index"`
			Entry string   `json:"entry"`
			Leaf  string   `json:"leaf"`
			Proof []string `json:"proof"`
		} `json:"records"`
		Trees []struct {
			Size    int64    `json:"size"`
			Root    string   `json:"root"`
			OldSize int64    `json:"oldSize"`
			OldRoot string   `json:"oldRoot"`
			Proof   []string `json:"proof"`
		} `json:"trees"`
	}
	decode(in, &req)
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	var recs, trees []string
	for _, r := range req.Records {
		err := func() error {
			root, err := tlog.ParseHash(r.Root)
			if err != nil {
				return err
			}
			var leaf tlog.Hash
			if r.Entry != "" || r.Leaf == "" {
				data, err := base64.StdEncoding.DecodeString(r.Entry)
				if err != nil {
					return err
				}
				leaf = tlog.RecordHash(data)
			} else if leaf, err = tlog.ParseHash(r.Leaf); err != nil {
				return err
			}
			p, err := hashes(r.Proof)
			if err != nil {
				return err
			}
			return tlog.CheckRecord(p, r.Size, root, r.Index, leaf)
		}()
		recs = append(recs, errText(err))
	}
	for _, t := range req.Trees {
		err := func() error {
			root, err := tlog.ParseHash(t.Root)
			if err != nil {
				return err
			}
			old, err := tlog.ParseHash(t.OldRoot)
			if err != nil {
				return err
			}
			p, err := hashes(t.Proof)
			if err != nil {
				return err
			}
			return tlog.CheckTree(p, t.Size, root, t.OldSize, old)
		}()
		trees = append(trees, errText(err))
	}
	return map[string]any{"records": recs, "trees": trees}
}
