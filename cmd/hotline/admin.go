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
	"hotline/internal/vault"
)

// openData opens a data directory for an administrative command.
func openData(dir string, env *Env) (*Main, error) {
	m := NewMain()
	m.Config.DataDir = dir
	m.Logger = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := m.Open(); err != nil {
		return nil, err
	}
	return m, nil
}

func runInit(ctx context.Context, args []string, env *Env) error {
	var dir string
	fs := newFlagSet("init", env, "Creates the data directory (mode 0700) with a random server key (mode 0600) and the database.\nSafe to run again: it keeps what exists.")
	fs.dataFlag(&dir)
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	m, err := openData(dir, env)
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintf(env.Stdout, "数据目录已就绪 / data directory ready: %s\n", dir)
	fmt.Fprintln(env.Stdout, "下一步 / next: hotline school add --name NAME --code CODE")
	return nil
}

func runSchool(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(env.Stderr, "usage: hotline school add --name NAME --code CODE [--district NAME] [--name-en NAME] [--admin USERNAME]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return ErrUsage
	}
	var dir string
	var in staff.NewSchool
	var contact string
	fs := newFlagSet("school add", env, "Creates a school with its own key pair. Prints the school's recovery key ONCE and a first\nschool-admin log-in (username and one-time password).")
	fs.dataFlag(&dir)
	fs.StringVar(&in.Name, "name", "", "the school's name, e.g. 第三中学")
	fs.StringVar(&in.NameEN, "name-en", "", "the school's name in English (optional)")
	fs.StringVar(&in.Code, "code", "", "short code used in links, e.g. no3 (letters, digits, -)")
	fs.StringVar(&in.District, "district", "", "district education bureau, e.g. 海淀区")
	fs.StringVar(&in.AdminUsername, "admin", "", "first admin's username (default: admin- and six random characters, printed; never derived from the public school code)")
	fs.StringVar(&contact, "emergency-contact", "", "the school's emergency contact shown to a reporter in danger")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if in.Name == "" || in.Code == "" {
		fmt.Fprintln(env.Stderr, "hotline school add: --name and --code are required")
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
	created, err := m.Staff.CreateSchool(ctx, in)
	if err != nil {
		return errMessage(err)
	}
	printCreatedSchool(env.Stdout, created)
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
	fmt.Fprintf(env.Stdout, "区教育局已创建 / district created: %s\n\n", d.District.Name)
	fmt.Fprintln(env.Stdout, "恢复密钥（只显示这一次）/ Recovery key (shown ONCE):")
	fmt.Fprintf(env.Stdout, "\n    %s\n\n", d.RecoveryKey)
	fmt.Fprintf(env.Stdout, "区教育局账号 / district officer:\n    用户名 / username:           %s\n    一次性密码 / one-time password: %s\n", d.Officer.Username, d.OfficerPassword)
	return nil
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
