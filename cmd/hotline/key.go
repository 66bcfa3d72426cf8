package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"hotline/internal/store"
	"hotline/internal/vault"
)

// runKey prints server key fingerprints, to compare a kept copy of the key
// with the one a database was sealed under before restoring it.
func runKey(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 || args[0] != "fingerprint" {
		fmt.Fprintln(env.Stderr, "usage: hotline key fingerprint [--file KEYFILE]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return ErrUsage
	}
	var dir, file string
	fs := newFlagSet("key fingerprint", env, "Prints the fingerprint of the server key this command finds (HOTLINE_SERVER_KEY, the systemd\ncredential, DATA/server.key) or of --file, and the fingerprint the database recorded at the key's\nfirst use. The two must match: compare a kept copy before restoring it. Nothing of the key is printed.")
	fs.dataFlag(&dir)
	fs.StringVar(&file, "file", "", "a key file to fingerprint (32 raw bytes or their base64), e.g. the copy kept offline")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	var keyFP, source string
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		buf, err := io.ReadAll(io.LimitReader(f, 1024))
		f.Close()
		if err != nil {
			return err
		}
		keyFP, err = vault.KeyFingerprint(buf)
		clear(buf)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		source = file
	} else {
		v, src, err := vault.Load(dir, vault.Options{})
		var missing *vault.MissingKeyError
		switch {
		case errors.As(err, &missing):
			fmt.Fprintln(env.Stdout, "密钥 / key: none found")
			for _, l := range missing.Looked {
				fmt.Fprintf(env.Stdout, "  - %s\n", l)
			}
		case err != nil:
			return err
		default:
			keyFP, source = v.Fingerprint(), src
		}
	}
	if keyFP != "" {
		fmt.Fprintf(env.Stdout, "密钥 / key:              %s  (%s)\n", keyFP, source)
	}
	recFP := recordedFingerprint(ctx, dir, env)
	switch {
	case recFP == "":
		return nil
	case keyFP == "":
		return &ExitError{Code: 1}
	case keyFP == recFP:
		fmt.Fprintln(env.Stdout, "一致 / they match")
		return nil
	default:
		fmt.Fprintln(env.Stdout, "不一致：这把密钥打不开这个数据库 / they DIFFER: this key does not open this database")
		return &ExitError{Code: 1}
	}
}

// recordedFingerprint prints and returns the fingerprint the database
// recorded, or "" when there is no database or no record. It opens the
// database without the key check, and never creates a SQLite file.
func recordedFingerprint(ctx context.Context, dir string, env *Env) string {
	c := Config{DataDir: dir, Database: env.Database}
	dsn := c.DatabaseDSN()
	if sqliteIsNew(dsn) {
		fmt.Fprintf(env.Stdout, "数据库 / database:       none at %s\n", dsn)
		return ""
	}
	db, err := store.Open(dsn)
	if err != nil {
		fmt.Fprintf(env.Stdout, "数据库 / database:       cannot open (%v)\n", err)
		return ""
	}
	defer db.Close()
	rec, err := db.ServerKeyRecord(ctx)
	if err != nil || rec == nil {
		fmt.Fprintln(env.Stdout, "数据库 / database:       no fingerprint recorded yet")
		return ""
	}
	fmt.Fprintf(env.Stdout, "数据库 / database:       %s  (recorded %s)\n", rec.Fingerprint, rec.RecordedAt.Format("2006-01-02"))
	return rec.Fingerprint
}
