package alert

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestACS3DocumentedSignatures signs the requests of Aliyun's V3
// signature documentation and compares with the signatures it publishes.
func TestACS3DocumentedSignatures(t *testing.T) {
	empty := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	query := acs3Query(url.Values{"ImageId": {"win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"}, "RegionId": {"cn-shanghai"}})
	if want := "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"; query != want {
		t.Fatalf("canonical query %q, want %q", query, want)
	}
	for _, tc := range []struct {
		name, date, nonce, want string
	}{
		// "ROA风格请求体&签名机制", https://help.aliyun.com/zh/model-studio/roa-style-request-body-signature-mechanism
		// (its header table: x-acs-date 2023-10-26T09:01:01Z, nonce d410180a…).
		{"roa page", "2023-10-26T09:01:01Z", "d410180a5abf7fe235dd9b74aca91fc0",
			"e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"},
		// "V3版本请求体&签名机制", https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature
		// (its signing example's fixed values: 2023-10-26T10:22:32Z, nonce 3156853299f313e2…).
		{"v3 page", "2023-10-26T10:22:32Z", "3156853299f313e23d1673dc12e1703d",
			"06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := map[string]string{
				"host":                  "ecs.cn-shanghai.aliyuncs.com",
				"x-acs-action":          "RunInstances",
				"x-acs-version":         "2014-05-26",
				"x-acs-date":            tc.date,
				"x-acs-signature-nonce": tc.nonce,
				"x-acs-content-sha256":  empty,
			}
			got := acs3Authorization("POST", "/", query, headers, nil, "YourAccessKeyId", "YourAccessKeySecret")
			want := "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=" + tc.want
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestACS3Encode(t *testing.T) {
	for in, want := range map[string]string{
		"a b":                    "a%20b",
		"a*b~c":                  "a%2Ab~c",
		`{"alias":"蓝狐"}`:         "%7B%22alias%22%3A%22%E8%93%9D%E7%8B%90%22%7D",
		"+8613800000000/?&=":     "%2B8613800000000%2F%3F%26%3D",
		"unreserved-._~AZaz09Zz": "unreserved-._~AZaz09Zz",
	} {
		if got := acs3Encode(in); got != want {
			t.Errorf("acs3Encode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTC3DocumentedSignature signs the request of Tencent Cloud's
// "Signature v3" page (https://www.tencentcloud.com/document/api/382/40467,
// the English edition that still prints the demo SecretKey
// Gu5t9xGARNpq86cd98joQYCN3EXAMPLE) and compares with its published
// Authorization.
func TestTC3DocumentedSignature(t *testing.T) {
	payload := `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	if got, want := sha256Hex([]byte(payload)), "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"; got != want {
		t.Fatalf("payload hash %s, want %s", got, want)
	}
	got := tc3Authorization("AKID**********************0123456789EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm",
		map[string]string{"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"},
		[]byte(payload), 1551113065)
	want := "TC3-HMAC-SHA256 Credential=AKID**********************0123456789EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWebPushRFC8291Example encrypts RFC 8291's example (section 5 and
// appendix A, https://www.rfc-editor.org/rfc/rfc8291#appendix-A) with its
// keys and salt and compares with the message it publishes.
func TestWebPushRFC8291Example(t *testing.T) {
	as, err := ecdh.P256().NewPrivateKey(mustB64(t, "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := base64.RawURLEncoding.EncodeToString(as.PublicKey().Bytes()),
		"BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"; got != want {
		t.Fatalf("as_public %s, want %s", got, want)
	}
	ua, err := ecdh.P256().NewPublicKey(mustB64(t, "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := encryptPayload([]byte("When I grow up, I want to be a watermelon"), ua,
		mustB64(t, "BTBZMqHH6r4Tts7J_aSIgg"), as, mustB64(t, "DGv6ra1nlYgDCS1FRnbzlw"))
	if err != nil {
		t.Fatal(err)
	}
	want := mustB64(t, "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
	if !bytes.Equal(got, want) {
		t.Errorf("got  %x\nwant %x", got, want)
	}
}

func TestWebPushPayloadTooLarge(t *testing.T) {
	as, _ := ecdh.P256().GenerateKey(nil)
	ua, _ := ecdh.P256().GenerateKey(nil)
	if _, err := encryptPayload(bytes.Repeat([]byte("x"), 4000), ua.PublicKey(), make([]byte, 16), as, make([]byte, 16)); err == nil {
		t.Error("a 4000-byte payload was encrypted; want an error (a push body is at most 4096 bytes)")
	}
}

// TestVAPID checks the key pair's round trip and that the JWT verifies
// with the public key the browser is given, as a push service checks it.
func TestVAPID(t *testing.T) {
	k, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := k.MarshalBinary()
	if err != nil || len(raw) != 32 {
		t.Fatalf("MarshalBinary: %d bytes, %v; want 32", len(raw), err)
	}
	k2, err := ParseVAPIDKeys(raw)
	if err != nil {
		t.Fatal(err)
	}
	if k2.PublicKey() != k.PublicKey() {
		t.Fatalf("public key after a round trip %s, want %s", k2.PublicKey(), k.PublicKey())
	}
	if _, err := ParseVAPIDKeys([]byte("short")); err == nil {
		t.Error("ParseVAPIDKeys accepted 5 bytes")
	}
	exp := time.Unix(1700000000, 0)
	jwt, err := vapidJWT(k2, "https://push.example.net", "mailto:ops@example.cn", exp)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("jwt has %d parts", len(parts))
	}
	var hdr, claims map[string]any
	json.Unmarshal(mustB64(t, parts[0]), &hdr)
	json.Unmarshal(mustB64(t, parts[1]), &claims)
	if hdr["alg"] != "ES256" || claims["aud"] != "https://push.example.net" || claims["sub"] != "mailto:ops@example.cn" || claims["exp"] != float64(1700000000) {
		t.Errorf("header %v claims %v", hdr, claims)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), mustB64(t, k.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	sig := mustB64(t, parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Error("the VAPID JWT does not verify with the public key")
	}
}
