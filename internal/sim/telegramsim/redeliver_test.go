package telegramsim

import (
	"encoding/json"
	"fmt"
	"testing"
)

// A bot that dies after fetching updates but before confirming them gets
// them again from its next getUpdates, as from Telegram: only an offset
// drops updates, and only those below it.
func TestUnconfirmedUpdatesAreRedelivered(t *testing.T) {
	srv := startT(t, Config{})
	base := srv.URL() + "/bot" + srv.Token() + "/getUpdates"
	u := srv.NewUser(UserOptions{})
	for _, s := range []string{"one", "two", "three"} {
		u.SendText(s)
	}
	ids := func(r rawResp) []int64 {
		t.Helper()
		var upds []Update
		if err := json.Unmarshal(r.Result, &upds); err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, up := range upds {
			out = append(out, up.UpdateID)
		}
		return out
	}
	_, r := post(t, base, "application/json", `{"timeout":0}`)
	first := ids(r)
	if len(first) != 3 {
		t.Fatalf("first poll: %v", first)
	}
	// The bot "crashes": a new process polls without an offset.
	_, r = post(t, base, "application/json", `{"timeout":0}`)
	if again := ids(r); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("after a restart without confirmation got %v, want %v again", again, first)
	}
	// It confirms the first update only, then dies again: the other two
	// come back.
	_, r = post(t, base, "application/json", fmt.Sprintf(`{"offset":%d,"timeout":0}`, first[1]))
	if got := ids(r); fmt.Sprint(got) != fmt.Sprint(first[1:]) {
		t.Fatalf("after confirming %d got %v, want %v", first[0], got, first[1:])
	}
	_, r = post(t, base, "application/json", `{"timeout":0}`)
	if got := ids(r); fmt.Sprint(got) != fmt.Sprint(first[1:]) || srv.PendingUpdates() != 2 {
		t.Fatalf("redelivered %v (%d pending), want %v", got, srv.PendingUpdates(), first[1:])
	}
}
