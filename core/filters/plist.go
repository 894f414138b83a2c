package filters

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// This file reads property lists: Apple's XML format (PropertyList-1.0.dtd)
// and the binary format "bplist00" (CFBinaryPList.c), which Mail also
// writes. Values decode to string, int64, float64, bool, time.Time,
// []byte, []any and map[string]any.

// maxPlistDepth bounds nesting, against hostile files.
const maxPlistDepth = 64

// plistEpoch is the reference date of binary plist dates.
var plistEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// parsePlist decodes an XML or binary property list.
func parsePlist(data []byte) (any, error) {
	if bytes.HasPrefix(data, []byte("bplist0")) {
		return parseBinaryPlist(data)
	}
	return parseXMLPlist(data)
}

// parseXMLPlist decodes an XML property list with encoding/xml.
func parseXMLPlist(data []byte) (any, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, plistErr(d, fmt.Errorf("no <plist> element: %w", err))
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "plist" {
			return nil, plistErr(d, fmt.Errorf("root element is <%s>, not <plist>", se.Name.Local))
		}
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, plistErr(d, err)
			}
			switch t := tok.(type) {
			case xml.StartElement:
				return xmlValue(d, t, 0)
			case xml.EndElement:
				return nil, plistErr(d, errors.New("empty <plist>"))
			}
		}
	}
}

func plistErr(d *xml.Decoder, err error) error {
	line, _ := d.InputPos()
	return fmt.Errorf("plist line %d: %w", line, err)
}

// xmlValue decodes the element started by se.
func xmlValue(d *xml.Decoder, se xml.StartElement, depth int) (any, error) {
	if depth > maxPlistDepth {
		return nil, plistErr(d, errors.New("nested too deep"))
	}
	switch se.Name.Local {
	case "dict":
		m := map[string]any{}
		key, haveKey := "", false
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, plistErr(d, err)
			}
			switch t := tok.(type) {
			case xml.EndElement:
				if haveKey {
					return nil, plistErr(d, fmt.Errorf("key %q has no value", key))
				}
				return m, nil
			case xml.StartElement:
				if t.Name.Local == "key" {
					if haveKey {
						return nil, plistErr(d, fmt.Errorf("key %q has no value", key))
					}
					k, err := xmlText(d)
					if err != nil {
						return nil, err
					}
					key, haveKey = k, true
					continue
				}
				if !haveKey {
					return nil, plistErr(d, fmt.Errorf("<%s> in <dict> without a <key>", t.Name.Local))
				}
				v, err := xmlValue(d, t, depth+1)
				if err != nil {
					return nil, err
				}
				m[key] = v
				haveKey = false
			}
		}
	case "array":
		a := []any{}
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, plistErr(d, err)
			}
			switch t := tok.(type) {
			case xml.EndElement:
				return a, nil
			case xml.StartElement:
				v, err := xmlValue(d, t, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
		}
	case "true", "false":
		if err := d.Skip(); err != nil {
			return nil, plistErr(d, err)
		}
		return se.Name.Local == "true", nil
	}
	text, err := xmlText(d)
	if err != nil {
		return nil, err
	}
	switch se.Name.Local {
	case "string":
		return text, nil
	case "integer":
		t := strings.TrimSpace(text)
		n, err := strconv.ParseInt(t, 0, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(t, 0, 64)
			if uerr != nil {
				return nil, plistErr(d, fmt.Errorf("bad <integer> %q", t))
			}
			n = int64(u)
		}
		return n, nil
	case "real":
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return nil, plistErr(d, fmt.Errorf("bad <real> %q", text))
		}
		return f, nil
	case "date":
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(text))
		if err != nil {
			return nil, plistErr(d, fmt.Errorf("bad <date> %q", text))
		}
		return t, nil
	case "data":
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, text)
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return nil, plistErr(d, fmt.Errorf("bad <data>: %w", err))
		}
		return b, nil
	}
	return nil, plistErr(d, fmt.Errorf("unknown element <%s>", se.Name.Local))
}

// xmlText reads the character data up to the current element's end.
func xmlText(d *xml.Decoder) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", plistErr(d, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		case xml.StartElement:
			return "", plistErr(d, fmt.Errorf("unexpected <%s> inside text", t.Name.Local))
		}
	}
}

// bplist is a binary property list being decoded.
type bplist struct {
	data       []byte
	offsets    []uint64
	refSize    int
	inProgress []bool // objects being decoded, against reference cycles
}

// parseBinaryPlist decodes the "bplist00" format: objects, an offset table
// and a 32-byte trailer.
func parseBinaryPlist(data []byte) (any, error) {
	if len(data) < 8+32 {
		return nil, errors.New("binary plist: too short")
	}
	tr := data[len(data)-32:]
	offSize := int(tr[6])
	refSize := int(tr[7])
	numObjects := binary.BigEndian.Uint64(tr[8:])
	top := binary.BigEndian.Uint64(tr[16:])
	tableOff := binary.BigEndian.Uint64(tr[24:])
	if offSize < 1 || offSize > 8 || refSize < 1 || refSize > 8 {
		return nil, errors.New("binary plist: bad trailer")
	}
	if numObjects == 0 || top >= numObjects || numObjects > uint64(len(data)) ||
		tableOff < 8 || tableOff+numObjects*uint64(offSize) > uint64(len(data)-32) {
		return nil, errors.New("binary plist: bad trailer")
	}
	p := &bplist{data: data[:len(data)-32], refSize: refSize, offsets: make([]uint64, numObjects), inProgress: make([]bool, numObjects)}
	for i := range p.offsets {
		p.offsets[i] = readUint(data[tableOff+uint64(i*offSize):], offSize)
		if p.offsets[i] < 8 || p.offsets[i] >= tableOff {
			return nil, fmt.Errorf("binary plist: object %d out of bounds", i)
		}
	}
	return p.object(top, 0)
}

func readUint(b []byte, n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v
}

var errBplistBounds = errors.New("binary plist: truncated object")

func (p *bplist) object(ref uint64, depth int) (any, error) {
	if ref >= uint64(len(p.offsets)) {
		return nil, fmt.Errorf("binary plist: reference %d out of bounds", ref)
	}
	if depth > maxPlistDepth || p.inProgress[ref] {
		return nil, errors.New("binary plist: nested too deep or cyclic")
	}
	p.inProgress[ref] = true
	defer func() { p.inProgress[ref] = false }()
	off := p.offsets[ref]
	marker := p.data[off]
	kind, info := marker>>4, int(marker&0xF)
	pos := off + 1
	switch kind {
	case 0x0:
		switch marker {
		case 0x08:
			return false, nil
		case 0x09:
			return true, nil
		}
		return nil, nil
	case 0x1:
		n := 1 << info
		if pos+uint64(n) > uint64(len(p.data)) || n > 16 {
			return nil, errBplistBounds
		}
		b := p.data[pos : pos+uint64(n)]
		if n == 16 {
			b = b[8:]
			n = 8
		}
		return int64(readUint(b, n)), nil
	case 0x2, 0x3:
		n := 1 << info
		if (n != 4 && n != 8) || pos+uint64(n) > uint64(len(p.data)) {
			return nil, errBplistBounds
		}
		var f float64
		if n == 4 {
			f = float64(math.Float32frombits(binary.BigEndian.Uint32(p.data[pos:])))
		} else {
			f = math.Float64frombits(binary.BigEndian.Uint64(p.data[pos:]))
		}
		if kind == 0x3 {
			return plistEpoch.Add(time.Duration(f * float64(time.Second))), nil
		}
		return f, nil
	case 0x8:
		n := uint64(info + 1)
		if pos+n > uint64(len(p.data)) {
			return nil, errBplistBounds
		}
		return int64(readUint(p.data[pos:], int(n))), nil
	}
	count, pos, err := p.count(info, pos)
	if err != nil {
		return nil, err
	}
	switch kind {
	case 0x4:
		if pos+count > uint64(len(p.data)) {
			return nil, errBplistBounds
		}
		return append([]byte(nil), p.data[pos:pos+count]...), nil
	case 0x5:
		if pos+count > uint64(len(p.data)) {
			return nil, errBplistBounds
		}
		return string(p.data[pos : pos+count]), nil
	case 0x6:
		if pos+2*count > uint64(len(p.data)) {
			return nil, errBplistBounds
		}
		u := make([]uint16, count)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(p.data[pos+uint64(2*i):])
		}
		return string(utf16.Decode(u)), nil
	case 0xA:
		refs, err := p.refs(pos, count)
		if err != nil {
			return nil, err
		}
		a := make([]any, 0, len(refs))
		for _, r := range refs {
			v, err := p.object(r, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case 0xD:
		refs, err := p.refs(pos, 2*count)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, count)
		for i := uint64(0); i < count; i++ {
			k, err := p.object(refs[i], depth+1)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, errors.New("binary plist: dictionary key is not a string")
			}
			v, err := p.object(refs[count+i], depth+1)
			if err != nil {
				return nil, err
			}
			m[ks] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("binary plist: unknown object type 0x%x", marker)
}

// count reads an object's length: the marker's low nibble, or an integer
// object after it when the nibble is 0xF.
func (p *bplist) count(info int, pos uint64) (uint64, uint64, error) {
	if info != 0xF {
		return uint64(info), pos, nil
	}
	if pos >= uint64(len(p.data)) || p.data[pos]>>4 != 0x1 {
		return 0, 0, errBplistBounds
	}
	n := 1 << (p.data[pos] & 0xF)
	pos++
	if n > 8 || pos+uint64(n) > uint64(len(p.data)) {
		return 0, 0, errBplistBounds
	}
	c := readUint(p.data[pos:], n)
	if c > uint64(len(p.data)) {
		return 0, 0, errBplistBounds
	}
	return c, pos + uint64(n), nil
}

func (p *bplist) refs(pos, n uint64) ([]uint64, error) {
	if pos+n*uint64(p.refSize) > uint64(len(p.data)) {
		return nil, errBplistBounds
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = readUint(p.data[pos+uint64(i*p.refSize):], p.refSize)
	}
	return out, nil
}
