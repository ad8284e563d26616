//go:build !unix

package fsafe

import "os"

// Without flock the lock file is only informative: every Lock succeeds.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }
