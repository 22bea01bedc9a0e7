package pgtest

import "syscall"

// sysProcAttr runs a child as cred's user (when cred is not nil) and has
// the kernel kill it when this process dies, so that a test binary killed
// by a timeout leaves no server behind.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
}
