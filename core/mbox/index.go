package mbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// IndexSuffix is appended to an mbox file's name to name its index.
const IndexSuffix = ".idx"

// IndexFormat names the index format in its header record.
const IndexFormat = "mailmover-mbox-index"

// IndexVersion is the version of the index format this package writes.
const IndexVersion = 1

// IndexPath returns the path of the index of the mbox file at mboxPath.
func IndexPath(mboxPath string) string { return mboxPath + IndexSuffix }

// Header is the first record of an index: the folder the mbox holds.
type Header struct {
	// Format is IndexFormat.
	Format string `json:"format"`
	// Version is IndexVersion.
	Version int `json:"version"`
	// Name is the folder's real name on the server (decoded from modified UTF-7).
	Name string `json:"name"`
	// Delimiter is the server's hierarchy delimiter, "" for a flat store.
	Delimiter string `json:"delimiter,omitempty"`
	// Path is the folder's hierarchy, independent of any delimiter, e.g. {"INBOX", "Archive"}.
	Path []string `json:"path"`
	// File is the mbox file's path relative to the backup root, with "/" separators.
	File string `json:"file,omitempty"`
	// SpecialUse is the folder's RFC 6154 attribute, e.g. `\Sent`, or "".
	SpecialUse string `json:"specialUse,omitempty"`
	// Subscribed says whether the user subscribed to the folder.
	Subscribed bool `json:"subscribed"`
	// UIDValidity is the folder's UIDVALIDITY when last backed up (RFC 9051 section 2.3.1.1).
	UIDValidity uint32 `json:"uidValidity,omitempty"`
}

// Record is one message of an index.
type Record struct {
	// UIDValidity and UID identify the message on the server it came from (RFC 9051 section 2.3.1.1).
	UIDValidity uint32 `json:"uidValidity"`
	UID         uint32 `json:"uid"`
	// Flags are the message's flags and keywords.
	Flags []string `json:"flags"`
	// InternalDate is the message's INTERNALDATE, with its original zone offset (RFC 3339 in JSON).
	InternalDate time.Time `json:"internalDate"`
	// Offset is where the message bytes start in the mbox, after the separator line.
	Offset int64 `json:"offset"`
	// Length is the number of escaped (on-disk) bytes, without the framing newline.
	Length int64 `json:"length"`
	// RawLength is the size of the original message (RFC822.SIZE).
	RawLength int64 `json:"rawLength"`
	// SHA256 is the hex SHA-256 of the original message bytes.
	SHA256 string `json:"sha256"`
	// MessageID is the Message-ID header, "" if none.
	MessageID string `json:"messageId,omitempty"`
}

// Index is the content of an index file.
type Index struct {
	// Header describes the folder.
	Header Header
	// Records describe the messages, in file order.
	Records []Record
}

// NewHeader returns a header for a folder, with Format and Version set.
func NewHeader(name, delimiter string, path []string) Header {
	return Header{Format: IndexFormat, Version: IndexVersion, Name: name, Delimiter: delimiter, Path: path}
}

// recordFromWritten fills a record's position and digest.
func (rec *Record) setWritten(w Written) {
	rec.Offset = w.Offset
	rec.Length = w.Length
	rec.RawLength = w.RawLength
	rec.SHA256 = hex.EncodeToString(w.SHA256[:])
}

// ReadIndex reads the index file at path. A last line cut short by a crash
// is ignored and reported by torn; any other damage is an error.
func ReadIndex(ctx context.Context, path string) (idx *Index, torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	return parseIndex(ctx, f, path)
}

func parseIndex(ctx context.Context, r io.Reader, name string) (*Index, bool, error) {
	br := bufio.NewReaderSize(r, BufferSize)
	idx := &Index{}
	var off int64
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, fmt.Errorf("read index %s: %w", name, err)
		}
		complete := bytes.HasSuffix(line, []byte("\n"))
		if len(line) == 0 {
			break
		}
		var perr error
		if n == 0 {
			perr = json.Unmarshal(line, &idx.Header)
			if perr == nil && idx.Header.Format != IndexFormat {
				perr = fmt.Errorf("format %q is not %q", idx.Header.Format, IndexFormat)
			}
			if perr == nil && idx.Header.Version > IndexVersion {
				perr = fmt.Errorf("version %d is newer than this program reads (%d)", idx.Header.Version, IndexVersion)
			}
		} else {
			var rec Record
			perr = json.Unmarshal(line, &rec)
			if perr == nil {
				perr = rec.check()
			}
			if perr == nil {
				idx.Records = append(idx.Records, rec)
			}
		}
		if !complete {
			// The last line without its newline: cut short by a crash. The
			// header is written atomically, so it is never torn.
			if n == 0 {
				return nil, false, fmt.Errorf("read index %s: byte offset %d: header record cut short", name, off)
			}
			if perr == nil {
				idx.Records = idx.Records[:len(idx.Records)-1]
			}
			return idx, true, nil
		}
		if perr != nil {
			return nil, false, fmt.Errorf("read index %s: byte offset %d: %w", name, off, perr)
		}
		off += int64(len(line))
	}
	if idx.Header.Format == "" {
		return nil, false, fmt.Errorf("read index %s: empty file", name)
	}
	return idx, false, nil
}

func (rec *Record) check() error {
	switch {
	case rec.Offset < 0 || rec.Length < 0 || rec.RawLength < 0:
		return errors.New("negative offset or length")
	case len(rec.SHA256) != 2*32:
		return errors.New("bad sha256")
	}
	_, err := hex.DecodeString(rec.SHA256)
	return err
}

// writeIndex writes a whole index: the header line, then one line per record.
func writeIndex(w io.Writer, idx *Index) error {
	bw := bufio.NewWriterSize(w, BufferSize)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&idx.Header); err != nil {
		return err
	}
	for i := range idx.Records {
		if err := enc.Encode(&idx.Records[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// encodeRecords returns the index lines of recs.
func encodeRecords(recs []Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
