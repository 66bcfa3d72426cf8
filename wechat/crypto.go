package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
)

// The message crypto of WeChat's safe mode (安全模式), as WeChat documents
// it: AES-256-CBC with the key decoded from the 43-character
// EncodingAESKey and its first 16 bytes as IV, PKCS#7 padding to 32-byte
// blocks, a plaintext of 16 random bytes, the message length (4 bytes, big
// endian), the message and the AppID; and SHA-1 signatures over the sorted
// token, timestamp, nonce (and ciphertext). Standard-library primitives
// only.

// errCrypto is any failure to open a message; its cause is not told.
var errCrypto = errors.New("wechat: message does not open")

// crypter seals and opens one account's messages.
type crypter struct {
	token string
	appID string
	block cipher.Block
	iv    []byte
}

// newCrypter checks the EncodingAESKey (43 characters of base64) and
// returns the account's crypter.
func newCrypter(token, encodingAESKey, appID string) (*crypter, error) {
	if len(encodingAESKey) != 43 {
		return nil, errors.New("wechat: EncodingAESKey must be 43 characters")
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("wechat: EncodingAESKey is not valid base64 of 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &crypter{token: token, appID: appID, block: block, iv: key[:16]}, nil
}

// signature is WeChat's SHA-1 over the sorted, concatenated parts.
func signature(parts ...string) string {
	p := append([]string(nil), parts...)
	sort.Strings(p)
	sum := sha1.Sum([]byte(strings.Join(p, "")))
	return hex.EncodeToString(sum[:])
}

func equalSig(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// verifyURL checks the signature of a request (the GET echo check, and
// the outer signature of every POST).
func (c *crypter) verifyURL(sig, timestamp, nonce string) bool {
	return sig != "" && equalSig(sig, signature(c.token, timestamp, nonce))
}

// verifyMsg checks the msg_signature over an encrypted message.
func (c *crypter) verifyMsg(sig, timestamp, nonce, encrypted string) bool {
	return sig != "" && equalSig(sig, signature(c.token, timestamp, nonce, encrypted))
}

const padBlock = 32

// decrypt opens an Encrypt element and checks that it is for this AppID.
func (c *crypter) decrypt(encrypted string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errCrypto
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(c.block, c.iv).CryptBlocks(plain, ct)
	n := int(plain[len(plain)-1])
	if n < 1 || n > padBlock || n > len(plain) {
		return nil, errCrypto
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, errCrypto
		}
	}
	plain = plain[:len(plain)-n]
	if len(plain) < 20 {
		return nil, errCrypto
	}
	size := binary.BigEndian.Uint32(plain[16:20])
	if uint64(size) > uint64(len(plain)-20) {
		return nil, errCrypto
	}
	msg, appID := plain[20:20+size], plain[20+size:]
	if subtle.ConstantTimeCompare(appID, []byte(c.appID)) != 1 {
		return nil, errCrypto
	}
	return msg, nil
}

// encrypt seals a reply for WeChat.
func (c *crypter) encrypt(msg []byte) (string, error) {
	var buf bytes.Buffer
	random := make([]byte, 16)
	rand.Read(random)
	buf.Write(random)
	binary.Write(&buf, binary.BigEndian, uint32(len(msg)))
	buf.Write(msg)
	buf.WriteString(c.appID)
	n := padBlock - buf.Len()%padBlock
	buf.Write(bytes.Repeat([]byte{byte(n)}, n))
	plain := buf.Bytes()
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(ct, plain)
	clear(plain)
	return base64.StdEncoding.EncodeToString(ct), nil
}
