package vault

import (
	"context"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	k, _ := GenerateKeyPair()
	pub := k.PublicKey()
	pt := make([]byte, 1024)
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := Seal(pub, testInfo, pt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k, _ := GenerateKeyPair()
	pt := make([]byte, 1024)
	ct, err := Seal(k.PublicKey(), testInfo, pt)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := Open(k, testInfo, ct); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnwrapWithPassword(b *testing.B) {
	v, err := New(testKey(1), Options{}) // real defaults: t=3, 64 MiB, p=4
	if err != nil {
		b.Fatal(err)
	}
	k, _ := GenerateKeyPair()
	ctx := context.Background()
	wrapped, err := v.WrapWithPassword(ctx, k, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got, err := v.UnwrapWithPassword(ctx, wrapped, "correct horse battery staple")
		if err != nil {
			b.Fatal(err)
		}
		got.Wipe()
	}
}
