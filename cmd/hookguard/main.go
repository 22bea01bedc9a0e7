package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env is what a command reads and writes instead of the process globals,
// so tests drive commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// ready, when not nil, is called by serve with the address it listens
	// on (useful with port 0) once it accepts connections.
	ready func(addr string)
	// uiReady, when not nil, is called by serve with the address of the
	// inspector and /metrics (--ui-addr) just before ready.
	uiReady func(addr string)
	// lookupEnv reads an environment variable (--secret-env); nil means
	// os.LookupEnv.
	lookupEnv func(name string) (string, bool)
}

// getenv reads the environment variable name, as os.LookupEnv does.
func (e *env) getenv(name string) (string, bool) {
	if e.lookupEnv != nil {
		return e.lookupEnv(name)
	}
	return os.LookupEnv(name)
}

// readInput reads path ("-" is e.stdin) under limit, as [readInput] does.
// When it is about to wait for a person typing at a terminal, it says so
// on e.stderr.
func (e *env) readInput(path string, limit int64) ([]byte, error) {
	if f, ok := e.stdin.(*os.File); ok && path == "-" {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintln(e.stderr, "hookguard: reading the body from the terminal; end it with Ctrl-D, or pass --body FILE")
		}
	}
	return readInput(path, e.stdin, limit)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

// commands lists the subcommands in the order help prints them.
var commands = []command{
	{"sign", "print the headers a provider would send for a body", runSign},
	{"verify", "check a captured request: signature, timestamp window, event ID", runVerify},
	{"serve", "receive webhooks on POST /webhooks/{provider} and print each event", runServe},
	{"demo", "send valid, duplicate, tampered and stale events for every provider to an in-process receiver", runDemo},
	{"send", "sign fixtures (or a file) and POST them to a running receiver; print a status histogram", runSend},
	{"migrate", "create or update the PostgreSQL schema that serve --postgres needs", runMigrate},
	{"dead", "list, show, replay or drop the dead letters of a --redis or --postgres queue", runDead},
}

// run is main without the process globals: it runs the command named by
// args[0] and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runContext(context.Background(), &env{stdin: stdin, stdout: stdout, stderr: stderr}, args)
}

func runContext(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printCommands(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			// "hookguard help sign" is "hookguard sign -h".
			for _, c := range commands {
				if c.name == args[1] {
					return c.run(ctx, e, []string{"-h"})
				}
			}
			fmt.Fprintf(e.stderr, "hookguard: unknown command %q\n\n", args[1])
			printCommands(e.stderr)
			return exitUsage
		}
		printCommands(e.stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "hookguard: unknown command %q\n\n", args[0])
	printCommands(e.stderr)
	return exitUsage
}

func printCommands(w io.Writer) {
	fmt.Fprint(w, "hookguard signs, checks and receives webhooks.\n\nUsage:\n\n\thookguard <command> [flags]\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\t%-8s %s\n", "help", "print this list, or a command's flags with \"help <command>\"")
	fmt.Fprint(w, "\nRun \"hookguard <command> -h\" for the flags of a command.\n")
}
