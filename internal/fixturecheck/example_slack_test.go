package fixturecheck_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/slack-go/slack"

	"github.com/hookguard/hookguard/providers"
	"github.com/hookguard/hookguard/webhooktest"
)

// A handler test for a Slack button: the interaction payload fixture,
// signed by webhooktest, passes slack-go's own signature check, and
// slack.InteractionCallbackParse gives the handler the clicked action, the
// user, the channel and the message as Slack sends them.
func Example_slack() {
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	p, err := providers.NewSlack(secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := webhooktest.LookupFixture("slack/interaction.block_actions")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := webhooktest.Sign(p, f.Body, webhooktest.WithContentType(f.ContentType))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(r.Body)

	sv, err := slack.NewSecretsVerifier(r.Header, secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = sv.Write(body)
	if err := sv.Ensure(); err != nil {
		fmt.Println("slack-go refused the signature:", err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ic, err := slack.InteractionCallbackParse(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	a := ic.ActionCallback.BlockActions[0]
	fmt.Println(ic.Type, a.ActionID, a.Value, "by", ic.User.ID, "in", ic.Channel.ID)
	fmt.Println("message", ic.Container.MessageTs, "has", len(ic.Message.Blocks.BlockSet), "blocks")
	// Output:
	// block_actions approve deploy-4821 by U061F7AUR in C2147483705
	// message 1716553381.004100 has 2 blocks
}
