package staff

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// NewSchool is what creating a school needs.
type NewSchool struct {
	Code          string
	Name          string
	NameEN        string
	District      string
	AdminUsername string
	Settings      *hotline.SchoolSettings
}

// CreatedSchool is shown once to whoever created the school: the recovery
// key and the first admin's one-time password are never shown again.
type CreatedSchool struct {
	School        *hotline.School
	RecoveryKey   string
	Admin         *hotline.Counselor
	AdminPassword string
}

// CreateSchool creates a school with a fresh key pair, wraps its private
// key under a new recovery key and under a first admin's one-time password.
func (s *Service) CreateSchool(ctx context.Context, in NewSchool) (*CreatedSchool, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > 100 {
		return nil, hotline.Errorf(hotline.EINVALID, "学校名称需为 1–100 个字符。", "A school name is 1–100 characters.")
	}
	generated := in.AdminUsername == ""
	k, err := s.newKeyPair(ctx)
	if err != nil {
		return nil, err
	}
	school := &hotline.School{Code: in.Code, Name: in.Name, District: strings.TrimSpace(in.District), PublicKey: k.public}
	if in.Settings != nil {
		school.Settings = *in.Settings
	}
	if in.NameEN != "" {
		school.Settings.NameEN = in.NameEN
	}
	var admin *hotline.Counselor
	for try := 0; ; try++ {
		username := in.AdminUsername
		if generated {
			if username, err = NewAdminUsername(); err != nil {
				return nil, err
			}
		}
		admin = &hotline.Counselor{Username: username, DisplayName: username, Role: hotline.RoleAdmin, MustChangePassword: true}
		err = s.DB.Update(ctx, func(tx *store.Tx) error {
			if err := tx.CreateSchool(school, k.recoveryWrapped); err != nil {
				return err
			}
			admin.SchoolID = school.ID
			return tx.CreateCounselor(admin, k.wrapped)
		})
		if err == nil {
			break
		}
		// A generated name can collide with a taken one (about one in 900
		// million per account): draw again. (A taken school code fails the
		// same way each time, and is answered after the third.)
		if !generated || try == 2 || hotline.ErrorCode(err) != hotline.ECONFLICT {
			return nil, err
		}
	}
	return &CreatedSchool{School: school, RecoveryKey: k.recovery, Admin: admin, AdminPassword: k.otp}, nil
}

// NewAdminUsername returns a username for a school's first admin that
// nobody can guess from the school: "admin-" and six random letters and
// digits. Deriving it from the school code, which is printed on posters,
// would hand every passer-by the name to lock out.
func NewAdminUsername() (string, error) {
	suffix, err := vault.RandomCode("abcdefghjkmnpqrstuvwxyz23456789", 6)
	if err != nil {
		return "", err
	}
	return "admin-" + suffix, nil
}

// newKeys is a fresh key pair for a school or district: its public key, its
// private key wrapped under a new recovery key and under a first account's
// one-time password. The private key itself is wiped before this returns.
type newKeys struct {
	public          []byte
	recovery        string
	recoveryWrapped []byte
	otp             string
	wrapped         []byte
}

func (s *Service) newKeyPair(ctx context.Context) (*newKeys, error) {
	key, err := vault.GenerateKeyPair()
	if err != nil {
		return nil, err
	}
	defer key.Wipe()
	k := &newKeys{public: key.PublicKey()}
	if k.recovery, err = vault.NewRecoveryKey(); err != nil {
		return nil, err
	}
	if k.recoveryWrapped, err = vault.WrapWithRecoveryKey(key, k.recovery); err != nil {
		return nil, err
	}
	if k.otp, err = vault.NewOneTimePassword(); err != nil {
		return nil, err
	}
	if k.wrapped, err = s.Vault.WrapWithPassword(ctx, key, k.otp); err != nil {
		return nil, err
	}
	return k, nil
}

// CreatedDistrict is shown once: the district's recovery key and its first
// officer's one-time password.
type CreatedDistrict struct {
	District        *store.District
	RecoveryKey     string
	Officer         *hotline.Counselor
	OfficerPassword string
}

// CreateDistrict creates a district education bureau with its own key pair
// and a first officer.
func (s *Service) CreateDistrict(ctx context.Context, name, officerUsername string) (*CreatedDistrict, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 {
		return nil, hotline.Errorf(hotline.EINVALID, "区名称需为 1–100 个字符。", "A district name is 1–100 characters.")
	}
	if existing, err := s.DB.DistrictByName(ctx, name); err != nil {
		return nil, err
	} else if existing != nil {
		return nil, hotline.Errorf(hotline.ECONFLICT, "这个区已经存在。", "That district exists already.")
	}
	k, err := s.newKeyPair(ctx)
	if err != nil {
		return nil, err
	}
	d := &store.District{Name: name, PublicKey: k.public, RecoveryWrapped: k.recoveryWrapped}
	officer := &hotline.Counselor{Username: officerUsername, DisplayName: officerUsername, District: name, Role: hotline.RoleDistrict, MustChangePassword: true}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateDistrict(d); err != nil {
			return err
		}
		return tx.CreateCounselor(officer, k.wrapped)
	})
	if err != nil {
		return nil, err
	}
	return &CreatedDistrict{District: d, RecoveryKey: k.recovery, Officer: officer, OfficerPassword: k.otp}, nil
}

// AddCounselor adds a counselor (or admin) to the admin's school. The
// school key, open in the admin's session, is wrapped under a one-time
// password that the new counselor must change at first log-in.
func (s *Service) AddCounselor(ctx context.Context, admin *Session, username, displayName string, role hotline.Role) (*hotline.Counselor, string, error) {
	return s.addCounselor(ctx, admin, username, displayName, role, nil)
}

// addCounselor is AddCounselor with also, when set, run in the transaction
// that creates the account.
func (s *Service) addCounselor(ctx context.Context, admin *Session, username, displayName string, role hotline.Role, also func(*store.Tx, *hotline.Counselor) error) (*hotline.Counselor, string, error) {
	if admin.Counselor.Role != hotline.RoleAdmin && admin.Counselor.Role != hotline.RoleDistrict {
		return nil, "", hotline.ErrForbidden
	}
	if admin.Counselor.Role == hotline.RoleDistrict {
		role = hotline.RoleDistrict
	} else if role != hotline.RoleCounselor && role != hotline.RoleAdmin {
		return nil, "", hotline.Errorf(hotline.EINVALID, "角色无效。", "Invalid role.")
	}
	username = strings.TrimSpace(username)
	if !validUsername(username) {
		return nil, "", hotline.Errorf(hotline.EINVALID, "用户名只能包含字母、数字、点、下划线和连字符（2–64 个字符）。", "A username is 2–64 letters, digits, dots, underscores or hyphens.")
	}
	if displayName = strings.TrimSpace(displayName); displayName == "" {
		displayName = username
	}
	if !utf8.ValidString(displayName) || utf8.RuneCountInString(displayName) > 64 {
		return nil, "", hotline.Errorf(hotline.EINVALID, "姓名太长。", "The name is too long.")
	}
	otp, err := vault.NewOneTimePassword()
	if err != nil {
		return nil, "", err
	}
	wrapped, err := s.Vault.WrapWithPassword(ctx, admin.Key, otp)
	if err != nil {
		return nil, "", err
	}
	c := &hotline.Counselor{SchoolID: admin.Counselor.SchoolID, District: admin.Counselor.District, Username: username, DisplayName: displayName, Role: role, MustChangePassword: true}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCounselor(c, wrapped); err != nil {
			return err
		}
		if also != nil {
			return also(tx, c)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return c, otp, nil
}

func validUsername(u string) bool {
	if len(u) < 2 || len(u) > 64 {
		return false
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Deactivate removes a counselor's access: their wrapped key is deleted, so
// their password opens nothing even with a copy of the database.
func (s *Service) Deactivate(ctx context.Context, admin *Session, counselorID int64) error {
	if admin.Counselor.Role != hotline.RoleAdmin {
		return hotline.ErrForbidden
	}
	if counselorID == admin.Counselor.ID {
		return hotline.Errorf(hotline.EINVALID, "不能停用自己的账号。", "You cannot deactivate yourself.")
	}
	c, err := s.DB.CounselorByID(ctx, counselorID)
	if err != nil || c.SchoolID != admin.Counselor.SchoolID {
		return hotline.ErrNotFound
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeactivateCounselor(counselorID); err != nil {
			return err
		}
		// Their open sessions end in the same commit, on every node.
		if err := tx.DeleteCounselorSessions(counselorID, nil); err != nil {
			return err
		}
		return tx.ForgetDevices(counselorID)
	})
}

// Recover restores access to a school when every password is lost: the
// recovery key unwraps the school key, and a new admin account is created
// with a one-time password.
func (s *Service) Recover(ctx context.Context, schoolCode, recoveryKey, newAdmin string) (*hotline.Counselor, string, error) {
	school, err := s.DB.SchoolByCode(ctx, schoolCode)
	if err != nil {
		return nil, "", err
	}
	wrapped, err := s.DB.SchoolRecoveryWrapped(ctx, school.ID)
	if err != nil {
		return nil, "", err
	}
	refund, err := admit(ctx)
	if err != nil {
		return nil, "", err
	}
	key, err := vault.UnwrapWithRecoveryKey(wrapped, recoveryKey)
	if err == nil {
		refund()
	} else {
		aerr := s.DB.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			return tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditRecoveryFailed, SchoolID: school.ID, District: school.District, Client: ClientOf(ctx)})
		})
		if aerr != nil {
			s.Logger.Error("audit of a wrong recovery key", "err", aerr)
		}
		return nil, "", hotline.Errorf(hotline.EUNAUTHORIZED, "恢复密钥不正确。", "The recovery key is wrong.")
	}
	defer key.Wipe()
	admin := &Session{Counselor: &hotline.Counselor{SchoolID: school.ID, Role: hotline.RoleAdmin}, Key: key}
	// The new admin's account and the audit entry of the recovery are one
	// write: no recovery goes unrecorded.
	c, otp, err := s.addCounselor(ctx, admin, newAdmin, newAdmin, hotline.RoleAdmin, func(tx *store.Tx, c *hotline.Counselor) error {
		return Audit(tx, c, hotline.AuditRecovery, 0, ClientOf(ctx), "")
	})
	if err != nil {
		return nil, "", fmt.Errorf("recover: %w", err)
	}
	return c, otp, nil
}
