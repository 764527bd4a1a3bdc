package webhooks

import (
	"context"
	"net"
	"testing"

	"github.com/gradpath/gradpath/internal/gradpath"
)

// The signature of the Standard Webhooks specification's own example.
func TestSignMatchesTheSpecification(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("Sign = %q, %v", got, err)
	}
}

// Endpoints inside the network are refused, by address or by what a name resolves to, unless
// webhook_allow_private says otherwise.
func TestPrivateAddressesRefused(t *testing.T) {
	resolve := func(_ context.Context, host string) ([]net.IPAddr, error) {
		switch host {
		case "crm.example.com":
			return []net.IPAddr{{IP: net.ParseIP("93.184.216.34")}}, nil
		case "sneaky.example.com":
			return []net.IPAddr{{IP: net.ParseIP("93.184.216.34")}, {IP: net.ParseIP("10.0.0.7")}}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host}
	}
	strict := Addresses{Resolve: resolve}
	for _, u := range []string{"http://127.0.0.1:8080/x", "http://[::1]/x", "https://10.1.2.3/", "http://169.254.169.254/latest/meta-data",
		"https://sneaky.example.com/hook", "https://nowhere.example.com/", "ftp://crm.example.com/", "https://user:pw@crm.example.com/"} {
		if _, err := strict.check(context.Background(), u); gradpath.ErrorCode(err) != gradpath.CodeInvalid {
			t.Errorf("%s accepted: %v", u, err)
		}
	}
	if _, err := strict.check(context.Background(), "https://crm.example.com/hooks/gradpath"); err != nil {
		t.Errorf("a public endpoint refused: %v", err)
	}
	open := Addresses{AllowPrivate: true, Resolve: resolve}
	if _, err := open.check(context.Background(), "http://127.0.0.1:8080/x"); err != nil {
		t.Errorf("loopback with webhook_allow_private: %v", err)
	}
	if strict.Allowed(net.ParseIP("192.168.1.1")) || !strict.Allowed(net.ParseIP("8.8.8.8")) {
		t.Error("Allowed")
	}
}
