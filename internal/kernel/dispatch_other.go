//go:build !amd64

package kernel

func archImplementations() []*implementation { return nil }
