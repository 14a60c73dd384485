package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	amqp "github.com/rabbitmq/amqp091-go"
)

// The machine's RabbitMQ (.ci/run starts it): every test here talks to it
// or to a stand-in on 127.0.0.1.
const (
	rabbitAddr      = "127.0.0.1:5672"
	rabbitTransport = "rabbit://guest:guest@" + rabbitAddr + "/"
)

func testTuning() tuning {
	return tuning{
		backoffMin:     20 * time.Millisecond,
		backoffMax:     200 * time.Millisecond,
		dialTimeout:    2 * time.Second,
		confirmTimeout: 2 * time.Second,
		logEvery:       time.Second,
	}
}

func uniqueName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "mogan-test-" + hex.EncodeToString(b)
}

// syncBuffer is a log sink the publisher goroutine and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startNotifier starts a messagingv2 notifier with short timings and
// closes it at the end of the test.
func startNotifier(t *testing.T, cfg Config) (*amqpNotifier, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Driver = DriverMessagingV2
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})
	cfg, err := withDefaults(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newAMQP(t.Context(), cfg, testTuning())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	})
	return a, logs
}

// rabbit opens a test connection to the real broker.
func rabbit(t *testing.T) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial("amqp://guest:guest@" + rabbitAddr + "/")
	if err != nil {
		t.Fatalf("RabbitMQ on %s (guest/guest) is needed; .ci/run starts it (systemctl start rabbitmq-server): %v", rabbitAddr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// consume declares exchange as oslo does (or durable, to stand for a
// deployment that declared it otherwise), binds a private queue with
// bindingKey and returns its deliveries. The exchange and the queues the
// notifier declares for topics are deleted at the end.
func consume(t *testing.T, exchange string, durable bool, bindingKey string, topicQueues ...string) <-chan amqp.Delivery {
	t.Helper()
	ch := rabbit(t)
	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeTopic, durable, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, bindingKey, exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cleanup := rabbit(t)
		for _, name := range topicQueues {
			if _, err := cleanup.QueueDelete(name, false, false, false); err != nil {
				t.Errorf("deleting queue %s: %v", name, err)
			}
		}
		if err := cleanup.ExchangeDelete(exchange, false, false); err != nil {
			t.Errorf("deleting exchange %s: %v", exchange, err)
		}
	})
	return deliveries
}

// receive waits for n deliveries, dropping copies of one message (same
// _unique_id), which oslo listeners drop too.
func receive(t *testing.T, deliveries <-chan amqp.Delivery, n int, within time.Duration) []amqp.Delivery {
	t.Helper()
	timeout := time.After(within)
	seen := map[string]bool{}
	var got []amqp.Delivery
	for len(got) < n {
		select {
		case d := <-deliveries:
			id := decodeMessage(t, d.Body)["_unique_id"].(string)
			if !seen[id] {
				seen[id] = true
				got = append(got, d)
			}
		case <-timeout:
			t.Fatalf("received %d of %d notifications within %s", len(got), n, within)
		}
	}
	return got
}

func decodeMessage(t *testing.T, body []byte) map[string]any {
	t.Helper()
	_, inner := innerMessage(t, body)
	var m map[string]any
	if err := json.Unmarshal([]byte(inner), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func eventTypes(t *testing.T, ds []amqp.Delivery) []string {
	t.Helper()
	var out []string
	for _, d := range ds {
		out = append(out, decodeMessage(t, d.Body)["event_type"].(string))
	}
	return out
}

// TestRabbitDeliversAsOslo publishes an .info and an .error notification
// to the real broker and checks, on a consumer bound as any oslo listener
// would be, every AMQP property and every field against the capture.
func TestRabbitDeliversAsOslo(t *testing.T) {
	exchange := uniqueName(t)
	deliveries := consume(t, exchange, false, "versioned_notifications.*",
		"versioned_notifications.info", "versioned_notifications.error")
	a, logs := startNotifier(t, Config{TransportURL: rabbitTransport, ControlExchange: exchange, PublisherID: "mogan-api:test-host"})

	rc := RequestContext{RequestID: "req-4b5c", UserID: "u1", ProjectID: "p1", Roles: []string{"admin"}, IsAdmin: true}
	type server struct {
		UUID      string `json:"uuid"`
		Name      string `json:"name"`
		ProjectID string `json:"project_id"`
		Fault     *Fault `json:"fault"`
	}
	sent := []Notification{
		{EventType: "server.manage.start", Priority: Info, Context: rc,
			Payload: NewServerActionPayload(server{UUID: "s-1", Name: "adopted-1", ProjectID: "p1"})},
		{EventType: "server.manage.error", Priority: Error, Context: rc,
			Payload: NewServerActionPayload(server{UUID: "s-1", Name: "adopted-1", ProjectID: "p1",
				Fault: &Fault{Exception: "NodeNotManageable", ExceptionMessage: "node n-1 is in maintenance"}})},
	}
	before := time.Now().UTC().Add(-time.Second)
	for _, n := range sent {
		a.Notify(t.Context(), n)
	}
	got := receive(t, deliveries, 2, 10*time.Second)
	captured := loadCapture(t)

	uniqueIDs := map[string]bool{}
	for i, d := range got {
		c := captured[i] // the capture's first is .info, its second .error
		if d.Exchange != exchange || d.RoutingKey != c.RoutingKey {
			t.Errorf("%d: exchange %q routing key %q, want %q %q", i, d.Exchange, d.RoutingKey, exchange, c.RoutingKey)
		}
		props := map[string]any{"content_type": d.ContentType, "content_encoding": d.ContentEncoding,
			"delivery_mode": d.DeliveryMode, "priority": d.Priority, "headers": len(d.Headers)}
		want := map[string]any{"content_type": c.Properties.ContentType, "content_encoding": c.Properties.ContentEncoding,
			"delivery_mode": c.Properties.DeliveryMode, "priority": c.Properties.Priority, "headers": len(c.Properties.Headers)}
		if diff := cmp.Diff(want, props); diff != "" {
			t.Errorf("%d: AMQP properties (-capture +ours):\n%s", i, diff)
		}
		if d.MessageId != "" || d.CorrelationId != "" || d.ReplyTo != "" || d.Expiration != "" || !d.Timestamp.IsZero() || d.Type != "" {
			t.Errorf("%d: properties oslo does not set: %+v", i, d)
		}

		m := decodeMessage(t, d.Body)
		if !uuid4Re.MatchString(m["message_id"].(string)) || !uniqueIDRe.MatchString(m["_unique_id"].(string)) {
			t.Errorf("%d: message_id %v _unique_id %v", i, m["message_id"], m["_unique_id"])
		}
		uniqueIDs[m["_unique_id"].(string)] = true
		ts, err := time.Parse("2006-01-02 15:04:05.999999", m["timestamp"].(string))
		if err != nil || !timestampRe.MatchString(m["timestamp"].(string)) || ts.Before(before) || ts.After(time.Now().UTC()) {
			t.Errorf("%d: timestamp %v, want UTC now in oslo's form (%v)", i, m["timestamp"], err)
		}
		wantPayload, err := pyJSON(sent[i].Payload)
		if err != nil {
			t.Fatal(err)
		}
		var wantP any
		_ = json.Unmarshal(wantPayload, &wantP)
		wantFields := map[string]any{
			"publisher_id": "mogan-api:test-host", "event_type": sent[i].EventType, "priority": string(sent[i].Priority),
			"payload": wantP, "_context_request_id": "req-4b5c", "_context_user": "u1", "_context_project_id": "p1",
			"_context_project": "p1", "_context_roles": []any{"admin"}, "_context_is_admin": true,
			"_context_user_identity": "u1 p1 - - -",
		}
		for k, v := range wantFields {
			if diff := cmp.Diff(v, m[k]); diff != "" {
				t.Errorf("%d: %s (-want +got):\n%s", i, k, diff)
			}
		}
		for k := range m {
			if strings.Contains(k, "token") {
				t.Errorf("%d: %s is in the message", i, k)
			}
		}
	}
	if len(uniqueIDs) != 2 {
		t.Errorf("_unique_id repeated: %v", uniqueIDs)
	}
	if diff := cmp.Diff([]string{"server.manage.start", "server.manage.error"}, eventTypes(t, got)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}

	// As oslo's notify_send, the publisher declared a queue per routing key
	// (not durable, not auto-delete, so a redeclaration with oslo's
	// settings succeeds) that kept a copy for listeners yet to come.
	ch := rabbit(t)
	for _, name := range []string{"versioned_notifications.info", "versioned_notifications.error"} {
		q, err := ch.QueueDeclare(name, false, false, false, false, nil)
		if err != nil {
			t.Fatalf("queue %s is not declared as oslo declares it: %v", name, err)
		}
		if q.Messages < 1 {
			t.Errorf("queue %s holds %d messages, want the notification", name, q.Messages)
		}
	}
	// And the exchange is oslo's: redeclaring it topic, not durable, not
	// auto-delete succeeds (another declaration would fail with 406).
	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		t.Errorf("exchange not declared as oslo declares it: %v", err)
	}
	if a.Dropped() != 0 {
		t.Errorf("Dropped() = %d", a.Dropped())
	}
	if strings.Contains(logs.String(), "using an existing") {
		t.Errorf("the publisher's declarations differ from oslo's:\n%s", logs)
	}
}

// TestRabbitDeclaresAsOslo: with no exchange and no listener yet, the
// publisher declares both as oslo does, and a listener that comes later
// (redeclaring them with oslo's settings, which fails with 406 on any
// difference) finds the notification waiting in the topic's queue.
func TestRabbitDeclaresAsOslo(t *testing.T) {
	exchange, topic := uniqueName(t), uniqueName(t)
	ch := rabbit(t)
	t.Cleanup(func() {
		cleanup := rabbit(t)
		_, _ = cleanup.QueueDelete(topic+".info", false, false, false)
		_ = cleanup.ExchangeDelete(exchange, false, false)
	})
	a, _ := startNotifier(t, Config{TransportURL: rabbitTransport, ControlExchange: exchange, Topics: []string{topic}})
	a.Notify(t.Context(), Notification{EventType: "server.unmanage.end", Priority: Info, Payload: NewServerActionPayload(map[string]any{"uuid": "s-2"})})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}

	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		t.Fatalf("exchange not declared as oslo declares it: %v", err)
	}
	q, err := ch.QueueDeclare(topic+".info", false, false, false, false, nil)
	if err != nil {
		t.Fatalf("queue not declared as oslo declares it: %v", err)
	}
	if q.Messages != 1 {
		t.Fatalf("queue %s holds %d messages, want 1", q.Name, q.Messages)
	}
	d, ok, err := ch.Get(q.Name, true)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if got := decodeMessage(t, d.Body)["event_type"]; got != "server.unmanage.end" || d.RoutingKey != topic+".info" {
		t.Errorf("got %v on %q", got, d.RoutingKey)
	}
}

// TestRabbitCloseFlushes: what is queued when Close is called is sent.
func TestRabbitCloseFlushes(t *testing.T) {
	exchange, topic := uniqueName(t), uniqueName(t)
	deliveries := consume(t, exchange, false, topic+".*", topic+".info")
	a, _ := startNotifier(t, Config{TransportURL: rabbitTransport, ControlExchange: exchange, Topics: []string{topic}})
	const n = 50
	for i := range n {
		a.Notify(t.Context(), Notification{EventType: "server.manage.end", Priority: Info, Payload: map[string]int{"i": i}})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got := receive(t, deliveries, n, 5*time.Second)
	for i, d := range got {
		if p := decodeMessage(t, d.Body)["payload"].(map[string]any)["i"]; p != float64(i) {
			t.Fatalf("delivery %d carries i=%v: out of order", i, p)
		}
	}
	a.Notify(t.Context(), Notification{EventType: "late", Priority: Info})
	if a.Dropped() != 1 {
		t.Errorf("Dropped() = %d, want 1 (the notification after Close)", a.Dropped())
	}
}

// TestRabbitExchangeDeclaredOtherwise: an exchange that exists durable
// (other services run with amqp_durable_queues) is used as it is.
func TestRabbitExchangeDeclaredOtherwise(t *testing.T) {
	exchange, topic := uniqueName(t), uniqueName(t)
	deliveries := consume(t, exchange, true, topic+".*", topic+".info")
	a, logs := startNotifier(t, Config{TransportURL: rabbitTransport, ControlExchange: exchange, Topics: []string{topic}})
	a.Notify(t.Context(), Notification{EventType: "server.manage.end", Priority: Info})
	receive(t, deliveries, 1, 10*time.Second)
	if !strings.Contains(logs.String(), "using an existing exchange "+exchange) {
		t.Errorf("no warning about the exchange's settings:\n%s", logs)
	}
}

// TestBrokerDownNeverBlocks: with nothing listening, Notify returns at
// once, the bounded buffer overflows into counted drops, and Close gives
// up at its deadline, counting the rest.
func TestBrokerDownNeverBlocks(t *testing.T) {
	tests := map[string]func(t *testing.T) string{
		"connection refused": func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			_ = ln.Close()
			return addr
		},
		"broker accepts but never answers": func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var held []net.Conn
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					held = append(held, c)
					mu.Unlock()
				}
			}()
			t.Cleanup(func() {
				_ = ln.Close()
				mu.Lock()
				defer mu.Unlock()
				for _, c := range held {
					_ = c.Close()
				}
			})
			return ln.Addr().String()
		},
	}
	for name, broker := range tests {
		t.Run(name, func(t *testing.T) {
			a, logs := startNotifier(t, Config{TransportURL: "rabbit://guest:not-this-pw@" + broker(t) + "/", BufferSize: 4})
			const n = 200
			start := time.Now()
			for range n {
				a.Notify(t.Context(), Notification{EventType: "server.manage.start", Priority: Info, Payload: map[string]string{"uuid": "s"}})
			}
			if took := time.Since(start); took > 500*time.Millisecond {
				t.Errorf("%d Notify calls took %s", n, took)
			}
			// At most the buffer plus the one in the publisher's hands wait.
			if d := a.Dropped(); d < n-5 {
				t.Errorf("Dropped() = %d right after %d notifications into a buffer of 4", d, n)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			start = time.Now()
			err := a.Close(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Close = %v, want the deadline's error", err)
			}
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("Close took %s with a 300ms deadline", took)
			}
			if d := a.Dropped(); d != n {
				t.Errorf("Dropped() = %d after Close, want all %d", d, n)
			}
			if l := logs.String(); strings.Count(l, "notification dropped") > 3 || strings.Contains(l, "not-this-pw") {
				t.Errorf("drop lines not rate-limited, or the password shows:\n%s", l)
			}
		})
	}
}

// TestPasswordNeverLogged: a wrong password on the real broker is retried
// and logged, but the log shows the broker with *** only.
func TestPasswordNeverLogged(t *testing.T) {
	_ = rabbit(t)
	const secret = "s3cret-wrong-pw"
	a, logs := startNotifier(t, Config{TransportURL: "rabbit://guest:" + secret + "@" + rabbitAddr + "/", ControlExchange: uniqueName(t)})
	a.Notify(t.Context(), Notification{EventType: "server.manage.start", Priority: Info})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "cannot connect to the notification broker") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := a.Close(ctx); !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), secret) {
		t.Errorf("Close = %v, want the deadline's error and no password", err)
	}
	l := logs.String()
	if !strings.Contains(l, "rabbit://guest:***@"+rabbitAddr+"/") || !strings.Contains(l, "403") {
		t.Errorf("want the refused login logged with the broker redacted:\n%s", l)
	}
	if strings.Contains(l, secret) {
		t.Errorf("the password is in the log:\n%s", l)
	}
}

// TestReconnect cuts every connection between publisher and broker (a
// proxy in between) and checks that later notifications still arrive,
// in order, on a new connection.
func TestReconnect(t *testing.T) {
	exchange, topic := uniqueName(t), uniqueName(t)
	deliveries := consume(t, exchange, false, topic+".*", topic+".info", topic+".error")
	p := startProxy(t, rabbitAddr)
	a, _ := startNotifier(t, Config{TransportURL: "rabbit://guest:guest@" + p.addr() + "/", ControlExchange: exchange, Topics: []string{topic}})

	a.Notify(t.Context(), Notification{EventType: "first", Priority: Info})
	first := receive(t, deliveries, 1, 30*time.Second)
	firstID := decodeMessage(t, first[0].Body)["_unique_id"]
	p.cut()
	a.Notify(t.Context(), Notification{EventType: "second", Priority: Error})
	a.Notify(t.Context(), Notification{EventType: "third", Priority: Info})
	// A message whose confirm the cut lost is sent again (oslo listeners
	// drop the copy by _unique_id): "first" may come once more.
	var got []amqp.Delivery
	for len(got) < 2 {
		for _, d := range receive(t, deliveries, 1, 30*time.Second) {
			if decodeMessage(t, d.Body)["_unique_id"] != firstID &&
				(len(got) == 0 || decodeMessage(t, got[0].Body)["_unique_id"] != decodeMessage(t, d.Body)["_unique_id"]) {
				got = append(got, d)
			}
		}
	}
	if diff := cmp.Diff([]string{"second", "third"}, eventTypes(t, got)); diff != "" {
		t.Errorf("after the cut (-want +got):\n%s", diff)
	}
	if c := p.accepted(); c < 2 {
		t.Errorf("proxy accepted %d connections, want a reconnection", c)
	}
	if a.Dropped() != 0 {
		t.Errorf("Dropped() = %d", a.Dropped())
	}
}

// proxy forwards TCP to a target; cut closes every open connection.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn
	count int
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.count++
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, down)
		go p.pipe(down, up)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *proxy) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}
