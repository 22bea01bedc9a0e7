package fixturecheck_test

import (
	"fmt"
	"log"

	"github.com/google/go-github/v75/github"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// A handler that checks and decodes GitHub's deliveries with go-github gets
// from a webhooktest fixture what it gets in production: the "github/push"
// fixture carries every field GitHub sends with a push, so none of these
// getters meets a nil (TestGitHubFixturesDecodeIntoGoGitHub checks that for
// every value of every GitHub fixture). In a test, the request comes from
// webhooktest.FixtureRequest(t, p, "github/push").
func Example_goGitHubPushEvent() {
	const secret = "It's a Secret to Everybody"
	p, err := providers.NewGitHub(secret)
	if err != nil {
		log.Fatal(err)
	}
	f, err := webhooktest.LookupFixture("github/push")
	if err != nil {
		log.Fatal(err)
	}
	req, err := webhooktest.Sign(p, f.Body, webhooktest.WithType(f.Type), webhooktest.WithContentType(f.ContentType))
	if err != nil {
		log.Fatal(err)
	}

	// What the handler does: go-github checks the signature, then decodes.
	payload, err := github.ValidatePayload(req, []byte(secret))
	if err != nil {
		log.Fatal(err)
	}
	event, err := github.ParseWebHook(github.WebHookType(req), payload)
	if err != nil {
		log.Fatal(err)
	}
	push := event.(*github.PushEvent)
	repo, head := push.GetRepo(), push.GetHeadCommit()
	fmt.Println(push.GetRef(), repo.GetFullName(), repo.GetOwner().GetType(), repo.GetCreatedAt().UTC().Format("2006-01-02"))
	fmt.Println(push.GetPusher().GetName(), push.GetSender().GetLogin(), push.GetOrganization().GetLogin(), push.GetBefore()[:7]+".."+push.GetAfter()[:7])
	fmt.Println(head.GetID()[:12], head.GetAuthor().GetLogin(), head.GetCommitter().GetLogin(), head.Modified)
	// Output:
	// refs/heads/main octo-org/hello-world Organization 2024-05-03
	// octocat octocat octo-org 9b2f1c7..c4e8a1f
	// c4e8a1f03b9d octocat web-flow [queue.go queue_backoff.go]
}
