module github.com/hookguard/hookguard/examples/chi

go 1.25.0

replace github.com/hookguard/hookguard => ../..

require (
	github.com/go-chi/chi/v5 v5.2.3
	github.com/hookguard/hookguard v0.1.0
)

require golang.org/x/time v0.15.0 // indirect
