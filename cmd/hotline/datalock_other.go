//go:build !unix

package main

import "os"

// flock does nothing where flock(2) does not exist: Hotline is deployed on
// Linux; elsewhere it runs for development only.
func flock(*os.File) error { return nil }
