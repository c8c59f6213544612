// Reads tars from stdin, each framed by its length (8 bytes, big-endian), and prints for each every entry
// Go's archive/tar reads from it as one JSON line, then the error that stopped it ("" at a clean end):
// the oracle for our reader, since every engine reads layers with Go's archive/tar.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"sort"
	"strconv"
)

type entry struct {
	Typeflag string      `json:"typeflag"`
	Name     string      `json:"name"`
	Linkname string      `json:"linkname"`
	Size     string      `json:"size"`
	Mode     string      `json:"mode"`
	Uid      string      `json:"uid"`
	Gid      string      `json:"gid"`
	Mtime    string      `json:"mtime"`
	Nanos    int         `json:"nanos"`
	Devmajor string      `json:"devmajor"`
	Devminor string      `json:"devminor"`
	Pax      [][2]string `json:"pax"`
	Xattrs   [][2]string `json:"xattrs"`
	Data     string      `json:"data"`
}

func pairs(m map[string]string) [][2]string {
	out := [][2]string{}
	for k, v := range m {
		out = append(out, [2]string{hex.EncodeToString([]byte(k)), hex.EncodeToString([]byte(v))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for {
		var length uint64
		if binary.Read(in, binary.BigEndian, &length) != nil {
			return
		}
		data := make([]byte, length)
		if _, err := io.ReadFull(in, data); err != nil {
			panic(err)
		}
		// Not a Seeker: the engine reads layers from a stream.
		read(tar.NewReader(struct{ io.Reader }{bytes.NewReader(data)}), enc)
	}
}

func read(r *tar.Reader, enc *json.Encoder) {
	for {
		h, err := r.Next()
		if err == io.EOF {
			enc.Encode(map[string]string{"end": ""})
			return
		}
		if err != nil {
			enc.Encode(map[string]string{"end": err.Error()})
			return
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, r); err != nil {
			enc.Encode(map[string]string{"end": err.Error()})
			return
		}
		enc.Encode(entry{
			Typeflag: string([]byte{h.Typeflag}), Name: hex.EncodeToString([]byte(h.Name)),
			Linkname: hex.EncodeToString([]byte(h.Linkname)), Size: strconv.FormatInt(h.Size, 10),
			Mode: strconv.FormatInt(h.Mode, 10), Uid: strconv.Itoa(h.Uid), Gid: strconv.Itoa(h.Gid),
			Mtime: strconv.FormatInt(h.ModTime.Unix(), 10), Nanos: h.ModTime.Nanosecond(),
			Devmajor: strconv.FormatInt(h.Devmajor, 10), Devminor: strconv.FormatInt(h.Devminor, 10),
			Pax: pairs(h.PAXRecords), Xattrs: pairs(h.Xattrs), Data: hex.EncodeToString(sum.Sum(nil)),
		})
	}
}
