package sieve

import (
	"reflect"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		script string
		want   []string
	}{
		{"", nil},
		{"require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"X\"; }\n", nil},
		{"redirect \"bob@example.org\";\n", []string{`Forwards mail to "bob@example.org" (without keeping a copy, unless the script keeps one elsewhere).`}},
		{"require [\"copy\"];\n# redirect \"no@example.org\";\nif true { redirect :copy \"bob@example.org\"; }\n", []string{`Forwards mail to "bob@example.org" and keeps a copy.`}},
		{"require \"vacation\";\nvacation :days 7 :subject \"Away\" :addresses [\"a@x.org\", \"b@x.org\"] \"I am away.\";\n",
			[]string{`Replies automatically (vacation) with the subject "Away", at most once every 7 days per sender, also for mail to a@x.org, b@x.org: "I am away.".`}},
		{"require \"vacation\";\r\nvacation :subject \"Off\" text:\r\nBack on Monday.\r\n..dot\r\n.\r\n;\r\n",
			[]string{"Replies automatically (vacation) with the subject \"Off\": \"Back on Monday.\\n.dot\"."}},
		{"if header :contains \"subject\" \"vacation\" { keep; }", nil},
	}
	for _, tt := range tests {
		if got := Summarize(tt.script); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Summarize(%q) = %q; want %q", tt.script, got, tt.want)
		}
	}
}
