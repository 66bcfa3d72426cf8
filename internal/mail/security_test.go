package mail

import "testing"

func TestSecurityForPort(t *testing.T) {
	for _, tc := range []struct {
		port int
		in   Security
		want Security
	}{
		{465, SecurityAuto, SecurityTLS},
		{587, SecurityAuto, SecurityStartTLS},
		{25, SecurityAuto, SecurityOpportunistic},
		{2525, SecurityAuto, SecurityOpportunistic},
		{465, SecurityStartTLS, SecurityStartTLS},
		{587, SecurityTLS, SecurityTLS},
		{25, SecurityStartTLS, SecurityStartTLS},
	} {
		if got := securityFor(tc.port, tc.in); got != tc.want {
			t.Errorf("securityFor(%d, %q) = %q, want %q", tc.port, tc.in, got, tc.want)
		}
	}
}
