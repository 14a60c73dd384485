package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// errNacked is the broker refusing a message (basic.nack): sending it
// again would not help, so it is dropped.
var errNacked = errors.New("the broker refused the notification (nack)")

// session is one AMQP connection and its confirm-mode channel.
type session struct {
	a        *amqpNotifier
	broker   broker
	conn     *amqp.Connection
	ch       *amqp.Channel
	declared map[string]bool // default queues declared on this connection, as oslo caches them
}

// connect tries each broker in transport_url order and returns a session
// on the first that answers, with the exchange declared.
func (a *amqpNotifier) connect() (*session, error) {
	var errs []error
	for _, b := range a.brokers {
		s, err := a.dial(b)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", b, err))
		if a.runCtx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (a *amqpNotifier) dial(b broker) (*session, error) {
	cfg := amqp.Config{
		SASL:       []amqp.Authentication{&amqp.PlainAuth{Username: b.user, Password: b.password}},
		Vhost:      b.vhost,
		Properties: amqp.Table{"connection_name": a.cfg.PublisherID},
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: a.tune.dialTimeout}
			c, err := d.DialContext(a.runCtx, network, addr)
			if err != nil {
				return nil, err
			}
			// Bounds the AMQP handshake; amqp091 clears it once open.
			_ = c.SetDeadline(time.Now().Add(a.tune.dialTimeout))
			a.sockMu.Lock()
			a.sock = c
			a.sockMu.Unlock()
			return c, nil
		},
	}
	// The URL carries only the address: credentials go in cfg, so no
	// error amqp091 builds from the URL can hold the password.
	conn, err := amqp.DialConfig("amqp://"+b.host+"/", cfg)
	if err != nil {
		return nil, err
	}
	s := &session{a: a, broker: b, conn: conn, declared: map[string]bool{}}
	if err := s.openChannel(); err != nil {
		s.close()
		return nil, err
	}
	// oslo's notification exchange: topic, not durable, not auto-delete.
	err = s.declare("exchange "+a.cfg.ControlExchange, func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(a.cfg.ControlExchange, amqp.ExchangeTopic, false, false, false, false, nil)
	})
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *session) openChannel() error {
	ch, err := s.conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		return fmt.Errorf("enabling publisher confirms: %w", err)
	}
	s.ch = ch
	return nil
}

// declare runs a declaration. If the broker already has the entity with
// other settings (PRECONDITION_FAILED, e.g. durable because other services
// run with amqp_durable_queues), it is used as it is: the declaration's
// point, that the entity exists, holds, and redeclaring it differently is
// impossible without breaking its other users.
func (s *session) declare(what string, fn func(*amqp.Channel) error) error {
	err := fn(s.ch)
	var aerr *amqp.Error
	if !errors.As(err, &aerr) || aerr.Code != amqp.PreconditionFailed {
		return err
	}
	s.a.log.Warn("using an existing "+what+" declared with other settings than oslo's notifier uses (topic, not durable, not auto-delete)", "broker_said", aerr.Reason)
	return s.openChannel() // the broker closed the channel
}

// publish sends one message, as oslo's notify_send does: first the
// default queue named after the routing key (so no notification is lost
// before a consumer exists; oslo listeners without a pool consume it),
// then the message, waiting for the broker's confirm.
func (s *session) publish(ctx context.Context, m outgoing, confirmTimeout time.Duration) error {
	exchange := s.a.cfg.ControlExchange
	if !s.declared[m.routingKey] {
		err := s.declare("queue "+m.routingKey, func(ch *amqp.Channel) error {
			if _, err := ch.QueueDeclare(m.routingKey, false, false, false, false, nil); err != nil {
				return err
			}
			return ch.QueueBind(m.routingKey, m.routingKey, exchange, false, nil)
		})
		if err != nil {
			return err
		}
		s.declared[m.routingKey] = true
	}
	dc, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, m.routingKey, false, false, amqp.Publishing{
		ContentType:     "application/json",
		ContentEncoding: "utf-8",
		DeliveryMode:    amqp.Persistent,
		Body:            m.body,
	})
	if err != nil {
		return err
	}
	wait, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	acked, err := dc.WaitContext(wait)
	switch {
	case err != nil:
		return fmt.Errorf("no confirm from the broker within %s: %w", confirmTimeout, err)
	case acked:
		return nil
	case s.ch.IsClosed():
		// amqp091 fails pending confirms when the channel goes away.
		return fmt.Errorf("connection lost before the broker confirmed")
	default:
		return errNacked
	}
}

// close ends the connection without waiting long for a broker that no
// longer answers.
func (s *session) close() {
	_ = s.conn.CloseDeadline(time.Now().Add(time.Second))
}
