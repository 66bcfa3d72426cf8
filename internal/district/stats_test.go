package district

import "testing"

func TestSuppressSmallCounts(t *testing.T) {
	for n, want := range map[int]string{0: "0", 1: "<5", 4: "<5", 5: "5", 12: "12"} {
		if got := Suppress(n); got != want {
			t.Errorf("Suppress(%d) = %q, want %q", n, got, want)
		}
	}
}
