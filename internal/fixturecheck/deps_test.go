package fixturecheck_test

// The SDKs and the schema validator the fixture checks use; the checks
// themselves replace this file.
import (
	_ "github.com/google/go-github/v75/github"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/slack-go/slack"
	_ "github.com/stripe/stripe-go/v82"

	_ "github.com/hookguard/hookguard/webhooktest"
)
