package bot

import "testing"

// TestPeekUpdateID: a poll reads each update's id without decoding it;
// the id it reads is the one a full decode gives, however the update is
// spelled, and an update without a readable id is told apart.
func TestPeekUpdateID(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		id   int64
		ok   bool
	}{
		{"telegram's spelling", `{"update_id":42,"message":{"text":"x"}}`, 42, true},
		{"alone", `{"update_id":7}`, 7, true},
		{"largest", `{"update_id":9223372036854775807,"x":1}`, 9223372036854775807, true},
		{"spaces", `{ "update_id" : 12 , "message":{}}`, 12, true},
		{"not first", `{"message":{"text":"{\"update_id\":1,"},"update_id":99}`, 99, true},
		{"too large", `{"update_id":92233720368547758070}`, 0, false},
		{"negative", `{"update_id":-3,"x":1}`, -3, true},
		{"fraction", `{"update_id":3.5}`, 0, false},
		{"string", `{"update_id":"3"}`, 0, false},
		{"missing", `{"message":{}}`, 0, false},
		{"not an object", `[1,2]`, 0, false},
		{"truncated", `{"update_id":12`, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := peekUpdateID([]byte(tc.raw))
			if id != tc.id || ok != tc.ok {
				t.Errorf("peekUpdateID(%s): got %d, %v; want %d, %v", tc.raw, id, ok, tc.id, tc.ok)
			}
		})
	}
}
