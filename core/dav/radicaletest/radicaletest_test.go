package radicaletest

import (
	"net/http"
	"strings"
	"testing"
)

func TestStartAndSeed(t *testing.T) {
	s := Start(t, Options{})
	s.MakeAddressBook(t, "alice", "book", "Família", "#ff0000ff")
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-1\r\nFN:Zoë\r\nN:;Zoë;;;\r\nEND:VCARD\r\n"
	s.Put(t, "alice", "alice/book/card-1.vcf", "text/vcard", []byte(card))
	got := s.List(t, "alice", "alice/book/")
	if len(got) != 1 || got[0] != "/alice/book/card-1.vcf" {
		t.Fatalf("List = %q; want [/alice/book/card-1.vcf]", got)
	}
	if data := s.Get(t, "alice", "alice/book/card-1.vcf"); !strings.Contains(string(data), "UID:card-1") {
		t.Errorf("Get = %q; want the card", data)
	}
	s.MakeCalendar(t, "alice", "cal", "Work", "#00ff00ff", "VEVENT", "VTODO")
	// owner_only: bob cannot read alice's collections.
	if code, _ := s.Do(t, "bob", "PROPFIND", "alice/book/", http.Header{"Depth": {"0"}}, nil); code/100 == 2 {
		t.Errorf("bob PROPFIND alice/book/ = %d; want refused", code)
	}
	if code, _ := s.Do(t, "bob", "GET", "bob/", nil, nil); code == http.StatusUnauthorized {
		t.Errorf("bob GET bob/ = 401; want authenticated")
	}
	req, err := http.NewRequestWithContext(t.Context(), "PROPFIND", s.PrincipalURL("alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("alice", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("PROPFIND with a wrong password = %d; want 401", resp.StatusCode)
	}
}
