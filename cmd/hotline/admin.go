package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// openData opens a data directory for an administrative command. It never
// makes a server key (see openVault).
func openData(dir string, env *Env) (*Main, error) {
	return openDataWith(dir, env, nil)
}

// openDataWith is openData with adjust applied before the directory opens.
func openDataWith(dir string, env *Env, adjust func(*Main)) (*Main, error) {
	m := NewMain()
	m.Config.DataDir = dir
	m.Config.Database = env.Database
	m.Logger = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if adjust != nil {
		adjust(m)
	}
	if err := m.Open(); err != nil {
		return nil, err
	}
	return m, nil
}

func runInit(ctx context.Context, args []string, env *Env) error {
	var dir string
	fs := newFlagSet("init", env, "Creates the data directory (mode 0700) with a random server key (mode 0600) and the database.\nSafe to run again: it keeps what exists. It is the only command (with demo) that makes a key,\nand only for a database that holds nothing yet.")
	fs.dataFlag(&dir)
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	m, err := openDataWith(dir, env, func(m *Main) { m.InitKey = true })
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintf(env.Stdout, "数据目录已就绪 / data directory ready: %s\n", dir)
	if m.KeyCreated {
		fmt.Fprintf(env.Stdout, "已生成服务器密钥 / server key created: %s\n", m.KeySource)
	} else {
		fmt.Fprintf(env.Stdout, "沿用已有的服务器密钥 / kept the existing server key: %s\n", m.KeySource)
	}
	fmt.Fprintf(env.Stdout, "密钥指纹 / key fingerprint: %s\n", m.Vault.Fingerprint())
	fmt.Fprintln(env.Stdout, "请把这把密钥另存一份（离线、与备份分开）：备份里没有它，没有它备份里的回执和聊天都打不开。")
	fmt.Fprintln(env.Stdout, "Keep a copy of this key offline, apart from the backups: they never hold it, and without it their receipts and chats do not open.")
	fmt.Fprintf(env.Stdout, "下一步 / next: hotline district add --data %s --name 海淀区 --officer haidian-officer\n", dir)
	return nil
}

func runSchool(ctx context.Context, args []string, env *Env) error {
	if len(args) > 0 && args[0] == "set-district" {
		return runSchoolSetDistrict(ctx, args[1:], env)
	}
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(env.Stderr, "usage: hotline school add --name NAME --code CODE --district NAME [--create-district --officer USER] [--name-en NAME] [--admin USERNAME]")
		fmt.Fprintln(env.Stderr, "       hotline school set-district --code CODE --district NAME")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return ErrUsage
	}
	var dir string
	var in staff.NewSchool
	var contact, officer string
	var createDistrict bool
	fs := newFlagSet("school add", env, "Creates a school with its own key pair in an existing district (hotline district add first, or\n--create-district --officer USER). Prints the school's recovery key ONCE and a first school-admin\nlog-in (username and one-time password).")
	fs.dataFlag(&dir)
	fs.StringVar(&in.Name, "name", "", "the school's name, e.g. 第三中学")
	fs.StringVar(&in.NameEN, "name-en", "", "the school's name in English (optional)")
	fs.StringVar(&in.Code, "code", "", "short code used in links, e.g. no3 (letters, digits, -)")
	fs.StringVar(&in.District, "district", "", "the district education bureau its severe cases are escalated to, e.g. 海淀区 (added with hotline district add)")
	fs.BoolVar(&createDistrict, "create-district", false, "create the district too, if it does not exist (needs --officer; prints its recovery key)")
	fs.StringVar(&officer, "officer", "", "with --create-district: the district's first officer's username")
	fs.StringVar(&in.AdminUsername, "admin", "", "first admin's username (default: admin- and six random characters, printed; never derived from the public school code)")
	fs.StringVar(&contact, "emergency-contact", "", "the school's emergency contact shown to a reporter in danger")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if in.Name == "" || in.Code == "" || in.District == "" {
		fmt.Fprintln(env.Stderr, "hotline school add: --name, --code and --district are required (a school without a district bureau can never escalate a case)")
		return ErrUsage
	}
	if createDistrict && officer == "" {
		fmt.Fprintln(env.Stderr, "hotline school add: --create-district needs --officer USER, the district's first officer")
		return ErrUsage
	}
	if contact != "" {
		in.Settings = &hotline.SchoolSettings{EmergencyContact: contact}
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := m.DB.DistrictByName(ctx, in.District)
	if err != nil {
		return err
	}
	if d == nil {
		if !createDistrict {
			return unknownDistrict(ctx, m, in.District)
		}
		created, err := m.Staff.CreateDistrict(ctx, in.District, officer)
		if err != nil {
			return errMessage(err)
		}
		printCreatedDistrict(env.Stdout, created)
		fmt.Fprintln(env.Stdout)
	}
	created, err := m.Staff.CreateSchool(ctx, in)
	if err != nil {
		return errMessage(err)
	}
	printCreatedSchool(env.Stdout, created)
	return nil
}

// unknownDistrict refuses a district that has not been added, naming the
// ones that have and the two ways on.
func unknownDistrict(ctx context.Context, m *Main, name string) error {
	names, err := m.DB.DistrictNames(ctx)
	if err != nil {
		return err
	}
	known := "none yet"
	if len(names) > 0 {
		known = strings.Join(names, ", ")
	}
	return fmt.Errorf("没有这个区教育局 / no such district: %s (added: %s).\n"+
		"先添加它 / add it first:  hotline district add --name %s --officer USER\n"+
		"或一起创建 / or create it with the school:  --create-district --officer USER", name, known, name)
}

// runSchoolSetDistrict puts an existing school in a district, e.g. one
// created without a district before school add required it.
func runSchoolSetDistrict(ctx context.Context, args []string, env *Env) error {
	var dir, code, name string
	fs := newFlagSet("school set-district", env, "Puts a school in a district that exists (hotline district add), so that its severe cases can be\nescalated. Cases escalated before keep the district they were sealed to.")
	fs.dataFlag(&dir)
	fs.StringVar(&code, "code", "", "the school's code")
	fs.StringVar(&name, "district", "", "the district's name")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if code == "" || name == "" {
		fmt.Fprintln(env.Stderr, "hotline school set-district: --code and --district are required")
		return ErrUsage
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	if d, err := m.DB.DistrictByName(ctx, name); err != nil {
		return err
	} else if d == nil {
		return unknownDistrict(ctx, m, name)
	}
	school, err := m.DB.SchoolByCode(ctx, code)
	if err != nil {
		return errMessage(err)
	}
	school.District = name
	if err := m.DB.Update(ctx, func(tx *store.Tx) error { return tx.UpdateSchool(school) }); err != nil {
		return errMessage(err)
	}
	fmt.Fprintf(env.Stdout, "已更新 / updated: %s (%s) → %s\n", school.Name, school.Code, name)
	return nil
}

func printCreatedSchool(w io.Writer, c *staff.CreatedSchool) {
	fmt.Fprintf(w, "学校已创建 / school created: %s (%s)\n\n", c.School.Name, c.School.Code)
	fmt.Fprintln(w, "恢复密钥（只显示这一次，请打印后锁好；所有密码丢失时，只有它能打开本校的报告）")
	fmt.Fprintln(w, "Recovery key (shown ONCE; print it and lock it away — when every password is lost, only it opens this school's reports):")
	fmt.Fprintf(w, "\n    %s\n\n", c.RecoveryKey)
	fmt.Fprintln(w, "第一位学校管理员 / first school admin:")
	fmt.Fprintf(w, "    用户名 / username:           %s\n", c.Admin.Username)
	fmt.Fprintf(w, "    一次性密码 / one-time password: %s   (首次登录时须修改 / must be changed at first log-in)\n", c.AdminPassword)
}

func runDistrict(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(env.Stderr, "usage: hotline district add --name NAME --officer USERNAME")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return ErrUsage
	}
	var dir, name, officer string
	fs := newFlagSet("district add", env, "Creates a district education bureau (区教育局) with its own key pair, so that escalated cases\ncan be read by its officers and nothing else. Prints its recovery key ONCE and a first officer log-in.")
	fs.dataFlag(&dir)
	fs.StringVar(&name, "name", "", "district name, as given to its schools with --district")
	fs.StringVar(&officer, "officer", "", "first district officer's username")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if name == "" || officer == "" {
		fmt.Fprintln(env.Stderr, "hotline district add: --name and --officer are required")
		return ErrUsage
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := m.Staff.CreateDistrict(ctx, name, officer)
	if err != nil {
		return errMessage(err)
	}
	printCreatedDistrict(env.Stdout, d)
	return nil
}

// printCreatedDistrict shows the district's secrets once, each with what it
// is for and where it must be kept: nobody reads a README at this moment.
func printCreatedDistrict(w io.Writer, d *staff.CreatedDistrict) {
	fmt.Fprintf(w, "区教育局已创建 / district created: %s\n\n", d.District.Name)
	fmt.Fprintln(w, "1. 恢复密钥（只显示这一次）/ Recovery key (shown ONCE):")
	fmt.Fprintf(w, "\n    %s\n\n", d.RecoveryKey)
	fmt.Fprintln(w, "   用途：它是区教育局私钥的唯一备份。学校上报（升级）给区里的案件只能用这把私钥打开；")
	fmt.Fprintln(w, "   服务器不保存恢复密钥，所有区教育局账号的密码都丢失时，没有它就再也打不开这些案件。")
	fmt.Fprintln(w, "   保管：打印或抄写在纸上，封存在区教育局的保险柜里；不要存在这台服务器、电子邮件或聊天软件里。")
	fmt.Fprintln(w, "   What it is for: the only backup of the district's private key, which alone opens the cases schools escalate")
	fmt.Fprintln(w, "   to the district. The server does not keep it: when every officer's password is lost, nothing else opens them.")
	fmt.Fprintln(w, "   Where to keep it: on paper, sealed in the bureau's safe; never on this server, in e-mail or in a chat.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "2. 第一位区教育局账号 / first district officer:")
	fmt.Fprintf(w, "    用户名 / username:           %s\n", d.Officer.Username)
	fmt.Fprintf(w, "    一次性密码 / one-time password: %s   (首次登录时须修改 / must be changed at first log-in)\n", d.OfficerPassword)
	fmt.Fprintln(w, "   用途：登录 /inbox/login 后进入 /district/（统计、逾期和上报的案件、工作总结、提醒和时限设置）。")
	fmt.Fprintln(w, "   保管：当面交给这位工作人员本人，不要转发；登录改密码后，这个一次性密码即失效。")
	fmt.Fprintln(w, "   What it is for: log in at /inbox/login to reach /district/ (statistics, overdue and escalated cases, the summary")
	fmt.Fprintln(w, "   report, alert and deadline settings at /district/settings).")
	fmt.Fprintln(w, "   Where to keep it: hand it to the officer in person, never forward it; it stops working once they set a password.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "下一步 / next: hotline school add --name NAME --code CODE --district %s\n", d.District.Name)
}

func runCounselor(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(env.Stderr, "usage: hotline counselor add --school CODE --username NAME [--role counselor|admin]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return ErrUsage
	}
	var dir, code, username, name, role string
	fs := newFlagSet("counselor add", env, "Adds a counselor to a school and prints a one-time password. The school's key must be opened\nto wrap it for the new counselor: give the school's recovery key on standard input or in\nHOTLINE_RECOVERY_KEY (never as a flag: flags are visible to other users of the machine).\nA school admin can also add counselors in the inbox.")
	fs.dataFlag(&dir)
	fs.StringVar(&code, "school", "", "school code")
	fs.StringVar(&username, "username", "", "log-in name (letters, digits, . _ -)")
	fs.StringVar(&name, "name", "", "display name, e.g. 王老师 (default: username)")
	fs.StringVar(&role, "role", "counselor", "counselor or admin")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if code == "" || username == "" {
		fmt.Fprintln(env.Stderr, "hotline counselor add: --school and --username are required")
		return ErrUsage
	}
	recovery := env.Getenv("HOTLINE_RECOVERY_KEY")
	if recovery == "" {
		fmt.Fprint(env.Stderr, "学校恢复密钥 / school recovery key: ")
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read recovery key: %w", err)
		}
		recovery = strings.TrimSpace(line)
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	school, err := m.DB.SchoolByCode(ctx, code)
	if err != nil {
		return errMessage(err)
	}
	wrapped, err := m.DB.SchoolRecoveryWrapped(ctx, school.ID)
	if err != nil {
		return err
	}
	key, err := vault.UnwrapWithRecoveryKey(wrapped, recovery)
	if err != nil {
		return fmt.Errorf("恢复密钥不正确 / the recovery key is wrong")
	}
	sess := &staff.Session{Counselor: &hotline.Counselor{SchoolID: school.ID, Role: hotline.RoleAdmin}, Key: key}
	defer sess.Wipe()
	c, otp, err := m.Staff.AddCounselor(ctx, sess, username, name, hotline.Role(role))
	if err != nil {
		return errMessage(err)
	}
	fmt.Fprintf(env.Stdout, "已添加 / added: %s (%s) at %s\n    一次性密码 / one-time password: %s   (首次登录时须修改 / must be changed at first log-in)\n", c.Username, c.Role, school.Name, otp)
	return nil
}

// errMessage turns an application error into its safe bilingual message.
func errMessage(err error) error {
	if hotline.ErrorCode(err) == hotline.EINTERNAL {
		return err
	}
	return fmt.Errorf("%s / %s", hotline.ErrorMessage(err, hotline.LangZH), hotline.ErrorMessage(err, hotline.LangEN))
}
