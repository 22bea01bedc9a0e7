//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr runs a child as cred's user when cred is not nil. Outside
// Linux there is no parent-death signal: the server is stopped at the
// test's cleanup only.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}
