package vault

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// ErrKeyVersion means a stored key or label names a derivation version this
// build does not know.
var ErrKeyVersion = errors.New("vault: unknown derivation version")

// Reporter key derivations. Each tip stores which one made its reporter
// public key, so that threads of every age stay readable.
const (
	// ReporterKeyV1 derives the key from the receipt alone. A copy of the
	// database let anyone test receipt guesses offline against every tip's
	// public key; only tips created before version 2 use it.
	ReporterKeyV1 = 1
	// ReporterKeyV2 derives the key from the receipt and a subkey of the
	// server key: a guess cannot be tested without the server key.
	ReporterKeyV2 = 2
	// ReporterKeyCurrent is the derivation of new tips.
	ReporterKeyCurrent = ReporterKeyV2
)

// ReporterKey derives a web reporter's key pair from their receipt with
// the given derivation version (the one stored with the tip):
//
//   - v1: HKDF-SHA256(ikm = canonical receipt, no salt, info "hotline/v1
//     reporter key");
//   - v2: HKDF-SHA256(ikm = canonical receipt, salt = a subkey of the server
//     key, info "hotline/v2 reporter key");
//
// the 32 bytes are the input keying material of MLKEM768X25519
// DeriveKeyPair. Deterministic, so a returning reporter reads their thread
// with the receipt alone. Never change a version's derivation: old threads
// would become unreadable; add a version instead.
func (v *Vault) ReporterKey(receipt string, version int) (*PrivateKey, error) {
	canon, err := ParseReceipt(receipt)
	if err != nil {
		return nil, err
	}
	var ikm []byte
	switch version {
	case ReporterKeyV1:
		ikm, err = hkdf.Key(sha256.New, []byte(canon), nil, "hotline/v1 reporter key", 32)
	case ReporterKeyV2:
		ikm, err = hkdf.Key(sha256.New, []byte(canon), v.reporterSalt, "hotline/v2 reporter key", 32)
	default:
		return nil, fmt.Errorf("%w: reporter key %d", ErrKeyVersion, version)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: reporter ikm: %w", err)
	}
	defer clear(ikm)
	k, err := kem.DeriveKeyPair(ikm)
	if err != nil {
		return nil, fmt.Errorf("vault: reporter key: %w", err)
	}
	return fromHPKE(k)
}

// serverSealBoundVersion is the format of SealServerFor: the version byte
// of SealServer's format, but with the row in the associated data.
const serverSealBoundVersion = 2

// SealServerFor is SealServer bound to the row that stores the ciphertext
// (row names it: a tip's uid, a counselor's id, ...), so that a ciphertext
// copied into another row does not open there. Output: version byte (2) ||
// nonce || ciphertext.
func (v *Vault) SealServerFor(purpose, row string, plaintext []byte) ([]byte, error) {
	ns := v.seal.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+v.seal.Overhead())
	out[0] = serverSealBoundVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return v.seal.Seal(out, out[1:1+ns], plaintext, boundAD(purpose, row)), nil
}

// OpenServerFor opens the output of SealServerFor for the same purpose and
// row. Rows written before binding hold SealServer's format (version 1),
// bound to the purpose only: those still open, so that nothing stored
// becomes unreadable. Any failure returns ErrDecrypt.
func (v *Vault) OpenServerFor(purpose, row string, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) > 0 && ciphertext[0] == serverSealVersion {
		return v.OpenServer(purpose, ciphertext)
	}
	ns := v.seal.NonceSize()
	if len(ciphertext) < 1+ns+v.seal.Overhead() || ciphertext[0] != serverSealBoundVersion {
		return nil, ErrDecrypt
	}
	pt, err := v.seal.Open(nil, ciphertext[1:1+ns], ciphertext[1+ns:], boundAD(purpose, row))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// boundAD is version || len(purpose) || purpose || row: the length prefix
// keeps ("a","bc") and ("ab","c") apart.
func boundAD(purpose, row string) []byte {
	ad := make([]byte, 0, 1+4+len(purpose)+len(row))
	ad = append(ad, serverSealBoundVersion)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(purpose)))
	ad = append(ad, purpose...)
	return append(ad, row...)
}

// Purposes and row names of the row-bound server seals.
const (
	chatPurpose  = "telegram-chat"
	emailPurpose = "staff-email" // the purpose staff alert addresses were sealed under before binding
)

func handleRow(tipUID string) string    { return "reporter-handle|" + tipUID }
func staffRow(counselorID int64) string { return "counselor|" + strconv.FormatInt(counselorID, 10) }

// SealHandleChat seals the Telegram chat id of a reporter's handle, bound
// to the handle's tip: a sealed chat id moved to another tip's handle does
// not open there, so replies cannot be redirected to another chat.
func (v *Vault) SealHandleChat(tipUID string, chatID int64) ([]byte, error) {
	return v.SealServerFor(chatPurpose, handleRow(tipUID), strconv.AppendInt(nil, chatID, 10))
}

// OpenHandleChat opens the chat id of a tip's handle: the output of
// SealHandleChat for the same tip, or of SealChat for handles stored
// before binding. Any failure returns ErrDecrypt.
func (v *Vault) OpenHandleChat(tipUID string, sealed []byte) (int64, error) {
	return v.openChat(handleRow(tipUID), sealed)
}

// SealStaffChat seals the Telegram chat a staff member gets alerts in,
// bound to the staff member: moved to another counselor's row, it does not
// open there, so alerts cannot be redirected.
func (v *Vault) SealStaffChat(counselorID int64, chatID int64) ([]byte, error) {
	return v.SealServerFor(chatPurpose, staffRow(counselorID), strconv.AppendInt(nil, chatID, 10))
}

// OpenStaffChat opens a staff member's alert chat: the output of
// SealStaffChat for the same counselor, or of SealChat for chats linked
// before binding. Any failure returns ErrDecrypt.
func (v *Vault) OpenStaffChat(counselorID int64, sealed []byte) (int64, error) {
	return v.openChat(staffRow(counselorID), sealed)
}

func (v *Vault) openChat(row string, sealed []byte) (int64, error) {
	pt, err := v.OpenServerFor(chatPurpose, row, sealed)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(string(pt), 10, 64)
	if err != nil {
		return 0, ErrDecrypt
	}
	return id, nil
}

// SealStaffEmail seals the address a staff member gets alerts at, bound to
// the staff member.
func (v *Vault) SealStaffEmail(counselorID int64, addr string) ([]byte, error) {
	return v.SealServerFor(emailPurpose, staffRow(counselorID), []byte(addr))
}

// OpenStaffEmail opens a staff member's alert address: the output of
// SealStaffEmail for the same counselor, or of SealServer("staff-email")
// for addresses stored before binding. Any failure returns ErrDecrypt.
func (v *Vault) OpenStaffEmail(counselorID int64, sealed []byte) (string, error) {
	pt, err := v.OpenServerFor(emailPurpose, staffRow(counselorID), sealed)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// targetPurpose is the purpose of sealed alert targets.
const targetPurpose = "alert-target"

// AlertTargetRow names an alert target's row for its seal: its id and its
// owner ("counselor|7", "school|3", "district|海淀区"), so that a sealed
// address moved to another row, or to another owner's, does not open.
func AlertTargetRow(id int64, owner string) string {
	return "alert-target|" + strconv.FormatInt(id, 10) + "|" + owner
}

// sealedTarget is the plaintext of a sealed alert target.
type sealedTarget struct {
	Address string `json:"a"`
	Secret  string `json:"s,omitempty"`
}

// SealAlertTarget seals an alert target's address (a phone number, a robot
// key, a push subscription) and secret (a robot's signing secret) under
// the server key, bound to its row (AlertTargetRow).
func (v *Vault) SealAlertTarget(row, address, secret string) ([]byte, error) {
	pt, err := json.Marshal(sealedTarget{Address: address, Secret: secret})
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return v.SealServerFor(targetPurpose, row, pt)
}

// OpenAlertTarget opens the output of SealAlertTarget for the same row.
// Any failure returns ErrDecrypt.
func (v *Vault) OpenAlertTarget(row string, sealed []byte) (address, secret string, err error) {
	pt, err := v.OpenServerFor(targetPurpose, row, sealed)
	if err != nil {
		return "", "", err
	}
	defer clear(pt)
	var t sealedTarget
	if err := json.Unmarshal(pt, &t); err != nil {
		return "", "", ErrDecrypt
	}
	return t.Address, t.Secret, nil
}
