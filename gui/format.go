package gui

import (
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"
)

// formatInt writes n with the language's thousands separator: "4,812" in
// English, "4 812" in French.
func formatInt(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	if len(s) > 3 {
		sep := lang.X("format.thousands", ",")
		var sb strings.Builder
		lead := len(s) % 3
		if lead > 0 {
			sb.WriteString(s[:lead])
		}
		for i := lead; i < len(s); i += 3 {
			if sb.Len() > 0 {
				sb.WriteString(sep)
			}
			sb.WriteString(s[i : i+3])
		}
		s = sb.String()
	}
	if neg {
		return "-" + s
	}
	return s
}

// formatCount is formatInt for an int.
func formatCount(n int) string { return formatInt(int64(n)) }

// formatDecimal writes v with one decimal and the language's decimal mark.
func formatDecimal(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.Replace(s, ".", lang.X("format.decimal", "."), 1)
}

// formatBytes writes a size for people: "512 bytes", "64 KB", "14.2 MB", "1.2 GB".
func formatBytes(n int64) string {
	switch {
	case n < 0:
		return lang.X("format.unknown", "unknown")
	case n >= 1<<30:
		return lang.X("format.gb", "{{.N}} GB", map[string]any{"N": formatDecimal(float64(n) / (1 << 30))})
	case n >= 1<<20:
		return lang.X("format.mb", "{{.N}} MB", map[string]any{"N": formatDecimal(float64(n) / (1 << 20))})
	case n >= 1<<10:
		return lang.X("format.kb", "{{.N}} KB", map[string]any{"N": formatInt((n + 512) >> 10)})
	}
	return lang.XN("format.bytes", "{{.N}} bytes", int(n), map[string]any{"N": formatInt(n)})
}

// formatRate writes a speed in bytes per second.
func formatRate(bytesPerSec float64) string {
	return lang.X("format.rate", "{{.Size}}/s", map[string]any{"Size": formatBytes(int64(bytesPerSec))})
}

// formatDuration writes a duration for people: "8 s", "3 min 12 s", "1 h 05 min".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return lang.X("format.hm", "{{.H}} h {{.M}} min", map[string]any{"H": h, "M": twoDigits(m)})
	case m > 0:
		return lang.X("format.ms", "{{.M}} min {{.S}} s", map[string]any{"M": m, "S": twoDigits(s)})
	}
	return lang.X("format.s", "{{.S}} s", map[string]any{"S": s})
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// formatMessages writes "1 message" or "4,812 messages".
func formatMessages(n int) string {
	return lang.XN("format.messages", "{{.N}} messages", n, map[string]any{"N": formatCount(n)})
}

// formatFolders writes "1 folder" or "16 folders".
func formatFolders(n int) string {
	return lang.XN("format.folders", "{{.N}} folders", n, map[string]any{"N": formatCount(n)})
}

// formatDate writes a message date as people read it in a list.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return lang.X("format.nodate", "no date")
	}
	return t.Local().Format("2006-01-02")
}
