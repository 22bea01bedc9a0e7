module github.com/hookguard/hookguard/examples/gorilla

go 1.25.0

replace github.com/hookguard/hookguard => ../..

require (
	github.com/gorilla/mux v1.8.1
	github.com/hookguard/hookguard v0.1.0
)

require golang.org/x/time v0.15.0 // indirect
