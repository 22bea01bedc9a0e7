module github.com/hookguard/hookguard/benchmarks

go 1.25.0

require (
	github.com/go-playground/webhooks/v6 v6.4.0
	github.com/google/go-github/v75 v75.0.0
	github.com/hookguard/hookguard v0.1.0
	github.com/standard-webhooks/standard-webhooks/libraries v0.0.1
	github.com/stripe/stripe-go/v82 v82.5.1
	github.com/svix/svix-webhooks v1.44.0
)

require (
	github.com/google/go-querystring v1.1.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	gopkg.in/validator.v2 v2.0.1 // indirect
)

replace github.com/hookguard/hookguard => ../
