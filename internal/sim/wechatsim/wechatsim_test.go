package wechatsim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStartRefusesABadKey(t *testing.T) {
	for _, key := range []string{"", "short", strings.Repeat("!", 43)} {
		if s, err := Start(Config{AppID: "wx1", AESKey: key}); err == nil {
			s.Close()
			t.Errorf("Start with AES key %q: got no error, want one", key)
		}
	}
}

// The simulator serves on a real listener, hands out tokens only for its
// account, refuses sends outside the user's window, and stops on Close.
func TestAPIOnARealListener(t *testing.T) {
	s, err := Start(Config{AppID: "wx1", Secret: "sec", Token: "tok", AESKey: NewAESKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q: want a loopback address", s.URL())
	}
	post := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(s.URL()+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := post("/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": "wx1", "secret": "wrong"}); got["errcode"] != 40125.0 {
		t.Fatalf("wrong secret: got %v, want errcode 40125", got)
	}
	tok := post("/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": "wx1", "secret": "sec"})
	at, _ := tok["access_token"].(string)
	if at == "" {
		t.Fatalf("token: got %v", tok)
	}
	send := map[string]any{"touser": "oUSER", "msgtype": "text", "text": map[string]string{"content": "hi"}}
	if got := post("/cgi-bin/message/custom/send?access_token="+at, send); got["errcode"] != 40003.0 {
		t.Fatalf("send before the user wrote: got %v, want errcode 40003", got)
	}
	s.OpenWindow("oUSER")
	if got := post("/cgi-bin/message/custom/send?access_token="+at, send); got["errcode"] != 0.0 {
		t.Fatalf("send in the window: got %v, want errcode 0", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if m, _, err := s.Wait(ctx, "oUSER", 0, func(m Sent) bool { return m.Kind == "text" }); err != nil || m.Text != "hi" {
		t.Fatalf("sent: got %+v, %v; want the text hi", m, err)
	}
	s.Close()
	if _, err := http.Get(s.URL() + "/cgi-bin/media/get"); err == nil {
		t.Fatal("the simulator still answers after Close")
	}
}

// What Encrypt seals, Decrypt opens, and only for the account's AppID.
func TestEncryptRoundTrip(t *testing.T) {
	key := NewAESKey()
	a, err := Start(Config{AppID: "wxA", AESKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Start(Config{AppID: "wxB", AESKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	enc := a.Encrypt([]byte("<xml>你好</xml>"))
	if got, err := a.Decrypt(enc); err != nil || string(got) != "<xml>你好</xml>" {
		t.Fatalf("round trip: got %q, %v", got, err)
	}
	if _, err := b.Decrypt(enc); err == nil {
		t.Fatal("another AppID opened the message")
	}
}
