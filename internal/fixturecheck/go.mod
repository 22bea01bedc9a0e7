module github.com/hookguard/hookguard/internal/fixturecheck

go 1.26

require (
	github.com/google/go-github/v75 v75.0.0
	github.com/hookguard/hookguard v0.1.0
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	github.com/slack-go/slack v0.36.0
	github.com/stripe/stripe-go/v82 v82.5.1
)

require (
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	golang.org/x/text v0.14.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/hookguard/hookguard => ../..
